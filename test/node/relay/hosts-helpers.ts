/**
 * Helpers for the host tests: room tokens minted as a site's backend would (jose, HS256; docs/hosts.md), a relay with
 * tokens, and joins as host or guest speaking protocol 2.
 */
import type { TestContext } from 'node:test';
import { SignJWT, type JWTPayload } from 'jose';
import type { ServerOptions } from '../../../server/src/index.js';
import type { WelcomeMessage } from '../../../src/protocol/relay.js';
import { relayEnv, type RelayEnv, type TestClient } from './helpers.js';

export const SECRET = 'a-test-secret-that-is-long-enough-for-hs256!';
const key = new TextEncoder().encode(SECRET);

/** A room token for `room` valid for ten minutes, with `claims` (`role`, `knock`, `jti`, `name`). */
export function token(room: string, claims: JWTPayload = {}): Promise<string> {
  return new SignJWT({ room, exp: Math.floor(Date.now() / 1000) + 600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(key);
}

/** A relay with room tokens (and `options`), closed after `t`. */
export function hostsEnv(t: TestContext, options: ServerOptions = {}): Promise<RelayEnv> {
  return relayEnv(t, { tokenSecret: SECRET, ...options });
}

/** Sends a protocol-2 (or `protocol`) join with a token carrying `claims` on a new client. */
export async function knockOrJoin(
  e: RelayEnv,
  room: string,
  claims: JWTPayload = {},
  name = '',
  protocol = 2,
): Promise<TestClient> {
  const client = await e.client();
  client.send({ type: 'join', room, name, protocol, token: await token(room, claims) });
  return client;
}

/** Joins `room` with a token of `claims`; returns the client and its welcome. */
export async function enter(
  e: RelayEnv,
  room: string,
  claims: JWTPayload = {},
  name = '',
  protocol = 2,
): Promise<{ client: TestClient; welcome: WelcomeMessage }> {
  const client = await knockOrJoin(e, room, claims, name, protocol);
  return { client, welcome: await client.next('welcome') };
}

/** Joins as a host (`role: "host"`). */
export const host = (e: RelayEnv, room: string, name = 'Host'): ReturnType<typeof enter> =>
  enter(e, room, { role: 'host' }, name);

/** Every message type `client` has received and not taken, after a barrier (so nothing is still in flight). */
export async function received(client: TestClient): Promise<string[]> {
  await client.sync();
  return client.pending().map((m) => m.type);
}
