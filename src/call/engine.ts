/**
 * The call's on-demand chunk: the per-peer engine as one module: the relay client ({@link SignalingClient}), a mesh
 * peer's session and data channel ({@link meshPeer}: perfect negotiation, the data channel wire, the rate limit of
 * warnings, the bandwidth governor's caps), who is in the room ({@link Roster}; across relay restarts its own chunk)
 * and the stats loop's loader (active speaker, connection quality: {@link lazyStats}). The call controller imports it dynamically when a call starts (in parallel with the
 * camera), so in the script-tag build it is its own file, `video-chat-engine.js`, and the page's first download stays
 * small.
 *
 * @module
 */
import { chunk, type ChunkReport } from '../chunk.js';
export { SignalingClient } from '../signaling/signaling-client.js';
export { meshPeer } from './mesh-peer.js';
export { Roster } from './roster.js';
export { loadAdaptive } from './governor.js';
/** The stats loop's loader (`lazy-stats.ts`): the loop itself is its own chunk, fetched at the first connection. */
export { callStats as lazyStats } from './lazy-stats.js';
/**
 * Fetched as soon as this chunk is evaluated, while the camera starts (the join's slack before `welcome`): the chunks
 * every mesh call loads by its first frame (the data channel's receiver, the stats loop, receiver-driven caps), so
 * that their fetch and compile do not land in the offer/answer and the first frames (issue 16's timeline). Each stays
 * a chunk of its own, loaded through `chunk()` where it is used; a failure here is left to that use to report.
 */
void Promise.all([import('./peer-receive.js'), import('./call-stats.js'), import('./receiver-view.js')]).catch(
  () => undefined,
);
/** The relay wire's encoder and parser, for the embed doctor's relay check (`diagnose/relay-probe.ts`). */
export { encode, parseServerMessage } from '../protocol/relay.js';
/**
 * The SFU topology's own chunk (`call/sfu.ts`), loaded only in a room on the SFU. Imported from here, so that what it
 * shares with the engine (the peer channel) stays in the engine chunk, which is loaded by then.
 */
export const loadSfu = (report: ChunkReport): Promise<typeof import('./sfu.js')> =>
  chunk('sfu', () => import('./sfu.js'), report);
/** Hosts, hands and reactions (`call/hosts.ts`), their own chunk: loaded by the first message of theirs. */
export const loadHosts = (report: ChunkReport): Promise<typeof import('./hosts.js')> =>
  chunk('hosts', () => import('./hosts.js'), report);
