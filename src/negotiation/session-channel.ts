/**
 * The text data channel of a {@link PeerSession}: one negotiated channel per connection (both sides create it with the
 * same id, W3C WebRTC §6.2 `negotiated`, so it rides on the first offer with no extra round trip), an outbox for text
 * sent before it opens, and whether the peer was heard on it. What the text means is the call layer's. No DOM beyond
 * WebRTC.
 *
 * @module
 */
import { DATA_CHANNEL } from '../protocol/negotiation.js';
import type { PeerSessionOptions } from './session-options.js';

/** Most messages held while the channel is not open (then the oldest are dropped). */
const MAX_OUTBOX = 100;

/** What the channel reports: text and opening to the caller (the session's options), a binary message as a failure. */
type ChannelEvents = Pick<PeerSessionOptions, 'onChannelText' | 'onChannelOpen'>;

/** The channel of the session's current connection. */
export class SessionChannel {
  #channel: RTCDataChannel | undefined;
  /**
   * Whether the peer has sent anything on the current channel. A negotiated channel opens on our side even when the
   * peer never created its own (a peer written from the docs may leave the channel out), so only a message from it
   * proves it reads the channel.
   */
  #heard = false;
  #outbox: string[] = [];
  readonly #events: ChannelEvents;
  readonly #onBinary: () => void;

  constructor(events: ChannelEvents, onBinary: () => void) {
    this.#events = events;
    this.#onBinary = onBinary;
  }

  /** Whether the channel is open and the peer was heard on it. */
  get heard(): boolean {
    return this.#heard && this.#channel?.readyState === 'open';
  }

  /** Creates the channel of connection `pc`; its events count only while `current()` (pc is the session's). */
  open(pc: RTCPeerConnection, current: () => boolean): void {
    const channel = pc.createDataChannel(DATA_CHANNEL.label, { negotiated: true, id: DATA_CHANNEL.id });
    this.#channel = channel;
    this.#heard = false;
    channel.onopen = () => {
      if (!current()) return;
      const outbox = this.#outbox;
      this.#outbox = [];
      for (const text of outbox) channel.send(text);
      this.#events.onChannelOpen?.();
    };
    channel.onmessage = ({ data }: MessageEvent) => {
      if (!current()) return;
      this.#heard = true;
      if (typeof data === 'string') this.#events.onChannelText?.(data);
      else this.#onBinary();
    };
  }

  /** Sends `text`, or holds it in the outbox (at most {@link MAX_OUTBOX}) until the channel opens. */
  send(text: string): void {
    if (this.#channel?.readyState === 'open') this.#channel.send(text);
    else this.#outbox = [...this.#outbox, text].slice(-MAX_OUTBOX);
  }
}
