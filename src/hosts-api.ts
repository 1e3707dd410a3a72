/**
 * The hosts' page API of `<video-chat>` (docs/protocol.md "Hosts and guests", docs/hosts.md): the methods a page calls
 * for hosts and guests, raised hands and reactions, with their events and CSS parts (between `call-api.ts`, the call's
 * page API, and the element). The model they drive (`call/hosts.ts`) is its own chunk: loaded in
 * a room with hosts as the relay says so, else on the first use of one of these methods (or of a button the
 * `controls` attribute lists), so a room without hosts never fetches it unless the page asks.
 *
 * Every host action is enforced by the relay: from a guest, or in a room without hosts (no room tokens with a `role`
 * claim), the relay answers `forbidden`, fired as `vc-error` `relay-error` ("The video chat server refused a message:
 * …"); the call goes on. Outside a call these methods do nothing.
 *
 * @module
 */
import { CallPageApi } from './call-api.js';
import type { Hosts } from './call/hosts.js';
import type { MediaKind } from './protocol/relay.js';

/**
 * The part of `<video-chat>` that hosts and guests use (see the module comment); `VideoChatElement` extends it.
 *
 * @fires {KnockEvent} vc-knock - Hosts: a guest knocked (`knock: {id, name}`, `outcome` null) or its knock left the
 *   waiting queue (`outcome`: `admitted`, `denied`, `cancelled`, `left`, `timeout`, `ended`).
 * @fires {AdmittedEvent} vc-admitted - A knocking guest was let in: on the guest (`knock` null) and on hosts (`knock`).
 * @fires {DeniedEvent} vc-denied - A knock was refused (`reason`: `denied`, `timeout`, `locked`, `ended`): on the guest
 *   (`knock` null; the banner says why) and on hosts (`knock`).
 * @fires {RemovedEvent} vc-removed - A host removed a participant: on that participant (`peer` null; the banner says
 *   so, without "Try again") and on the host who removed `peer: {id, name}`.
 * @fires {LockedEvent} vc-locked - A host locked (`locked` true) or unlocked the room.
 * @fires {HandEvent} vc-hand - A hand went up or down (`peerId`: null for this visitor; `raised`; `hands`: the raised
 *   hands in order).
 * @fires {ReactionEvent} vc-reaction - A reaction was shown (`peerId`: null for this visitor; `emoji`).
 *
 * @csspart people-button - Opens and closes the participant list (`aria-expanded`); the waiting queue's size on it
 *   for hosts (`unread` part).
 * @csspart hand-button - Raises or lowers this visitor's hand (`aria-pressed`).
 * @csspart react-button - Opens and closes the row of reactions (`aria-expanded`).
 * @csspart reactions - The row of reactions.
 * @csspart reaction-button - One reaction in that row.
 * @csspart reaction - A reaction floating up on the sender's tile (still under `prefers-reduced-motion`).
 * @csspart hand - A raised hand on a tile or in the list, with its place in the order.
 * @csspart waiting - The waiting screen of a guest who knocked ("Waiting for the host to let you in").
 * @csspart cancel-button - "Cancel" on the waiting screen: stops knocking and leaves.
 * @csspart people - The participant list.
 * @csspart participant - One person in the list.
 * @csspart role - "Host" beside a host's name.
 * @csspart media-state - A participant's microphone and camera state in the list.
 * @csspart knock - A guest waiting to join, in the hosts' list.
 * @csspart admit-button - Lets a waiting guest in (hosts).
 * @csspart deny-button - Refuses a waiting guest (hosts).
 * @csspart lower-hand-button - Lowers a raised hand (one's own; hosts: anyone's).
 * @csspart ask-unmute-button - Asks a muted participant to unmute (hosts); the participant decides.
 * @csspart remove-button - Removes a participant from the call (hosts).
 * @csspart lock-button - Locks or unlocks the room (hosts; `aria-pressed`).
 * @csspart end-button - Ends the call for everyone (hosts).
 * @csspart ask - A host's request to turn this visitor's microphone or camera on or off, with its two answers.
 * @csspart ask-accept-button - Turns the device on (or off) as the host asked.
 * @csspart ask-dismiss-button - Declines the host's request.
 */
export class HostsPageApi extends CallPageApi {
  /** Host: lets the guest of knock `knockId` (from `vc-knock`) in. Fires `vc-admitted` (here and on the guest). */
  admit(knockId: string): void {
    this.#hosts((h) => h.admit(knockId));
  }

  /** Host: refuses the guest of knock `knockId`; it sees that it was not let in. Fires `vc-denied`. */
  deny(knockId: string): void {
    this.#hosts((h) => h.deny(knockId));
  }

  /**
   * Host: removes `peerId` from the call (it sees why); its token cannot join this room again. Fires `vc-removed`. (Not
   * `remove()`: that is the DOM's, which takes the element out of the page.)
   */
  removeParticipant(peerId: string): void {
    this.#hosts((h) => h.remove(peerId));
  }

  /** Host: locks the room: nobody new can join or knock (hosts excepted). Everyone gets `vc-locked`. */
  lock(): void {
    this.#hosts((h) => h.lock(true));
  }

  /** Host: unlocks the room. Everyone gets `vc-locked` (`locked` false). */
  unlock(): void {
    this.#hosts((h) => h.lock(false));
  }

  /**
   * Host: ends the call for everyone (relay message `end`): every participant, this host included, leaves with the
   * `call-ended` error ("The host ended the call.", no "Try again"; state `error`), and every guest still knocking gets
   * `vc-denied` with reason `ended`. To leave alone, use `leave()`.
   */
  endCallForEveryone(): void {
    this.#hosts((h) => h.end());
  }

  /**
   * Host: asks participant `peerId` to turn its microphone (or, with `media` `camera`, its camera) on (relay message
   * `ask-unmute`). The participant decides: it sees the request with "Turn on" and "Not now"; nothing is switched on
   * for it. An unknown `peerId` is answered with `vc-error` `relay-error`.
   */
  askToUnmute(peerId: string, media: MediaKind = 'microphone'): void {
    this.#hosts((h) => h.askUnmute(peerId, media));
  }

  /**
   * Host: asks participant `peerId` to mute its microphone (or, with `media` `camera`, to turn its camera off; relay
   * message `mute-request`). The participant decides: it sees the request with "Turn off" and "Not now". In a
   * peer-to-peer call nobody can switch another's device off. An unknown `peerId` is answered with `vc-error`
   * `relay-error`.
   */
  requestMute(peerId: string, media: MediaKind = 'microphone'): void {
    this.#hosts((h) => h.requestMute(peerId, media));
  }

  /** Raises this visitor's hand (after those already raised). Fires `vc-hand` here and at the others. */
  raiseHand(): void {
    this.#hosts((h) => h.raiseHand());
  }

  /** Lowers this visitor's hand (no argument, or its own ID), or as a host anyone's. Fires `vc-hand`. */
  lowerHand(peerId?: string): void {
    this.#hosts((h) => h.lowerHand(peerId));
  }

  /**
   * Shows a reaction (1–16 characters, e.g. `👍`) on this visitor's tile for everyone. Fires `vc-reaction`.
   * @returns false when not sent: one was sent less than 1000 ms ago (or the first is still on its way), `emoji` is
   *   blank or too long, or not in a call.
   */
  react(emoji: string): boolean {
    const { hosts } = this.call;
    if (hosts) return hosts.react(emoji);
    // First use in this call: nothing was sent before, so only the text, being in the room, or a first reaction
    // still waiting for the model's chunk can refuse it. (16: MAX_REACTION_LENGTH of protocol/data-channel.ts, whose
    // parsers the script-tag file leaves to the engine chunk.)
    if (!this.call.selfId || this.call.hostsLoading || !emoji.trim() || emoji.length > 16) return false;
    this.#hosts((h) => h.react(emoji));
    return true;
  }

  /** Runs `fn` on the call's hosts model, loading its chunk on first use; nothing outside a call. */
  #hosts(fn: (hosts: Hosts) => void): void {
    this.call.withHosts(fn);
  }
}
