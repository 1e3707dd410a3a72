/**
 * The call's on-demand chunk: the per-peer engine as one module: the relay client ({@link SignalingClient}), perfect
 * negotiation ({@link PeerSession}), the data
 * channel wire ({@link PeerChannel}), the rate limit of warnings, the bandwidth governor and the stats loop (active
 * speaker, connection quality). The call controller imports it dynamically when a call starts (in parallel with the
 * camera), so in the script-tag build it is its own file, `video-chat-engine.js`, and the page's first download stays
 * small.
 *
 * @module
 */
export { PeerSession } from '../negotiation/peer-session.js';
export { SignalingClient } from '../signaling/signaling-client.js';
export { PeerChannel } from './peer-channel.js';
export { warningGate } from './warning-gate.js';
export { encodingCaps } from './governor.js';
export { callStats } from './call-stats.js';
