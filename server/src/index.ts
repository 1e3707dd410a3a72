/**
 * Public API of the relay package entry `video-chat-element/server`.
 *
 * @module
 */
export { createRelay, CLOSE_GRACE_MS, MAX_FRAMES_DURING_JOIN } from './relay.js';
export type { AttachOptions, Relay, RelayStats } from './relay.js';
export { RELAY_DEFAULTS } from './options.js';
export type { RelayOptions } from './options.js';
export { startServer, DEFAULT_HOST, DEFAULT_PORT, PACKAGE_ROOT, SERVER_DEFAULTS } from './http.js';
export type { RunningServer, ServerOptions } from './http.js';
export { RoomRegistry } from './rooms.js';
export type { JoinResult, LeaveResult } from './rooms.js';
