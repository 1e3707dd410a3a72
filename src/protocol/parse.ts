/**
 * The parse guards shared by the three wires of `src/protocol/`: client↔relay ({@link ./relay.ts}), the negotiation
 * payload inside `signal.data` ({@link ./negotiation.ts}) and the data channel ({@link ./data-channel.ts}).
 *
 * Every parser takes an untrusted value and returns a {@link ParseResult}: the typed value, or a
 * {@link ProtocolViolation} naming what is wrong. None throws. No DOM, no Node.
 *
 * @module
 */

/** Why a raw value is not a valid message. `code` is what the relay answers with (`error` message, `bad-message`). */
export interface ProtocolViolation {
  code: 'bad-message';
  /** Names the field and the rule it breaks, e.g. `signal.to must be a peer id`. */
  message: string;
}

/** A parser's answer: the typed value, or why there is none. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ProtocolViolation };

/** A JSON object as `JSON.parse` returns it, not yet checked. */
export type Json = Record<string, unknown>;

export const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
export const bad = <T>(message: string): ParseResult<T> => ({ ok: false, error: { code: 'bad-message', message } });
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * JSON text → a plain object whose `type` is a string, or a violation.
 * @param raw the received value: a string for text frames; anything else is refused.
 * @param subject how messages of this wire are called in violation texts (`frame`, `peer message`).
 */
export function parseTypedObject(raw: unknown, subject: string): ParseResult<Json> {
  if (!isString(raw)) return bad(`${subject}s must be JSON text`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return bad(`${subject} is not valid JSON`);
  }
  if (!isObject(value)) return bad(`${subject} must be a JSON object`);
  if (!isString(value['type'])) return bad(`${subject}.type must be a string`);
  return ok(value);
}
