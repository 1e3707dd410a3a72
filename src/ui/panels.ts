/**
 * The element's on-demand parts, as a Lit reactive controller: the chat panel (`chat-panel.ts`: `chat.ts` and its
 * form's action), the device panel and pre-join screen (`devices-panel.ts`: `devices.ts` and its controls' actions)
 * and the room UI of hosts and guests (`room.ts`), each a chunk of its own fetched
 * once when first needed, its styles adopted into the element's shadow root (Lit's `adoptStyles`: constructable
 * stylesheets, which a page's CSP does not block); and the receiver's half of receiver-driven sending
 * (`view-observer.ts`, docs/bandwidth.md), loaded with the first connected peer. The element decides when each is needed; this
 * module loads them (src/chunk.ts) and keeps what arrived, or the failure (`chunk-failed`: fired as `vc-error` on the
 * element; the element shows it where the panel would be). The room UI and the view observer are asked for once per
 * element (by every render: a retry there would be a loop); the chat and the devices again at the next click.
 * @module
 */
import {
  adoptStyles,
  html,
  nothing,
  type TemplateResult,
  type CSSResult,
  type CSSResultOrNative,
  type ReactiveController,
  type ReactiveControllerHost,
} from 'lit';
import type { CallController } from '../call/call-controller.js';
import { chunk } from '../chunk.js';
import { VideoChatErrorEvent } from '../events.js';
import type { VideoChatError } from '../errors.js';
import type { RoomUi, View } from './view.js';
import type { ViewHost } from './view-observer.js';

/** The element the panels serve: a Lit host with a shadow root and its own static styles. */
export type PanelsHost = ReactiveControllerHost &
  ViewHost &
  EventTarget & { readonly renderRoot: HTMLElement | DocumentFragment };

export class Panels implements ReactiveController {
  /** The chat panel and its form's action, once fetched (the unread count needs none of it). */
  chat: typeof import('./chat-panel.js') | undefined;
  /** The pre-join screen and the device settings panel with their actions, once fetched. */
  devices: typeof import('./devices-panel.js') | undefined;
  /** Hosts, hands and reactions, once fetched (see {@link room}). */
  #room: RoomUi | undefined;
  #roomLoading = false;
  /** The styles of the element, then of each panel loaded so far. */
  readonly #styles: (readonly CSSResultOrNative[])[];
  readonly #host: PanelsHost;
  readonly #call: CallController;
  #views: Promise<unknown> | undefined;
  /**
   * The last panel (or the view observer) whose chunk could not be fetched (`chunk-failed`, also fired as `vc-error`),
   * until a panel arrives: the element says so where the panel would be. Asking for the chat or the devices again
   * tries once more (src/chunk.ts).
   */
  failed: VideoChatError | undefined;
  /** The embed doctor's list (attribute `debug`), set by its chunk (src/doctor.ts). */
  report: ((v: View) => TemplateResult | typeof nothing) | undefined;
  /** A chunk failed: told on the element and shown; nothing else changes (the call goes on). */
  readonly #fail = (error: VideoChatError) => {
    this.failed = error;
    this.#host.dispatchEvent(new VideoChatErrorEvent(error));
    this.#host.requestUpdate();
  };

  constructor(host: PanelsHost, call: CallController, elementStyles: readonly CSSResultOrNative[]) {
    (this.#host = host).addController(this);
    this.#call = call;
    this.#styles = [elementStyles];
  }

  /**
   * Receiver-driven sending: the view observer (its own chunk) from the first connected peer on: a `view` travels on
   * the data channel, and its chunk and observers would only add main-thread work to the offer/answer exchange.
   */
  hostUpdate(): void {
    if (this.#call.peers.some((p) => p.connection == 'connected'))
      this.#views ??= chunk('view-observer', () => import('./view-observer.js'), this.#fail).then(
        (m) => new m.ViewObserver(this.#host, this.#call),
      );
  }

  /** Adds a panel's styles to the element's own (each list once). */
  adopt(styles: readonly CSSResult[]): void {
    if (this.#styles.includes(styles)) return;
    this.#styles.push(styles);
    const root = this.#host.renderRoot;
    if (root instanceof ShadowRoot) adoptStyles(root, this.#styles.flat());
  }

  loadChat(): void {
    if (!this.chat)
      void chunk('chat-panel', () => import('./chat-panel.js'), this.#fail).then((ui) =>
        this.#arrived((this.chat = ui)),
      );
  }

  loadDevices(): void {
    void chunk('devices-panel', () => import('./devices-panel.js'), this.#fail).then((ui) =>
      this.#arrived((this.devices = ui)),
    );
    this.#host.requestUpdate();
  }

  /** The room UI while the call has its hosts model; fetched the first time it is asked for. */
  get room(): RoomUi | undefined {
    if (!this.#call.hosts) return undefined;
    if (!this.#room && !this.#roomLoading) {
      this.#roomLoading = true;
      void chunk('room', () => import('./room.js'), this.#fail).then((ui) => this.#arrived((this.#room = ui)));
    }
    return this.#room;
  }

  #arrived(ui: { readonly styles: readonly CSSResult[] }): void {
    this.failed = undefined;
    this.adopt(ui.styles);
    this.#host.requestUpdate();
  }
}

/** Where the panel would be, when its chunk could not be fetched: the error's text (a locale's, else its message). */
export function renderPanelError(v: View, error: VideoChatError | undefined): TemplateResult | typeof nothing {
  return error
    ? html`<p part="panel-error" class="error" role="alert">${v.t.errors[error.code] ?? error.message}</p>`
    : nothing;
}
