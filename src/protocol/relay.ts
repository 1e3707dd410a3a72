/**
 * The client↔relay wire (v1): what `<video-chat>` and the relay say to each other over one WebSocket (RFC 6455) per
 * participant: message types, limits, error and close codes, and the parse guards for both directions. The relay
 * imports this module and no other part of the element. No DOM, no Node. The prose version is `docs/protocol.md`.
 *
 * Frames are JSON text frames. Every parse function takes the raw, untrusted value and returns either a typed message
 * or a {@link ProtocolViolation} naming what is wrong; none throws. `signal.data` is opaque here: the peers' own
 * payload inside it is `./negotiation.ts`.
 *
 * @module
 */
import { bad, isObject, isString, ok, parseTypedObject, type Json, type ParseResult } from './parse.js';
import {
  parseHostClientMessage,
  HOST_SERVER_TYPES,
  type HostClientMessage,
  type HostServerMessage,
  type Role,
} from './hosts.js';

// The version, close codes and ICE server shape (apart, for the script-tag file's size).
export {
  CloseCode,
  isIceServer,
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  type IceServer,
} from './relay-codes.js';
import { isIceServer, SUPPORTED_PROTOCOL_VERSIONS, type IceServer } from './relay-codes.js';

// Hosts and guests (v2): roles, the waiting room, host actions (docs/protocol.md "Hosts and guests").
export * from './hosts.js';

/** Largest accepted frame, in bytes (64 KiB). A larger frame closes the socket with {@link CloseCode.MessageTooBig}. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** Room names: 1–64 characters of `A-Z a-z 0-9 _ - .`. */
export const ROOM_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Display names: at most this many characters (UTF-16 code units). Names are shown as text, never as HTML. */
export const MAX_NAME_LENGTH = 64;

/** Longest room token (`join.token`) accepted, in characters. A compact JWS with the documented claims is ~200. */
export const MAX_TOKEN_LENGTH = 4096;

/** Resume secrets as the relay issues them (`welcome.resume`): 1–64 characters of `A-Z a-z 0-9 _ -` (base64url). */
export const RESUME_SECRET_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Peer IDs as the relay assigns them: 1–64 characters of `A-Z a-z 0-9 _ -`. */
export const PEER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Deepest nesting accepted in `signal.data`, counting `data` itself as level 1 (a negotiation message needs 3). Deeper
 * is `bad-message`: the relay re-encodes `data` with `JSON.stringify`, which recurses, so unbounded depth is a crash.
 */
export const MAX_SIGNAL_DEPTH = 32;

/** Most keys and array elements, counted together over every level, accepted in `signal.data`. More is `bad-message`. */
export const MAX_SIGNAL_ENTRIES = 4096;

/**
 * Every `code` an `error` message may carry.
 * - `bad-message`: not JSON, not an object, unknown `type`, or a field of the wrong shape (the message says which).
 * - `not-joined`: `signal` or `leave` before a successful `join`.
 * - `already-joined`: `join` while already in a room (send `leave` first).
 * - `room-full`: the room is at capacity; nothing was joined.
 * - `unknown-peer`: `signal.to` names no other peer of the sender's room.
 * - `unauthorized`: the relay requires room tokens and `join.token` is missing, malformed, expired, not signed with
 *   the relay's secret (HS256), or for another room. One generic message for every reason; nothing was joined.
 * - `rate-limited`: the socket sent messages faster than the relay's per-socket limit; this one was dropped. A
 *   sender that keeps going is closed with {@link CloseCode.PolicyViolation}.
 * - `resume-failed`: a `join` with `resume` could not resume (unknown or departed ID, wrong secret, grace period
 *   over, other room, resume turned off). One generic message for every reason; nothing was joined: join afresh.
 * - (v2) `forbidden`: a host action from a guest; nothing changed.
 * - (v2) `room-locked`: a `join` (or knock) to a room a host locked; nothing was joined.
 * - (v2) `removed`: a `join` with the token of a participant a host removed from this room; nothing was joined.
 *   Version 1 clients get `unauthorized` instead of `room-locked` and `removed` (they do not know the codes).
 */
export const ERROR_CODES = [
  'bad-message',
  'not-joined',
  'already-joined',
  'room-full',
  'unknown-peer',
  'unauthorized',
  'rate-limited',
  'resume-failed',
  'forbidden',
  'room-locked',
  'removed',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** A participant as the others see it. `name` may be empty. */
export interface PeerInfo {
  id: string;
  name: string;
}

/**
 * Opaque payload of a `signal`: the relay does not look inside, but re-encodes it as JSON (see `docs/protocol.md`), and
 * bounds its nesting ({@link MAX_SIGNAL_DEPTH}) and size ({@link MAX_SIGNAL_ENTRIES}). The element puts a
 * {@link NegotiationMessage} in it.
 */
export type SignalData = Record<string, unknown>;

// ---- client → relay ----

export interface JoinMessage {
  type: 'join';
  /** Room name, see {@link ROOM_PATTERN}. */
  room: string;
  /** Display name, at most {@link MAX_NAME_LENGTH} characters. A token's `name` claim takes precedence. */
  name?: string;
  /**
   * Room token, required when the relay is configured with a token secret: a JWT (RFC 7519) signed with HS256 whose
   * claims are `room` (must equal {@link room}), `exp` (required) and optionally `name`. At most
   * {@link MAX_TOKEN_LENGTH} characters. Ignored by a relay without a secret.
   */
  token?: string;
  /**
   * Resume a participant whose connection dropped, instead of joining afresh: its `id` and the secret from its last
   * `welcome.resume`. Within the relay's grace period this keeps the ID and the others see no `peer-left`/
   * `peer-joined`; `room` must be the same room; `name` and `token` are ignored. Otherwise: `resume-failed`.
   */
  resume?: ResumeCredentials;
  /** The wire version the client speaks ({@link PROTOCOL_VERSION}). Absent means 1. */
  protocol?: number;
  /**
   * What this client can do beyond the mesh, at most {@link MAX_CAPS} entries of 1–32 characters of `a-z 0-9 -`;
   * unknown entries are ignored. `"sfu"`: it can take part in a room on the relay's SFU (`src/protocol/sfu.ts`). A
   * client without it keeps its room in mesh, or is refused with `room-full` from a room already on the SFU.
   */
  caps?: string[];
}

/** Most entries accepted in `join.caps`. */
export const MAX_CAPS = 8;
/** What a client needs to resume: its ID and the latest secret the relay gave it. */
export interface ResumeCredentials {
  id: string;
  secret: string;
}
export interface SignalRequest {
  type: 'signal';
  /** ID of a peer in the sender's room. */
  to: string;
  data: SignalData;
}
export interface LeaveMessage {
  type: 'leave';
}
export type ClientMessage = JoinMessage | SignalRequest | LeaveMessage | HostClientMessage;

// ---- relay → client ----

export interface WelcomeMessage {
  type: 'welcome';
  /** The ID the relay assigned to this participant. */
  id: string;
  room: string;
  /** Everyone already in the room, in joining order. */
  peers: PeerInfo[];
  iceServers: IceServer[];
  /** The wire version the relay speaks ({@link PROTOCOL_VERSION}). A relay before the field existed omits it (1). */
  protocol?: number;
  /**
   * Secret (128 random bits, base64url) that lets this participant resume with `join.resume` after its connection
   * dropped. A new one comes with every welcome; only the latest is valid. Absent if the relay has resume turned off.
   * Keep it like a password: it is all it takes to take over this participant.
   */
  resume?: string;
  /**
   * `true` when this welcome answers a successful resume: same `id`, the others saw nothing. `peers` is then the
   * room as it is now; joins and departures during the outage are not replayed, signals sent meanwhile follow.
   */
  resumed?: true;
  /** (v2) This participant's role, from its token's `role` claim; `guest` without tokens. Absent for v1 clients. */
  role?: Role;
}
export interface PeerJoinedMessage {
  type: 'peer-joined';
  peer: PeerInfo;
}
export interface PeerLeftMessage {
  type: 'peer-left';
  id: string;
}
export interface SignalDelivery {
  type: 'signal';
  /** Stamped by the relay: the sender's ID. */
  from: string;
  data: SignalData;
}
export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
}
export type ServerMessage =
  WelcomeMessage | PeerJoinedMessage | PeerLeftMessage | SignalDelivery | ErrorMessage | HostServerMessage;

// ---- parsing ----

export type { ParseResult, ProtocolViolation } from './parse.js';

function checkRoom(room: unknown, field: string): string | undefined {
  if (!isString(room) || !ROOM_PATTERN.test(room)) return `${field} must be 1-64 characters of A-Z a-z 0-9 _ - .`;
  return undefined;
}

function checkName(name: unknown, field: string): string | undefined {
  if (!isString(name) || name.length > MAX_NAME_LENGTH) {
    return `${field} must be a string of at most ${MAX_NAME_LENGTH} characters`;
  }
  return undefined;
}

function checkToken(token: unknown, field: string): string | undefined {
  if (!isString(token) || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    return `${field} must be a non-empty string of at most ${MAX_TOKEN_LENGTH} characters`;
  }
  return undefined;
}

/**
 * Why `data` is too deep or too wide for {@link MAX_SIGNAL_DEPTH} / {@link MAX_SIGNAL_ENTRIES}, or `undefined`. An
 * explicit stack, not recursion: the value comes from `JSON.parse`, which accepts nesting far deeper than the call
 * stack (a tree, no cycles).
 */
function checkSignalShape(data: Json, field: string): string | undefined {
  const stack: [unknown, number][] = [[data, 1]];
  let entries = 0;
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [value, depth] = top;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_SIGNAL_DEPTH) return `${field} must nest at most ${MAX_SIGNAL_DEPTH} levels deep`;
    const children = Array.isArray(value) ? (value as unknown[]) : Object.values(value);
    entries += children.length;
    if (entries > MAX_SIGNAL_ENTRIES)
      return `${field} must hold at most ${MAX_SIGNAL_ENTRIES} keys and elements in all`;
    for (const child of children) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return undefined;
}

function checkPeerId(id: unknown, field: string): string | undefined {
  if (!isString(id) || !PEER_ID_PATTERN.test(id)) return `${field} must be a peer id`;
  return undefined;
}

function parsePeerInfo(v: unknown, field: string): ParseResult<PeerInfo> {
  if (!isObject(v)) return bad(`${field} must be an object`);
  const problem = checkPeerId(v['id'], `${field}.id`) ?? checkName(v['name'], `${field}.name`);
  return problem ? bad(problem) : ok({ id: v['id'] as string, name: v['name'] as string });
}

/**
 * Parses a frame a client sent (relay side). Unknown fields are ignored, in particular a client-sent `from`.
 * @param raw the frame as received: a string for text frames; anything else is rejected.
 */
export function parseClientMessage(raw: unknown): ParseResult<ClientMessage> {
  const parsed = parseTypedObject(raw, 'message');
  if (!parsed.ok) return parsed;
  const m = parsed.value;
  switch (m['type']) {
    case 'join': {
      const problem =
        checkRoom(m['room'], 'join.room') ??
        (m['name'] === undefined ? undefined : checkName(m['name'], 'join.name')) ??
        (m['token'] === undefined ? undefined : checkToken(m['token'], 'join.token'));
      if (problem) return bad(problem);
      const join: JoinMessage = { type: 'join', room: m['room'] as string };
      if (m['name'] !== undefined) join.name = m['name'] as string;
      if (m['token'] !== undefined) join.token = m['token'] as string;
      if (m['protocol'] !== undefined) {
        const version = m['protocol'];
        if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
          return bad('join.protocol must be a positive integer');
        }
        if (!SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
          return bad(
            `join.protocol ${version} is not supported: this relay speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
          );
        }
        join.protocol = version;
      }
      if (m['caps'] !== undefined) {
        const caps = m['caps'];
        if (
          !Array.isArray(caps) ||
          caps.length > MAX_CAPS ||
          !caps.every((c) => isString(c) && /^[a-z0-9-]{1,32}$/.test(c))
        ) {
          return bad(`join.caps must be an array of at most ${MAX_CAPS} names of 1-32 characters of a-z 0-9 -`);
        }
        join.caps = caps as string[];
      }
      if (m['resume'] !== undefined) {
        const r = m['resume'];
        if (
          !isObject(r) ||
          checkPeerId(r['id'], 'join.resume.id') !== undefined ||
          !isString(r['secret']) ||
          !RESUME_SECRET_PATTERN.test(r['secret'])
        ) {
          return bad('join.resume must be { id, secret } as received in welcome');
        }
        join.resume = { id: r['id'] as string, secret: r['secret'] };
      }
      return ok(join);
    }
    case 'signal': {
      const data = m['data'];
      const problem =
        checkPeerId(m['to'], 'signal.to') ??
        (isObject(data) ? checkSignalShape(data, 'signal.data') : 'signal.data must be an object');
      return problem ? bad(problem) : ok({ type: 'signal', to: m['to'] as string, data: m['data'] as SignalData });
    }
    case 'leave':
      return ok({ type: 'leave' });
    default:
      return parseHostClientMessage(m);
  }
}

/** Parses a frame the relay sent (element side). */
export function parseServerMessage(raw: unknown): ParseResult<ServerMessage> {
  const parsed = parseTypedObject(raw, 'message');
  if (!parsed.ok) return parsed;
  const m = parsed.value;
  switch (m['type']) {
    case 'welcome': {
      const problem =
        checkPeerId(m['id'], 'welcome.id') ??
        checkRoom(m['room'], 'welcome.room') ??
        (Array.isArray(m['peers']) ? undefined : 'welcome.peers must be an array') ??
        (Array.isArray(m['iceServers']) && m['iceServers'].every(isIceServer)
          ? undefined
          : 'welcome.iceServers must be an array of ICE servers');
      if (problem) return bad(problem);
      const peers: PeerInfo[] = [];
      for (const [i, p] of (m['peers'] as unknown[]).entries()) {
        const peer = parsePeerInfo(p, `welcome.peers[${i}]`);
        if (!peer.ok) return peer;
        peers.push(peer.value);
      }
      const welcome: WelcomeMessage = {
        type: 'welcome',
        id: m['id'] as string,
        room: m['room'] as string,
        peers,
        iceServers: m['iceServers'] as IceServer[],
      };
      if (m['resume'] !== undefined) {
        if (!isString(m['resume']) || !RESUME_SECRET_PATTERN.test(m['resume']))
          return bad('welcome.resume must be a secret');
        welcome.resume = m['resume'];
      }
      if (m['resumed'] !== undefined) {
        if (m['resumed'] !== true) return bad('welcome.resumed must be true when present');
        welcome.resumed = true;
      }
      if (m['protocol'] !== undefined) {
        if (!Number.isSafeInteger(m['protocol']) || (m['protocol'] as number) < 1) {
          return bad('welcome.protocol must be a positive integer');
        }
        welcome.protocol = m['protocol'] as number;
      }
      if (m['role'] !== undefined) {
        if (m['role'] !== 'host' && m['role'] !== 'guest') return bad('welcome.role must be "host" or "guest"');
        welcome.role = m['role'];
      }
      return ok(welcome);
    }
    case 'peer-joined': {
      const peer = parsePeerInfo(m['peer'], 'peer-joined.peer');
      return peer.ok ? ok({ type: 'peer-joined', peer: peer.value }) : peer;
    }
    case 'peer-left': {
      const problem = checkPeerId(m['id'], 'peer-left.id');
      return problem ? bad(problem) : ok({ type: 'peer-left', id: m['id'] as string });
    }
    case 'signal': {
      const problem =
        checkPeerId(m['from'], 'signal.from') ?? (isObject(m['data']) ? undefined : 'signal.data must be an object');
      return problem ? bad(problem) : ok({ type: 'signal', from: m['from'] as string, data: m['data'] as SignalData });
    }
    case 'error': {
      const code = m['code'];
      if (!isString(code) || !(ERROR_CODES as readonly string[]).includes(code)) return bad('error.code is unknown');
      if (!isString(m['message'])) return bad('error.message must be a string');
      return ok({ type: 'error', code: code as ErrorCode, message: m['message'] });
    }
    default:
      // Hosts and guests: the type only; the receiver checks the fields with parseHostServerMessage (hosts-server.ts).
      return HOST_SERVER_TYPES.includes(m['type'] as string)
        ? ok(m as unknown as HostServerMessage)
        : bad(`unknown message type ${JSON.stringify(m['type']).slice(0, 40)}`);
  }
}

/** Serializes a message for the wire. */
export function encode(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message);
}
