/**
 * Entry point: registers `<video-chat>` (once) and exports the public types. Import it once per page, or load
 * `dist/video-chat.js` with a `<script type="module">` tag.
 * @module
 */
import { VideoChatElement } from './video-chat.js';

export { VideoChatElement } from './video-chat.js';
/** The element's base classes (its page API), named by the generated framework typings. */
export type { CallPageApi } from './call-api.js';
export type { HostsPageApi } from './hosts-api.js';
export { VideoChatError, type VideoChatErrorCode, type VideoChatWarningCode } from './errors.js';
export * from './events.js';
export type * from './types.js';
export type { PeerInfo } from './protocol/relay.js';
export { stringsFor, type VideoChatStrings } from './ui/strings.js';

if (!customElements.get('video-chat')) customElements.define('video-chat', VideoChatElement);
