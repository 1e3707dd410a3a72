/**
 * Local media: asks for camera and microphone (W3C Media Capture and Streams `getUserMedia`), falls back to what is
 * available, mutes and unmutes, and stops every track when released. No DOM beyond `navigator.mediaDevices`.
 *
 * @module
 */
import { mediaError, screenShareError, type VideoChatError } from '../errors.js';

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
  /** The screen being shared, or null. */
  screen: MediaStream | null = null;
  #screenTrack: MediaStreamTrack | null = null;
  #ownsScreen = false;
  #microphoneEnabled = true;
  #cameraEnabled = true;
  #onChange: () => void;
  #onScreenEnded: () => void;

  /**
   * @param onChange something about local media changed.
   * @param onScreenEnded the screen share ended by itself (the browser's own "Stop sharing" button, a closed window).
   */
  constructor(onChange: () => void, onScreenEnded: () => void = () => undefined) {
    this.#onChange = onChange;
    this.#onScreenEnded = onScreenEnded;
  }

  /**
   * Starts sharing the screen (W3C Screen Capture `getDisplayMedia`, video only) or, when given, `source`'s first video
   * track (a canvas, a window the page captured itself, …).
   * @returns the shared track, or null when the visitor cancelled the picker.
   * @throws {VideoChatError} `permission-denied` when capture is blocked, `no-device` when the browser cannot share.
   */
  async startScreenShare(source?: MediaStream): Promise<MediaStreamTrack | null> {
    this.stopScreenShare();
    let stream = source ?? null;
    if (!stream) {
      if (!navigator.mediaDevices?.getDisplayMedia) {
        throw screenShareError(Object.assign(new Error('screen sharing is not supported here'), { name: 'NotSupportedError' }));
      }
      try {
        stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
      } catch (error) {
        // Closing the picker is a choice, not an error (browsers report it as NotAllowedError or AbortError).
        if (error instanceof Error && (error.name === 'AbortError' || (error.name === 'NotAllowedError' && !source))) return null;
        throw screenShareError(error);
      }
    }
    const track = stream.getVideoTracks()[0];
    if (!track) throw screenShareError(Object.assign(new Error('the source has no video track'), { name: 'NotFoundError' }));
    this.screen = new MediaStream([track]);
    this.#screenTrack = track;
    this.#ownsScreen = !source;
    const onEnded = (): void => {
      if (this.#screenTrack !== track) return; // already replaced or stopped (this also makes it run once)
      this.stopScreenShare();
      this.#onScreenEnded();
    };
    track.addEventListener('ended', onEnded);
    // Firefox ESR 153 hands a dispatched 'ended' to the onended handler only, not to listeners: cover both, keeping
    // any handler the page set on its own source.
    const previous = track.onended;
    track.onended = function (this: MediaStreamTrack, event: Event) {
      onEnded();
      return previous?.call(this, event);
    };
    this.#onChange();
    return track;
  }

  /** Stops sharing; tracks this controller captured are stopped, a caller's `source` is left running. */
  stopScreenShare(): void {
    if (!this.screen) return;
    if (this.#ownsScreen) this.#screenTrack?.stop();
    this.screen = null;
    this.#screenTrack = null;
    this.#onChange();
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

  /** Stops every local track (the camera light goes off) and any screen share. */
  stop(): void {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.stopScreenShare();
  }

  #apply(): void {
    for (const track of this.stream?.getAudioTracks() ?? []) track.enabled = this.#microphoneEnabled;
    for (const track of this.stream?.getVideoTracks() ?? []) track.enabled = this.#cameraEnabled;
  }
}
