/**
 * The chat of one call as the UI shows it: entries oldest first, at most {@link MAX_CHAT_HISTORY}, each fired as
 * `vc-chat-message`, with the renders they ask for coalesced to one per animation frame (a flood of messages costs at
 * most one render per frame, not one per message). What goes over the wire is `peer-channel.ts`'s. No DOM beyond
 * `requestAnimationFrame`.
 *
 * @module
 */
import { ChatMessageEvent } from '../events.js';
import type { ChatEntry } from '../types.js';
import type { CallHost } from './types.js';

/** Chat messages kept in memory per call (older ones are dropped). */
export const MAX_CHAT_HISTORY = 500;

/**
 * Longest chat message, in characters (UTF-16 code units): the wire limit `MAX_CHAT_LENGTH` of protocol/data-channel.ts
 * (a unit test keeps them equal). Repeated here so that the script-tag file does not carry the data channel parser,
 * which only the engine chunk needs.
 */
export const MAX_CHAT_LENGTH = 2000;

export class ChatLog {
  /** The entries, oldest first. */
  entries: readonly ChatEntry[] = [];
  #host: CallHost;
  /** An update was just requested: further ones wait for the next animation frame (see {@link add}). */
  #frame = false;
  /** An entry arrived while {@link #frame}: update once more when that frame comes. */
  #dirty = false;

  constructor(host: CallHost) {
    this.#host = host;
  }

  /** Whether `peerId` (null: this visitor) already said a message with this `id`. */
  has(peerId: string | null, id: string): boolean {
    return this.entries.some((c) => c.peerId === peerId && c.id === id);
  }

  /**
   * Adds an entry and fires its event at once; the update it asks for is coalesced: an entry after a quiet frame
   * updates at once, later ones wait for the next animation frame, which updates once for all of them.
   */
  add(entry: ChatEntry): void {
    this.entries = [...this.entries, entry].slice(-MAX_CHAT_HISTORY);
    this.#host.dispatch(new ChatMessageEvent(entry));
    if (this.#frame) {
      this.#dirty = true;
      return;
    }
    this.#host.requestUpdate();
    this.#awaitFrame();
  }

  /** Forgets every entry (the call ended). */
  clear(): void {
    this.entries = [];
  }

  /** Holds chat-driven updates until the next animation frame, then makes the one owed (and holds again). */
  #awaitFrame(): void {
    this.#frame = true;
    const nextFrame = globalThis.requestAnimationFrame ?? ((callback: () => void) => setTimeout(callback, 16));
    nextFrame(() => {
      if (!this.#dirty) {
        this.#frame = false;
        return;
      }
      this.#dirty = false;
      this.#host.requestUpdate();
      this.#awaitFrame();
    });
  }
}
