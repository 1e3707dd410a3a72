/**
 * Hosts and guests on the client↔relay wire (protocol version 2): roles, the waiting room (knock), the host actions
 * and the room state, as `docs/protocol.md` "Hosts and guests" describes them. Part of the wire of `./relay.ts`, which
 * adds these messages to its unions and parsers and re-exports this module (the relay imports `./relay.ts` only).
 * No DOM, no Node. Every parser takes an untrusted JSON object and returns a value or a violation; none throws.
 *
 * Roles come from the room token's `role` claim (`host` or `guest`; absent means guest). Without room tokens a room
 * has no hosts. The relay enforces every host-only action: a guest's `admit`, `deny`, `remove`, `lock`, `unlock`,
 * `end`, `ask-unmute` or `mute-request` is answered with `error` `forbidden`. Version 1 clients join as guests and are
 * never sent a message of this module.
 *
 * @module
 */
import { bad, isString, ok, type Json, type ParseResult } from './parse.js';

/** A participant's role in its room (token claim `role`; absent means `guest`). */
export type Role = 'host' | 'guest';

/** Knock IDs, as peer IDs: 1–64 characters of `A-Z a-z 0-9 _ -` (the relay makes them like peer IDs: 22 characters). */
const ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Display names as in `./relay.ts` (`MAX_NAME_LENGTH`). */
export const MAX_NAME = 64;

/** Microphone or camera, in `ask-unmute` and `mute-request`. */
export type MediaKind = 'microphone' | 'camera';

/** Why a knock ended (`knock-ended.outcome` to hosts, `denied.reason` to the knocker where it applies). */
export type KnockOutcome = 'admitted' | 'denied' | 'cancelled' | 'left' | 'timeout' | 'locked' | 'ended';

// ---- client → relay ----

/** Host: let the knocker `knock` in (it gets its `welcome`; the others `peer-joined`). */
export interface AdmitRequest {
  type: 'admit';
  knock: string;
}
/** Host: refuse the knocker `knock` (it gets `denied` with reason `denied`). */
export interface DenyRequest {
  type: 'deny';
  knock: string;
}
/** Host: remove participant `id` (closed with 4004; its token is refused for the room's lifetime). */
export interface RemoveRequest {
  type: 'remove';
  id: string;
}
/** Host: no new joins or knocks (hosts excepted); `unlock` undoes it. Knockers already waiting stay waiting. */
export interface LockRequest {
  type: 'lock' | 'unlock';
}
/** Host: end the call for everyone (every participant closed with 4005, every knocker `denied` with `ended`). */
export interface EndRequest {
  type: 'end';
}
/** Knocker: stop waiting (the connection stays open, in no room). */
export interface CancelRequest {
  type: 'cancel';
}
/**
 * Host: ask participant `to` to turn its microphone or camera on (`ask-unmute`) or off (`mute-request`). Delivered as
 * is, with `from`; the participant decides. Nothing is forced.
 */
export interface AskRequest {
  type: 'ask-unmute' | 'mute-request';
  to: string;
  media: MediaKind;
}
export type HostClientMessage =
  AdmitRequest | DenyRequest | RemoveRequest | LockRequest | EndRequest | CancelRequest | AskRequest;

// ---- relay → client ----

/**
 * The room as a v2 member sees it: sent right after its `welcome` and to every v2 member on each change.
 * `hosts`: IDs of the hosts in the room (the receiver included if it is one). `locked`: no new joins or knocks.
 */
export interface RoomStateMessage {
  type: 'room-state';
  locked: boolean;
  hosts: string[];
}
/** To hosts: someone waits outside (`knock.name` sanitised like a display name). Hosts who join later get the queue. */
export interface KnockingMessage {
  type: 'knocking';
  knock: { id: string; name: string };
}
/** To hosts: a knock left the queue, and why. */
export interface KnockEndedMessage {
  type: 'knock-ended';
  knock: string;
  outcome: KnockOutcome;
}
/**
 * To the knocker: it waits outside `room` (the answer to its `join`, sent again whenever `hosts` changes). `hosts`: how
 * many hosts are in the room now (0: nobody can admit yet). `timeoutMs`: how long it may wait in all, in ms.
 */
export interface WaitingMessage {
  type: 'waiting';
  room: string;
  hosts: number;
  timeoutMs: number;
}
/** To the knocker: it was not let in; the connection stays open, in no room. */
export interface DeniedMessage {
  type: 'denied';
  reason: Exclude<KnockOutcome, 'admitted' | 'cancelled' | 'left'>;
}
/** To a participant: a host (`from`) asks it to turn `media` on (`ask-unmute`) or off (`mute-request`). */
export interface AskDelivery {
  type: 'ask-unmute' | 'mute-request';
  from: string;
  media: MediaKind;
}
export type HostServerMessage =
  RoomStateMessage | KnockingMessage | KnockEndedMessage | WaitingMessage | DeniedMessage | AskDelivery;

/** The `type`s of {@link HostClientMessage}: host actions and `cancel`. */
export const HOST_CLIENT_TYPES = [
  'admit',
  'deny',
  'remove',
  'lock',
  'unlock',
  'end',
  'cancel',
  'ask-unmute',
  'mute-request',
] as const;

/**
 * The `type`s of {@link HostServerMessage}. `parseServerMessage` of `./relay.ts` checks only that a relay message has
 * one of these types (its code sits in the element's script-tag file, which must not grow); **the receiver checks
 * the fields with `parseHostServerMessage` (`./hosts-server.ts`)** before using such a message (the element does so
 * in its hosts chunk, `call/hosts.ts`).
 */
export const HOST_SERVER_TYPES: readonly string[] = [
  'room-state',
  'knocking',
  'knock-ended',
  'waiting',
  'denied',
  'ask-unmute',
  'mute-request',
];

export const MEDIA: readonly string[] = ['microphone', 'camera'];
export const OUTCOMES: readonly string[] = ['admitted', 'denied', 'cancelled', 'left', 'timeout', 'locked', 'ended'];

/** Undefined when `v` is an ID (knock or peer), else why not, naming `field`. */
export function id(v: unknown, field: string): string | undefined {
  return isString(v) && ID.test(v) ? undefined : `${field} must be an id`;
}

/**
 * Parses a host action or `cancel` from a client (relay side), given the frame already checked to be an object with a
 * string `type`. Extra fields are dropped. An unknown `type` is `bad-message` ("unknown message type").
 */
export function parseHostClientMessage(m: Json): ParseResult<HostClientMessage> {
  const type = m['type'] as string;
  switch (type) {
    case 'admit':
    case 'deny': {
      const problem = id(m['knock'], `${type}.knock`);
      return problem ? bad(problem) : ok({ type, knock: m['knock'] as string });
    }
    case 'remove': {
      const problem = id(m['id'], 'remove.id');
      return problem ? bad(problem) : ok({ type, id: m['id'] as string });
    }
    case 'lock':
    case 'unlock':
      return ok({ type });
    case 'end':
    case 'cancel':
      return ok({ type });
    case 'ask-unmute':
    case 'mute-request': {
      const problem =
        id(m['to'], `${type}.to`) ??
        (MEDIA.includes(m['media'] as string) ? undefined : `${type}.media must be "microphone" or "camera"`);
      return problem ? bad(problem) : ok({ type, to: m['to'] as string, media: m['media'] as MediaKind });
    }
    default:
      return bad(`unknown message type ${JSON.stringify(type).slice(0, 40)}`);
  }
}
