/**
 * The data channel wire of one peer, on the call's side (`protocol/data-channel.ts`): encodes what the call sends
 * (`state`, `chat`, `signal`, `rebind`, `view`, …) as JSON text, and hands every text that arrives to the receiver of
 * `peer-receive.ts` (`parsePeerMessage` behind a per-type receive limit). The {@link PeerSession} underneath carries
 * the text and knows nothing of it.
 *
 * In the call's on-demand engine chunk (exported by `engine.ts`, like PeerSession). The receiver is a chunk of its own
 * (`video-chat-peer-receive-<hash>.js`), loaded by {@link PeerChannel.load}: at the first connection (`mesh-peer.ts`)
 * or the first text received, whichever comes first. Texts that arrive before it are kept, in order, and handed to it
 * once it is there (the last {@link MAX_QUEUED_TEXTS}: older ones are dropped; a flood that fills the queue is
 * reported as `peer-flood` by the receive limit when the queue is handed over, since more texts than the bursts of
 * every type together arrive at once). A chunk that
 * cannot be fetched is reported through `report` (`chunk-failed`, src/chunk.ts) and the peer's messages are not read.
 * No DOM.
 *
 * @module
 */
import { chunk, type ChunkReport } from '../chunk.js';
import type { Warning } from '../errors.js';
import type { PeerMessage } from '../protocol/data-channel.js';

export interface PeerChannelOptions {
  /** Sends one text message on the peer's data channel (`PeerSession.sendChannelText`). */
  send: (text: string) => void;
  /** Called with every valid message that passed the receive limit, in the order received. */
  onMessage: (message: PeerMessage) => void;
  /**
   * Called with `bad-peer-message` for each malformed message (dropped), and with `peer-flood` when messages of one
   * type start being dropped by the receive limit: once per flood (again only after the peer kept within the limit
   * long enough for the bucket to refill, `burst / perSecond` s: 2 s).
   */
  onWarning: (warning: Warning) => void;
  /** Where a receiver chunk that cannot be fetched is reported (`chunk-failed`: the call's host, as `vc-error`). */
  report: ChunkReport;
}

/**
 * Most texts kept while the receiver's chunk loads: above the receive limit's bursts of every type together (7 × 20 +
 * 100 = 240), so that a flood that fills it is then reported by that limit.
 */
export const MAX_QUEUED_TEXTS = 300;

/** The `state`/`chat`/`signal`/`rebind`/`view`/… messages of one peer's data channel. */
export class PeerChannel {
  #options: PeerChannelOptions;
  /** The receiver, once its chunk is loaded. */
  #receive: ((text: string) => void) | undefined;
  /** Texts received before it, in order. */
  #queue: string[] = [];
  #loading: Promise<void> | undefined;

  constructor(options: PeerChannelOptions) {
    this.#options = options;
  }

  /** Sends a message (queued by the session until the channel is open). */
  send(message: PeerMessage): void {
    this.#options.send(JSON.stringify(message));
  }

  /** Takes one text message from the peer's data channel (untrusted). Never throws. */
  receive(text: string): void {
    if (this.#receive) return this.#receive(text);
    void this.load();
    // Full: the oldest text goes (a flood's last message, such as a mute after it, is the one to keep).
    if (this.#queue.push(text) > MAX_QUEUED_TEXTS) this.#queue.shift();
  }

  /**
   * Loads the receiver's chunk (once per channel) and hands it the texts kept so far.
   * @returns settles when they were handled; stays pending when the chunk cannot be fetched (reported).
   */
  load(): Promise<void> {
    return (this.#loading ??= chunk('peer-receive', () => import('./peer-receive.js'), this.#options.report).then(
      (m) => {
        this.#receive = m.receiver(this.#options);
        for (const text of this.#queue.splice(0)) this.#receive(text);
      },
    ));
  }
}
