/**
 * Two {@link PeerSession}s with real RTCPeerConnections joined by an in-memory transport that can lose or delay each
 * message (`drop`, `delay`), to drive the watchdog, restart and generation paths deterministically; every message
 * sent is recorded (`sent`), and so is every warning (`warnings`).
 */
import { PeerSession, type PeerSessionOptions } from '../../../src/negotiation/peer-session.js';
import { parseNegotiationMessage, type NegotiationMessage } from '../../../src/protocol/negotiation.js';
import type { SignalData } from '../../../src/protocol/relay.js';
import { canvasTrack, inbound } from '../helpers.js';

export type Side = 'initiator' | 'answerer';

export interface Pair {
  initiator: PeerSession;
  answerer: PeerSession;
  sent: Array<{ from: Side; message: NegotiationMessage }>;
  warnings: Array<{ from: Side; code: string; message: string }>;
  close(): void;
}

/** Delivers each message asynchronously (like a socket), after `delay` ms (default 0), unless `drop` says to lose it. */
export function pair(options: {
  initiator?: Partial<PeerSessionOptions>;
  answerer?: Partial<PeerSessionOptions>;
  drop?: (message: NegotiationMessage, from: Side) => boolean;
  delay?: (message: NegotiationMessage, from: Side) => number;
}): Pair {
  const sent: Pair['sent'] = [];
  const warnings: Pair['warnings'] = [];
  const tracks: MediaStreamTrack[] = [canvasTrack('#c00'), canvasTrack('#00c')];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const wire = (from: Side) => (data: SignalData) => {
    const parsed = parseNegotiationMessage(data); // read back, for the tests to look at
    if (!parsed.ok) throw new Error(`a session sent a malformed message: ${parsed.error.message}`);
    const message = parsed.value;
    sent.push({ from, message });
    if (options.drop?.(message, from)) return;
    // Both sessions exist by then: neither sends from its constructor (negotiationneeded is a later task).
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        (from === 'initiator' ? answerer : initiator).receive(data);
      },
      options.delay?.(message, from) ?? 0,
    );
    timers.add(timer);
  };
  const onError = (from: Side) => (w: { code: string; message: string }) =>
    void warnings.push({ from, code: w.code, message: w.message });
  const answerer = new PeerSession({
    peerId: 'initiator',
    initiator: false,
    iceServers: [],
    tracks: { video: tracks[1] as MediaStreamTrack },
    send: wire('answerer'),
    onError: onError('answerer'),
    ...options.answerer,
  });
  const initiator = new PeerSession({
    peerId: 'answerer',
    initiator: true,
    iceServers: [],
    tracks: { video: tracks[0] as MediaStreamTrack },
    send: wire('initiator'),
    onError: onError('initiator'),
    ...options.initiator,
  });
  const close = () => {
    for (const timer of timers) clearTimeout(timer);
    initiator.close();
    answerer.close();
    for (const t of tracks) t.stop();
  };
  return { initiator, answerer, sent, warnings, close };
}

/** Video frames decoded so far on `session`'s current connection. */
export const frames = async (session: PeerSession): Promise<number> => inbound(await session.getStats()).framesDecoded;
