/**
 * The parts of the client↔relay wire (`./relay.ts`) that the element's script-tag file needs before a call starts: the
 * wire version, the WebSocket close codes and the ICE server shape. They live apart from the message parsers so that
 * those load with the call engine, not with the script-tag file (`test/node/build/bundle-size.test.ts`). `./relay.ts`
 * re-exports everything here. No DOM, no Node.
 *
 * @module
 */
import { isObject, isString } from './parse.js';

/**
 * The client↔relay wire version implemented by this module. It travels on the wire: a client states the version it
 * speaks in `join.protocol`, the relay states its own in `welcome.protocol`. A relay refuses a `join` for a version
 * it does not speak (`bad-message` naming both), so a message added in a later version is never sent to a relay that
 * would misread it. Versions are positive integers; this is 2 (hosts and guests, `./hosts.ts`). A relay keeps
 * speaking 1 to a client that asks for it: such a client joins as a guest and is never sent a message of `./hosts.ts`.
 */
export const PROTOCOL_VERSION = 2;

/** The wire versions this module can speak (a relay accepts a `join` for any of them). */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1, 2];

/** WebSocket close codes the relay uses (RFC 6455 §7.4.1). */
export const CloseCode = {
  /** Normal closure. */
  Normal: 1000,
  /** The server is going away. Not sent by this relay (it uses {@link CloseCode.ServiceRestart}); treat like it. */
  GoingAway: 1001,
  /** Policy violation (abuse: sustained flooding, too many frames before a welcome). Do not reconnect. */
  PolicyViolation: 1008,
  /** A frame larger than `MAX_MESSAGE_BYTES` (`./relay.ts`). */
  MessageTooBig: 1009,
  /** Service restart: the relay is shutting down or restarting (SIGTERM); the client should reconnect. */
  ServiceRestart: 1012,
  /**
   * Try Again Later: the relay shares its rooms with other relay processes through Redis and cannot reach it, so it
   * can neither admit nor resume right now (signals between participants it already serves go on). Reconnect with
   * backoff (and resume).
   */
  TryAgainLater: 1013,
  /** Private use (RFC 6455 §7.4.2): the connection was in no room for the relay's join timeout. Reconnect if needed. */
  JoinTimeout: 4000,
  /** Private use: another connection resumed this one's participant (see `join.resume`). Do not reconnect. */
  Replaced: 4001,
  /**
   * Private use: the relay has an origin allowlist and the page's `Origin` is not on it. Sent right after the
   * handshake (a browser cannot read an HTTP status of a refused upgrade), before any message is read. Do not
   * reconnect: only the relay's operator can change this.
   */
  OriginNotAllowed: 4003,
  /** Private use (v2): a host removed this participant; its token is refused in this room from now on. Do not reconnect. */
  Removed: 4004,
  /** Private use (v2): a host ended the call for everyone. Do not reconnect. */
  Ended: 4005,
} as const;

/** An ICE server as in W3C WebRTC `RTCIceServer`. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** Whether `v` is a well-formed {@link IceServer} (the relay validates its configured `iceServers` with it). */
export function isIceServer(v: unknown): v is IceServer {
  if (!isObject(v)) return false;
  const urls = v['urls'];
  const urlsOk = isString(urls) || (Array.isArray(urls) && urls.length > 0 && urls.every(isString));
  return (
    urlsOk &&
    (v['username'] === undefined || isString(v['username'])) &&
    (v['credential'] === undefined || isString(v['credential']))
  );
}
