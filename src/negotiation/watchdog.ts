/**
 * The watchdog of a `PeerSession`: one timer that recreates a connection making no progress, the count of
 * recreations in a row that turns the session `failed`, and the gate on the peer's restart requests. No DOM, no WebRTC.
 *
 * The session's ICE faults, in escalating steps (W3C WebRTC RTCPeerConnectionState, RFC 8445 §9 ICE restart):
 * 1. `disconnected` is often transient (a burst of lost packets, a TURN server pausing): the session reports
 *    `reconnecting` and gives the connection a grace period of `watchdogMs` to come back by itself, untouched.
 * 2. `failed`: an ICE restart on the same connection (new ICE credentials, new candidates, no new media setup). Only
 *    the initiator offers, so it calls `restartIce()`; the other side asks it with `restart: 'ice'`.
 * 3. **This watchdog.** A connection that makes no progress for `watchdogMs`, or that stays `disconnected`/`failed`
 *    that long, is closed and recreated with a higher generation `gen` (the initiator does it; the other side asks
 *    with `restart: true`). It measures time **without progress**, not time since the connection was made: each
 *    description applied on a connection not up yet ({@link Watchdog.progress}, at most {@link MAX_PROGRESS} times
 *    per arming) starts the count again, so a negotiation that is slow but moving (a page starved of CPU answering in
 *    seconds) keeps its connection.
 * 4. After `maxRestarts` recreations in a row the session reports `failed` (the UI shows the peer as unreachable) but
 *    does not give up: it keeps recreating the connection every `retryMs`, so a peer that becomes reachable again
 *    (its network or TURN server back) reconnects by itself, within about `retryMs`. A `restart` request from the peer
 *    also recreates it at once. A session ends only with `PeerSession.close` (the peer left).
 *
 * The peer's requests are untrusted: each kind is honoured at most once per `watchdogMs` ({@link Watchdog.honour}):
 * an ICE restart costs both sides new candidates (and TURN allocations), a restart a new RTCPeerConnection.
 *
 * @module
 */
import { SESSION_DEFAULTS, type PeerSessionOptions } from './session-options.js';

/** Most re-armings by progress per arming (offer, answer, and an ICE restart's pair: a peer cannot hold it off). */
const MAX_PROGRESS = 4;

/** One timer; `onExpire` runs when it runs out (the session recreates its connection or asks the peer to). */
export class Watchdog {
  /** Recreations in a row without reaching `connected`. */
  restarts = 0;
  /** The timer, while it runs (the connection is not up). */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** No progress for this long (ms) recreates the connection; also the period of the peer's requests. */
  readonly ms: number;
  readonly #options: Pick<PeerSessionOptions, 'maxRestarts' | 'retryMs'>;
  readonly #onExpire: () => void;
  #progress = 0;
  /** Runs while the connection is in `have-local-offer` ({@link Watchdog.armOffer}). */
  #offerTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the peer's last honoured request of each kind was (performance.now(), ms). */
  readonly #honoured = { ice: -Infinity, connection: -Infinity };

  /** @param options the session's `watchdogMs`, `maxRestarts`, `retryMs` (defaults: `SESSION_DEFAULTS`) */
  constructor(options: Pick<PeerSessionOptions, 'watchdogMs' | 'maxRestarts' | 'retryMs'>, onExpire: () => void) {
    this.ms = options.watchdogMs ?? SESSION_DEFAULTS.watchdogMs;
    this.#options = options;
    this.#onExpire = onExpire;
  }

  /** Past `maxRestarts` recreations in a row: the session reports `failed` and retries every `retryMs`. */
  get failed(): boolean {
    return this.restarts > (this.#options.maxRestarts ?? SESSION_DEFAULTS.maxRestarts);
  }

  /** (Re)starts the timer: `watchdogMs`, or `retryMs` once {@link failed}; `progress` re-armings so far. */
  arm(progress = 0): void {
    this.#progress = progress;
    this.clear();
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.#onExpire();
      },
      this.failed ? (this.#options.retryMs ?? SESSION_DEFAULTS.retryMs) : this.ms,
    );
  }

  /** A description was applied: if the timer runs, it counts from now again (bounded, see {@link MAX_PROGRESS}). */
  progress(): void {
    if (this.timer && this.#progress < MAX_PROGRESS) this.arm(this.#progress + 1);
  }

  /** Stops the timer. */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * The offer timer: while `out()` (the connection in `have-local-offer`), `resend` after every `watchdogMs` without
   * an answer (the offer or its answer lost, e.g. while a relay was away; the session sends the offer again as it is,
   * same ICE credentials, with the candidates gathered since; a duplicate answer is ignored). Not rolled back: in
   * Chromium the offer made after rolling back a first offer has no data channel section, and the renegotiation both
   * sides then start to add it fails on the polite side ("Failed to start SCTP transport"), which stays in
   * `have-remote-offer` for good while both report `connected` (the CI flake: 7 of 12 runs under load). Re-armed on
   * each signaling state change; `armOffer(() => false)` stops it.
   */
  armOffer(out: () => boolean, resend?: () => void): void {
    clearTimeout(this.#offerTimer);
    if (!out() || !resend) return;
    this.#offerTimer = setTimeout(() => {
      if (!out()) return;
      resend();
      this.armOffer(out, resend);
    }, this.ms);
  }

  /** Whether to honour the peer's request of `kind` now (none of that kind for `watchdogMs`); notes it if so. */
  honour(kind: 'ice' | 'connection'): boolean {
    const now = performance.now();
    if (now - this.#honoured[kind] < this.ms) return false;
    this.#honoured[kind] = now;
    return true;
  }
}
