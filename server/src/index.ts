/**
 * Public API of the relay package `video-chat-relay` (its main entry). The room registry (`rooms.ts`) is no longer part
 * of it: it is the relay's internal membership structure, and its shape follows the participants' needs.
 *
 * @module
 */
export { createRelay, CLOSE_GRACE_MS, MAX_FRAMES_DURING_JOIN } from './relay.js';
export type { AttachOptions, Relay, RelayStats, RelayStatus } from './relay.js';
export { RELAY_DEFAULTS } from './options.js';
export type { RelayOptions } from './options.js';
export { startServer, DEFAULT_HOST, DEFAULT_PORT, PACKAGE_ROOT, SERVER_DEFAULTS } from './http.js';
export type { RunningServer, ServerOptions } from './http.js';
