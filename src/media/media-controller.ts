/**
 * Local media: asks for camera and microphone (W3C Media Capture and Streams `getUserMedia`), falls back to what is
 * available, mutes and unmutes, and stops every track when released. No DOM beyond `navigator.mediaDevices`.
 *
 * @module
 */
import { mediaError, type VideoChatError } from '../errors.js';

/** Default capture: a size and rate that a 6-peer mesh can carry on an ordinary uplink. */
export const DEFAULT_CONSTRAINTS: MediaStreamConstraints = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24, max: 30 } },
};

export class MediaController {
  /** The local stream (possibly audio only or video only), or null when nothing could be captured. */
  stream: MediaStream | null = null;
  /** Why capture failed or is partial; null when both camera and microphone work. */
  error: VideoChatError | null = null;
  #microphoneEnabled = true;
  #cameraEnabled = true;
  #onChange: () => void;

  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  /**
   * Captures camera and microphone. Never rejects: if both cannot be had it tries each alone, and if nothing works it
   * leaves `stream` null and sets `error` (the call goes on receive-only).
   */
  async start(constraints: MediaStreamConstraints = DEFAULT_CONSTRAINTS): Promise<void> {
    this.stop();
    this.error = null;
    const devices = navigator.mediaDevices;
    if (!devices?.getUserMedia) {
      this.error = mediaError(Object.assign(new Error('getUserMedia is unavailable (insecure context?)'),
        { name: 'SecurityError' }));
      this.#onChange();
      return;
    }
    let firstError: unknown;
    for (const attempt of [constraints, { audio: constraints.audio }, { video: constraints.video }]) {
      if (!attempt.audio && !attempt.video) continue;
      try {
        this.stream = await devices.getUserMedia(attempt);
        break;
      } catch (error) {
        firstError ??= error;
        // A refusal covers every device: asking again for one alone would only prompt again.
        if (error instanceof Error && (error.name === 'NotAllowedError' || error.name === 'SecurityError')) break;
      }
    }
    if (firstError !== undefined) this.error = mediaError(firstError);
    this.#apply();
    this.#onChange();
  }

  /** The live local track of a kind, if any. */
  track(kind: 'audio' | 'video'): MediaStreamTrack | null {
    return (kind === 'audio' ? this.stream?.getAudioTracks() : this.stream?.getVideoTracks())?.[0] ?? null;
  }

  get microphoneEnabled(): boolean {
    return this.#microphoneEnabled && this.track('audio') !== null;
  }

  get cameraEnabled(): boolean {
    return this.#cameraEnabled && this.track('video') !== null;
  }

  /** Mutes or unmutes the microphone (`track.enabled`: silence is sent, no renegotiation). */
  setMicrophoneEnabled(enabled: boolean): void {
    this.#microphoneEnabled = enabled;
    this.#apply();
    this.#onChange();
  }

  /** Turns the camera picture on or off (`track.enabled`: black frames are sent, no renegotiation). */
  setCameraEnabled(enabled: boolean): void {
    this.#cameraEnabled = enabled;
    this.#apply();
    this.#onChange();
  }

  /** Stops every local track (the camera light goes off). */
  stop(): void {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
  }

  #apply(): void {
    for (const track of this.stream?.getAudioTracks() ?? []) track.enabled = this.#microphoneEnabled;
    for (const track of this.stream?.getVideoTracks() ?? []) track.enabled = this.#cameraEnabled;
  }
}
