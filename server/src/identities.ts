/**
 * What the relay makes of a participant's identity, shared by every `Participants` implementation
 * (`participants.ts`): random IDs and resume secrets, their constant-time comparison, and the display name as handed
 * on.
 *
 * @module
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** @returns 128 random bits in base64url (22 characters): IDs and resume secrets must be unguessable. */
export const randomToken = (): string => randomBytes(16).toString('base64url');

/**
 * Constant-time comparison of a stored secret with a presented one (equal lengths first: both are 22 characters).
 * @returns whether they are equal and the stored one is not empty (no secret handed out yet).
 */
export function sameSecret(stored: string, presented: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(presented);
  return stored.length > 0 && a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Characters removed from display names: C0 and C1 controls (and DEL), lone surrogates, and the bidirectional
 * formatting characters (LRM, RLM, ALM, embeddings and overrides U+202A–202E, isolates U+2066–2069), which would
 * otherwise let a name reorder the text shown around it.
 */
const NAME_STRIPPED = /[\p{Cc}\p{Cs}\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069]/gu;

/**
 * A display name as the relay hands it on (from `join.name` or a token's `name` claim): see {@link NAME_STRIPPED}.
 * @param name the name as given.
 * @returns the name without the stripped characters (possibly empty).
 */
export function displayName(name: string): string {
  return name.replace(NAME_STRIPPED, '');
}
