/**
 * Ephemeral TURN credentials, per the TURN REST API draft (draft-uberti-behave-turn-rest-00 §2.2) as coturn
 * implements it with `use-auth-secret`/`static-auth-secret`:
 *
 *   username   = "<expiry as unix seconds>:<peer id>"
 *   credential = base64(HMAC-SHA1(secret, username))
 *
 * The TURN server recomputes the HMAC from the username with the same secret and refuses expired usernames, so the
 * relay and the TURN server share nothing but the secret, and the secret never leaves the relay: a browser only ever
 * sees credentials for its own peer ID that expire.
 *
 * @module
 */
import { createHmac } from 'node:crypto';
import type { IceServer } from '../../src/protocol/relay.js';

/** What is needed to mint credentials. */
export interface TurnConfig {
  /** `turn:`/`turns:` URLs (RFC 7065) of the TURN server(s) sharing {@link secret}. */
  urls: string[];
  secret: string;
  /** Lifetime of a credential, in seconds. */
  ttlSeconds: number;
}

/** One ICE server entry with credentials for `peerId`, valid for `ttlSeconds` from `nowMs`. */
export function turnCredentials(config: TurnConfig, peerId: string, nowMs: number = Date.now()): IceServer {
  const username = `${Math.floor(nowMs / 1000) + config.ttlSeconds}:${peerId}`;
  const credential = createHmac('sha1', config.secret).update(username).digest('base64');
  return { urls: [...config.urls], username, credential };
}

/** Whether `url` is a TURN URL (RFC 7065: `turn:` or `turns:` and a host). */
export function isTurnUrl(url: unknown): url is string {
  return typeof url === 'string' && /^turns?:[^\s]+$/i.test(url);
}
