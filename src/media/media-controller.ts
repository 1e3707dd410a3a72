/**
 * Local media: asks for camera and microphone (W3C Media Capture and Streams `getUserMedia`), falls back to what is
 * available, lists and switches devices (`enumerateDevices`, `devicechange`), mutes and unmutes, notices a device that
 * goes away (track `ended`), and stops every track when released. No DOM beyond `navigator.mediaDevices`.
 *
 * @module
 */
import {
  blockedByPageError,
  deviceLostError,
  insecureContextError,
  mediaError,
  screenShareError,
  type VideoChatError,
} from '../errors.js';
import { Latest } from '../latest.js';

/** Camera or microphone, as a track kind. */
export type CaptureKind = 'audio' | 'video';

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
  /**
   * What the local tile shows: the camera track alone (a muted `<video>` given the microphone too still runs an audio
   * output for it), or what the maker given to {@link setPreview} makes of it (`media/preview.ts`: a smaller, slower
   * clone). Null without a camera. A new MediaStream whenever the shown track changes, so previews rebind.
   */
  preview: MediaStream | null = null;
  #previewOf?: ((camera: MediaStreamTrack) => MediaStreamTrack) | undefined;
  /** The screen being shared, or null. */
  screen: MediaStream | null = null;
  #screenTrack: MediaStreamTrack | null = null;
  #ownsScreen = false;
  /** The media devices from the last `enumerateDevices()` (labels are empty until access was granted once). */
  devices: MediaDeviceInfo[] = [];
  /** `deviceId`s chosen by {@link setDevice}, by `MediaDeviceInfo.kind`; none: the browser's default. */
  readonly chosen: Partial<Record<MediaDeviceKind, string>> = {};
  /** Started by start(), stopped by stop(): camera and microphone are wanted; a capture finishing after either is stale. */
  #runs = new Latest();
  #microphoneEnabled = true;
  #cameraEnabled = true;
  #onChange: () => void;
  #onScreenEnded: () => void;
  #onTrack: (kind: CaptureKind, track: MediaStreamTrack | null) => void;

  /**
   * @param onChange something about local media changed.
   * @param onScreenEnded the screen share ended by itself (the browser's own "Stop sharing" button, a closed window).
   * @param onTrack the live camera or microphone track changed during capture: replaced by {@link setDevice}, or
   *   `null` when the device went away (unplugged; `error` is then `device-lost`).
   */
  constructor(
    onChange: () => void,
    onScreenEnded: () => void = () => undefined,
    onTrack: (kind: CaptureKind, track: MediaStreamTrack | null) => void = () => undefined,
  ) {
    this.#onChange = onChange;
    this.#onScreenEnded = onScreenEnded;
    this.#onTrack = onTrack;
  }

  /** `devicechange` listener (W3C Media Capture and Streams): the device lists are read again. */
  readonly #onDeviceChange = (): void => void this.refreshDevices();

  /** Refreshes {@link devices} (W3C Media Capture and Streams `enumerateDevices`). Never rejects. */
  readonly refreshDevices = async (): Promise<MediaDeviceInfo[]> => {
    this.devices = (await navigator.mediaDevices?.enumerateDevices().catch(() => [])) ?? [];
    this.#onChange();
    return this.devices;
  };

  /**
   * Chooses the camera (`videoinput`), microphone (`audioinput`) or speaker (`audiooutput`; applied by the UI with
   * `HTMLMediaElement.setSinkId`). While capturing, a camera or microphone is switched at once: a new track from
   * `getUserMedia({deviceId: {exact}})` replaces the old one (which is stopped) in {@link stream}, keeps its mute state,
   * and is reported through `onTrack`. Before {@link start} the choice is only remembered.
   * @throws {VideoChatError} `no-device`, `device-busy` or `permission-denied` when the device cannot be started (the
   *   old track keeps going; `error` is set).
   */
  async setDevice(kind: MediaDeviceKind, deviceId: string): Promise<void> {
    const type = kind === 'audioinput' ? 'audio' : 'video';
    const run = this.#runs.current;
    if (kind !== 'audiooutput' && run) {
      let track: MediaStreamTrack | undefined;
      try {
        [track] = (
          await navigator.mediaDevices.getUserMedia({ [type]: this.#constraints(type, { exact: deviceId }) })
        ).getTracks();
      } catch (cause) {
        this.error = mediaError(cause);
        this.#onChange();
        throw this.error;
      }
      if (run.aborted || !track) return track?.stop(); // stopped or restarted meanwhile
      this.track(type)?.stop();
      this.#adopt([...(this.stream?.getTracks().filter((t) => t.kind !== type) ?? []), track]);
      if (this.track('audio') && this.track('video')) this.error = null;
      this.#onTrack(type, track);
    }
    this.chosen[kind] = deviceId;
    this.#onChange();
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
        throw screenShareError(
          Object.assign(new Error('screen sharing is not supported here'), { name: 'NotSupportedError' }),
        );
      }
      try {
        stream = await navigator.mediaDevices.getDisplayMedia({
          video: { frameRate: { ideal: 15, max: 30 } },
          audio: false,
        });
      } catch (error) {
        // Closing the picker is a choice, not an error (browsers report it as NotAllowedError or AbortError).
        if (error instanceof Error && (error.name === 'AbortError' || (error.name === 'NotAllowedError' && !source)))
          return null;
        throw screenShareError(error);
      }
    }
    const track = stream.getVideoTracks()[0];
    if (!track)
      throw screenShareError(Object.assign(new Error('the source has no video track'), { name: 'NotFoundError' }));
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
      previous?.call(this, event);
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
   * Captures camera and microphone (the chosen devices where set, as `ideal`: another one when it is gone), replacing
   * any capture before; a screen share goes on. Never rejects: if both cannot be had it tries the microphone alone,
   * then the camera alone (`{audio, video}`, `{audio}`, `{video}`; a `NotAllowedError` or `SecurityError` ends the
   * tries at once), and if nothing works it leaves `stream` null. `error` is set from the first failure (also when one
   * kind alone worked); the call goes on with what there is, receive-only at worst.
   */
  async start(): Promise<void> {
    this.#release();
    const run = this.#runs.start();
    this.error = null;
    // Where browsers offer no capture at all, say why, so the site owner knows what to fix (a visitor cannot).
    if (!globalThis.isSecureContext) {
      this.error = insecureContextError();
      this.#onChange();
      return;
    }
    const allowed = { audio: pageAllows('microphone'), video: pageAllows('camera') };
    if (!allowed.audio && !allowed.video) {
      this.error = blockedByPageError();
      this.#onChange();
      return;
    }
    const devices = navigator.mediaDevices;
    if (!devices?.getUserMedia) {
      this.error = mediaError(
        Object.assign(new Error('getUserMedia is unavailable (insecure context?)'), { name: 'SecurityError' }),
      );
      this.#onChange();
      return;
    }
    devices.addEventListener('devicechange', this.#onDeviceChange);
    const audio = this.#constraints('audio', { ideal: this.chosen.audioinput });
    const video = this.#constraints('video', { ideal: this.chosen.videoinput });
    let firstError: unknown;
    let stream: MediaStream | null = null;
    // Only what the page's Permissions-Policy allows: asking for a blocked kind fails the whole request.
    const attempts =
      allowed.audio && allowed.video
        ? [{ audio, video }, { audio }, { video }]
        : allowed.audio
          ? [{ audio }]
          : [{ video }];
    for (const attempt of attempts) {
      try {
        stream = await devices.getUserMedia(attempt);
        break;
      } catch (error) {
        firstError ??= error;
        // A refusal covers every device: asking again for one alone would only prompt again.
        if (error instanceof Error && (error.name === 'NotAllowedError' || error.name === 'SecurityError')) break;
      }
    }
    if (run.aborted) return stream?.getTracks().forEach((t) => t.stop()); // stopped or restarted meanwhile
    if (stream) this.#adopt(stream.getTracks());
    if (firstError !== undefined) this.error = mediaError(firstError);
    this.#onChange();
    void this.refreshDevices(); // labels are known now
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

  /**
   * Makes {@link preview} from the camera with `make` from now on (undefined: the camera itself), now and whenever the
   * local tracks change; a track it made is stopped when replaced or released. The sent camera track is never changed.
   * The tile hides the preview while the camera is off, so a made track need not follow mute.
   */
  setPreview(make?: (camera: MediaStreamTrack) => MediaStreamTrack): void {
    this.#previewOf = make;
    this.#adopt(this.stream?.getTracks() ?? []);
    this.#onChange();
  }

  /** Stops every local track (the camera light goes off) and any screen share. */
  stop(): void {
    this.#release();
    this.#runs.stop();
    navigator.mediaDevices?.removeEventListener('devicechange', this.#onDeviceChange);
    this.stopScreenShare();
  }

  #release(): void {
    for (const track of [...(this.stream?.getTracks() ?? []), ...(this.preview?.getTracks() ?? [])]) track.stop();
    this.stream = this.preview = null;
  }

  #constraints(kind: CaptureKind, deviceId: ConstrainDOMStringParameters): MediaTrackConstraints {
    return { ...(DEFAULT_CONSTRAINTS[kind] as MediaTrackConstraints), deviceId };
  }

  /**
   * Makes `tracks` the local stream (a new MediaStream, so previews rebind), applies the mute state, and watches each
   * track for `ended`: a device unplugged or taken away ends its track by itself (W3C Media Capture §4.3.1.2).
   */
  #adopt(tracks: MediaStreamTrack[]): void {
    this.stream = tracks.length ? new MediaStream(tracks) : null;
    const shown = this.preview?.getVideoTracks()[0];
    if (shown && !tracks.includes(shown)) shown.stop(); // a track the maker made, or a camera replaced
    const camera = this.track('video');
    const track = camera && (this.#previewOf?.(camera) ?? camera);
    this.preview = track && new MediaStream([track]);
    this.#apply();
    for (const track of tracks) {
      // Firefox ESR 153 hands a dispatched 'ended' to the onended handler only: use it (these tracks are ours alone).
      track.onended = () => {
        const kind = track.kind as CaptureKind;
        if (this.track(kind) !== track) return; // replaced or stopped already
        track.stop();
        this.#adopt(this.stream?.getTracks().filter((t) => t !== track) ?? []);
        this.error = deviceLostError(kind);
        this.#onTrack(kind, null);
        this.#onChange();
      };
    }
  }

  #apply(): void {
    for (const track of this.stream?.getAudioTracks() ?? []) track.enabled = this.#microphoneEnabled;
    for (const track of this.stream?.getVideoTracks() ?? []) track.enabled = this.#cameraEnabled;
  }
}

/**
 * Whether the page's Permissions-Policy (W3C Permissions Policy; `document.featurePolicy` in Chromium) allows
 * `feature` in this document. `true` where the browser cannot say (Firefox): getUserMedia then answers for it.
 */
function pageAllows(feature: 'camera' | 'microphone'): boolean {
  const policy = (document as Document & { featurePolicy?: { allowsFeature(name: string): boolean } }).featurePolicy;
  return policy?.allowsFeature(feature) ?? true;
}
