/**
 * The element's check of the relay's hosts messages (`./hosts.ts`, docs/protocol.md "Hosts and guests"). A module of
 * its own so that it travels in the element's hosts chunk (`call/hosts.ts`), loaded only in rooms with hosts, and not
 * in the engine chunk every call loads: `parseServerMessage` of `./relay.ts` checks only the `type` of these messages.
 * No DOM, no Node; never throws.
 *
 * @module
 */
import {
  MAX_NAME,
  MEDIA,
  OUTCOMES,
  id,
  type DeniedMessage,
  type HostServerMessage,
  type KnockOutcome,
  type MediaKind,
} from './hosts.js';
import { bad, isObject, isString, ok, type Json, type ParseResult } from './parse.js';

/**
 * Parses a relay message of this module (element side): every field checked, extra fields dropped. Takes the object
 * `parseServerMessage` returned for a type of {@link HOST_SERVER_TYPES} (or any object with a string `type`).
 */
export function parseHostServerMessage(message: object): ParseResult<HostServerMessage> {
  const m = message as Json;
  const type = m['type'] as string;
  switch (type) {
    case 'room-state': {
      const hosts = m['hosts'];
      if (typeof m['locked'] !== 'boolean') return bad('room-state.locked must be a boolean');
      if (!Array.isArray(hosts) || hosts.some((h) => id(h, '') !== undefined)) {
        return bad('room-state.hosts must be an array of ids');
      }
      return ok({ type, locked: m['locked'], hosts: hosts as string[] });
    }
    case 'knocking': {
      const k = m['knock'];
      if (!isObject(k) || id(k['id'], '') !== undefined || !isString(k['name']) || k['name'].length > MAX_NAME) {
        return bad('knocking.knock must be { id, name }');
      }
      return ok({ type, knock: { id: k['id'] as string, name: k['name'] } });
    }
    case 'knock-ended': {
      const problem =
        id(m['knock'], 'knock-ended.knock') ??
        (OUTCOMES.includes(m['outcome'] as string) ? undefined : 'knock-ended.outcome is unknown');
      return problem ? bad(problem) : ok({ type, knock: m['knock'] as string, outcome: m['outcome'] as KnockOutcome });
    }
    case 'waiting': {
      const { room, hosts, timeoutMs } = m;
      if (!isString(room) || !Number.isSafeInteger(hosts) || !Number.isSafeInteger(timeoutMs)) {
        return bad('waiting must be { room, hosts, timeoutMs }');
      }
      return ok({ type, room, hosts: hosts as number, timeoutMs: timeoutMs as number });
    }
    case 'denied': {
      const reason = m['reason'] as string;
      return ['denied', 'timeout', 'locked', 'ended'].includes(reason)
        ? ok({ type, reason: reason as DeniedMessage['reason'] })
        : bad('denied.reason is unknown');
    }
    case 'ask-unmute':
    case 'mute-request': {
      const problem =
        id(m['from'], `${type}.from`) ??
        (MEDIA.includes(m['media'] as string) ? undefined : `${type}.media must be "microphone" or "camera"`);
      return problem ? bad(problem) : ok({ type, from: m['from'] as string, media: m['media'] as MediaKind });
    }
    default:
      return bad(`unknown message type ${JSON.stringify(type).slice(0, 40)}`);
  }
}
