/**
 * Who may connect and join: the origin allowlist (checked on the HTTP upgrade, before any WebSocket exists) and
 * room tokens (checked on `join`).
 *
 * Room tokens are JWTs (RFC 7519) in JWS compact form, MAC'd with HS256 (RFC 7518 §3.2) under a secret shared by the
 * relay and the site's backend, and verified with `jose`. Only HS256 is accepted: `alg: none`, other HMAC sizes and
 * every asymmetric algorithm are refused, so a token cannot pick how it is checked.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { errors, jwtVerify } from 'jose';
import { MAX_NAME_LENGTH, type Role } from '../../src/protocol/relay.js';

/** Shortest token secret accepted, in bytes: RFC 7518 §3.2 requires a key at least as long as the hash (256 bits). */
export const MIN_TOKEN_SECRET_BYTES = 32;

/** The allowlist, normalised: each entry as `URL.origin` spells it (lower-case scheme and host, default port omitted). */
export function normaliseOrigins(origins: readonly string[]): Set<string> {
  return new Set(
    origins.map((origin) => {
      let url: URL | undefined;
      try {
        url = new URL(origin);
      } catch {
        url = undefined;
      }
      // Nothing but scheme, host and port: a path (even a trailing slash), query, fragment or credentials is a mistake.
      const exact =
        url !== undefined &&
        (url.protocol === 'http:' || url.protocol === 'https:') &&
        /^[a-z]+:\/\/[^/?#@]+$/i.test(origin);
      if (!exact || url === undefined) {
        throw new TypeError(
          `allowedOrigins entries must be origins like https://example.org or http://localhost:8080 ` +
            `(scheme, host, optional port; nothing else), got ${JSON.stringify(origin)}`,
        );
      }
      return url.origin;
    }),
  );
}

/** Whether an upgrade request's `Origin` header is allowed. An empty allowlist allows every request. */
export function originAllowed(allowed: ReadonlySet<string>, origin: string | undefined): boolean {
  return allowed.size === 0 || (origin !== undefined && allowed.has(origin));
}

/**
 * Latest `exp` accepted, in seconds after now (24 h): a token valid for longer is refused ('too-long'), so that a
 * leaked token cannot be replayed for years. Tokens are checked at `join` only, so minutes are enough.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

/** Clock skew tolerated between the site's backend and the relay, in seconds, on `exp` and `nbf` (jose `clockTolerance`). */
export const TOKEN_CLOCK_TOLERANCE_SECONDS = 30;

/** Longest `jti` claim accepted, in characters (RFC 7519 §4.1.7 sets no bound; a UUID is 36). */
export const MAX_TOKEN_ID_LENGTH = 256;

/** A verified token: the display name it fixes, if it has a `name` claim; its role, waiting room and ID (v2). */
export interface RoomGrant {
  name?: string;
  /** The `role` claim (`docs/protocol.md` "Hosts and guests"); absent means guest. */
  role?: Role;
  /** The `knock` claim: `true` this guest waits for a host, `false` it enters even on a `--knock` relay. */
  knock?: boolean;
  /**
   * What a host's `remove` bans for the room's lifetime: `jti:<jti claim>`, or without one `sha256:<base64url of the
   * SHA-256 of the token text>` (so a removed token is refused, but a freshly minted one without `jti` is not).
   */
  tokenId: string;
}

/** Why a token was refused, for logs only (the client always gets the same generic answer). */
export type TokenRefusal =
  | 'missing'
  | 'expired'
  | 'too-long'
  | 'invalid'
  | 'other-room'
  | 'bad-name'
  | 'bad-role'
  | 'bad-knock'
  | 'bad-jti';

/**
 * Verifies a room token for `room`.
 * @returns the grant, or why it was refused. Never throws.
 */
export async function verifyRoomToken(
  token: string | undefined,
  room: string,
  key: Uint8Array,
): Promise<{ ok: true; grant: RoomGrant } | { ok: false; reason: TokenRefusal }> {
  if (token === undefined) return { ok: false, reason: 'missing' };
  let payload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      requiredClaims: ['exp', 'room'],
      clockTolerance: TOKEN_CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (error) {
    return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
  // jose checked that `exp` is a number in the future; its maxTokenAge would need an `iat` claim, so bound `exp` here.
  if ((payload.exp as number) > Date.now() / 1000 + MAX_TOKEN_LIFETIME_SECONDS + TOKEN_CLOCK_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'too-long' };
  }
  if (payload['room'] !== room) return { ok: false, reason: 'other-room' };
  const { name, role, knock, jti } = payload as Record<string, unknown>;
  if (name !== undefined && (typeof name !== 'string' || name.length > MAX_NAME_LENGTH)) {
    return { ok: false, reason: 'bad-name' };
  }
  if (role !== undefined && role !== 'host' && role !== 'guest') return { ok: false, reason: 'bad-role' };
  if (knock !== undefined && typeof knock !== 'boolean') return { ok: false, reason: 'bad-knock' };
  if (jti !== undefined && (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_TOKEN_ID_LENGTH)) {
    return { ok: false, reason: 'bad-jti' };
  }
  const grant: RoomGrant = {
    tokenId:
      jti === undefined ? `sha256:${createHash('sha256').update(token).digest('base64url')}` : `jti:${jti as string}`,
  };
  if (name !== undefined) grant.name = name;
  if (role !== undefined) grant.role = role;
  if (knock !== undefined) grant.knock = knock;
  return { ok: true, grant };
}
