/**
 * Playback of the remote videos, as a Lit reactive controller: after each render it starts every remote and screen
 * video that is paused, on the chosen speaker. Where the browser blocks sound without a click (autoplay policy), it
 * plays them muted and sets {@link PlaybackController.soundBlocked}, for the "click to enable sound" button; that
 * button calls {@link PlaybackController.enableSound}.
 * @module
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** The element the controller serves: a Lit host whose shadow root holds the videos. */
export type PlaybackHost = ReactiveControllerHost & { readonly renderRoot: ParentNode };

const REMOTE = 'video[part~="remote-video"]';

export class PlaybackController implements ReactiveController {
  /** The browser blocked sound without a click: the "enable sound" button is shown. */
  soundBlocked = false;
  readonly #host: PlaybackHost;
  /** The chosen speaker's `deviceId` (W3C Audio Output Devices API); undefined or '' for the default. */
  readonly #sink: () => string | undefined;

  constructor(host: PlaybackHost, sink: () => string | undefined) {
    (this.#host = host).addController(this);
    this.#sink = sink;
  }

  /** Starts remote videos; where the browser blocks sound without a click, plays them muted and offers a button. */
  hostUpdated(): void {
    const sink = this.#sink();
    for (const video of this.#host.renderRoot.querySelectorAll<HTMLVideoElement>(
      `${REMOTE}, video[part~="screen-video"]`,
    )) {
      // '' is the default speaker, which every video starts with.
      if (sink && video.sinkId !== sink) video.setSinkId(sink).catch(() => undefined);
      if (!video.paused || video.dataset['starting']) continue;
      video.dataset['starting'] = '1';
      video.play().then(
        () => delete video.dataset['starting'],
        (error: unknown) => {
          delete video.dataset['starting'];
          if (!(error instanceof Error) || error.name !== 'NotAllowedError') return;
          video.muted = true;
          void video.play().catch(() => undefined);
          if (!this.soundBlocked) {
            this.soundBlocked = true;
            this.#host.requestUpdate();
          }
        },
      );
    }
  }

  /** The "enable sound" button (a click: the browser now allows sound): unmutes and plays the remote videos. */
  readonly enableSound = (): void => {
    this.soundBlocked = false;
    for (const video of this.#host.renderRoot.querySelectorAll<HTMLVideoElement>(REMOTE)) {
      video.muted = false;
      void video.play().catch(() => undefined);
    }
    this.#host.requestUpdate();
  };
}
