/**
 * Receiver-driven sending, the receiver's side: tells each peer how large this element shows its camera video, or
 * that it shows none of it, as a data-channel `view` (docs/protocol.md; the sender fits its encoding for us to it in
 * `call/receiver-view.ts`). A Lit reactive controller in its own chunk (`video-chat-view-observer-<hash>.js`), loaded
 * by the element when the call first has a peer; it finds the remote videos after each render by their
 * `data-peer-id` (the hook `tiles.ts` already sets), so the tiles carry nothing for it.
 *
 * A video counts as hidden when it is not rendered (`display: none` anywhere above it: a 0 × 0 box for
 * `ResizeObserver`), scrolled out of the viewport (`IntersectionObserver`), covered by another tile in full screen,
 * in a background tab (`document.hidden`, Page Visibility), or in audio-only; a video in Picture-in-Picture is always
 * shown at full size. Sizes are device pixels (CSS px × `devicePixelRatio`), each side rounded up to
 * {@link VIEW_SIZES}; a change is sent {@link VIEW_DEBOUNCE_MS} after the last change, only when the rounded view of
 * that peer differs from the last one sent to it. The size is the picture's as drawn ({@link drawnSize}): the box for
 * `object-fit: cover` (the sender keeps the box's size in the picture's smaller direction), the letterboxed picture
 * for `object-fit: contain` (a pinned tile: no more pixels are sent than it draws). It also fits the self-view's clone
 * of the camera to the self-view's tile (`self-view.ts`): nothing is sent for it.
 *
 * @module
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { CallController } from '../call/call-controller.js';
import { fitSelfView } from './self-view.js';

/** Sizes (device px) each side of a `view` is rounded up to; a side beyond the last is sent as the last. */
export const VIEW_SIZES = [90, 180, 270, 360, 540, 720, 1080, 1440, 2160] as const;

/** Quiet time after the last change before a `view` goes out, ms (a resize or a scroll sends one message). */
export const VIEW_DEBOUNCE_MS = 300;

/** The element the controller serves: a Lit host whose shadow root holds the videos. */
export type ViewHost = ReactiveControllerHost & { readonly renderRoot: ParentNode };

const round = (px: number): number => VIEW_SIZES.find((s) => s >= px) ?? 2160;
/** CSS px to device px. */
const scaled = ({ width, height }: { width: number; height: number }) => ({
  width: width * devicePixelRatio,
  height: height * devicePixelRatio,
});

/**
 * The size a video's picture is drawn at in its CSS box (CSS px): for `object-fit: contain` (CSS Images 3) the video's
 * own aspect ratio fitted inside the box, once its size is known (`videoWidth`); otherwise the box itself.
 */
export function drawnSize(
  box: { width: number; height: number },
  video: { width: number; height: number },
  fit: string,
): { width: number; height: number } {
  if (fit !== 'contain' || !video.width || !video.height) return box;
  const scale = Math.min(box.width / video.width, box.height / video.height);
  return { width: video.width * scale, height: video.height * scale };
}

export class ViewObserver implements ReactiveController {
  readonly #host: ViewHost;
  readonly #call: CallController;
  /** CSS px box of each observed video (from ResizeObserver). */
  readonly #boxes = new Map<HTMLVideoElement, { width: number; height: number }>();
  /** Whether each observed video intersects the viewport (from IntersectionObserver). */
  readonly #onScreen = new Map<Element, boolean>();
  /** The last view sent to each peer (JSON of the size, or 'null' for hidden). */
  readonly #sent = new Map<string, string>();
  readonly #resize = new ResizeObserver((entries) => {
    for (const e of entries)
      this.#boxes.set(e.target as HTMLVideoElement, { width: e.contentRect.width, height: e.contentRect.height });
    this.#schedule();
  });
  readonly #intersect = new IntersectionObserver((entries) => {
    for (const e of entries) this.#onScreen.set(e.target, e.isIntersecting);
    this.#schedule();
  });
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #schedule = (): void => {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#flush(), VIEW_DEBOUNCE_MS);
  };

  constructor(host: ViewHost, call: CallController) {
    this.#call = call;
    (this.#host = host).addController(this);
    this.hostConnected();
    this.hostUpdated();
  }

  hostConnected(): void {
    document.addEventListener('visibilitychange', this.#schedule);
  }

  hostDisconnected(): void {
    document.removeEventListener('visibilitychange', this.#schedule);
    clearTimeout(this.#timer);
    this.#resize.disconnect();
    this.#intersect.disconnect();
    for (const video of this.#boxes.keys()) video.removeEventListener('resize', this.#schedule);
    this.#boxes.clear();
    this.#onScreen.clear();
    this.#sent.clear(); // a call after re-insertion starts over: every peer hears our view again
  }

  /** Observes the videos rendered now, forgets the ones gone, and re-checks (audio-only, full screen may have changed). */
  hostUpdated(): void {
    const videos = new Set(this.#videos());
    for (const video of videos) {
      if (this.#boxes.has(video)) continue;
      this.#boxes.set(video, { width: 0, height: 0 });
      this.#resize.observe(video);
      this.#intersect.observe(video);
      video.addEventListener('resize', this.#schedule); // its picture's size known or changed (a letterboxed one)
    }
    for (const video of this.#boxes.keys()) {
      if (videos.has(video)) continue;
      video.removeEventListener('resize', this.#schedule);
      this.#resize.unobserve(video);
      this.#intersect.unobserve(video);
      this.#boxes.delete(video);
      this.#onScreen.delete(video);
    }
    this.#schedule();
  }

  #videos(): HTMLVideoElement[] {
    return [
      ...this.#host.renderRoot.querySelectorAll<HTMLVideoElement>(
        'video[part~="remote-video"][data-peer-id], video[part~="local-video"]',
      ),
    ];
  }

  /** Sends each peer its view where it changed. */
  #flush(): void {
    const root = this.#host.renderRoot as ShadowRoot;
    const fullscreen = root.fullscreenElement;
    const peers = new Set(this.#call.peers.map((p) => p.id));
    for (const video of this.#videos()) {
      const id = video.dataset['peerId'];
      const box = this.#boxes.get(video);
      if (id === undefined) {
        // The self-view: its clone of the camera drawn at what the tile needs (self-view.ts).
        const shown = (video.srcObject as MediaStream | null)?.getVideoTracks()[0];
        if (shown && box) void fitSelfView(shown, this.#call.media.track('video'), scaled(box));
        continue;
      }
      let size: { width: number; height: number } | null = null;
      if (root.pictureInPictureElement === video) {
        size = { width: round(Infinity), height: round(Infinity) };
      } else if (
        box?.width &&
        box.height &&
        this.#onScreen.get(video) &&
        !document.hidden &&
        !this.#call.audioOnly &&
        (!fullscreen || fullscreen.contains(video))
      ) {
        const { objectFit } = getComputedStyle(video);
        const drawn = drawnSize(box, { width: video.videoWidth, height: video.videoHeight }, objectFit);
        const px = scaled(drawn);
        size = { width: round(px.width), height: round(px.height) };
      }
      const key = JSON.stringify(size);
      if (!peers.has(id) || this.#sent.get(id) === key) continue;
      this.#sent.set(id, key);
      this.#call.sendView(id, size);
    }
    for (const id of this.#sent.keys()) if (!peers.has(id)) this.#sent.delete(id);
  }
}
