/**
 * The relay options of hosts and guests (`docs/protocol.md` "Hosts and guests"): the relay-wide waiting room and how
 * long a knock may wait. Validated by {@link checkHostOptions} inside `resolveRelayOptions`.
 *
 * @module
 */

/** Options of the waiting room, part of `RelayOptions`. */
export interface HostOptions {
  /**
   * Every guest of a room-token relay waits outside until a host admits it (a token's `knock: false` claim exempts
   * that guest; `knock: true` makes a guest knock on a relay without this). Needs `tokenSecret`: without tokens there
   * are no hosts to admit anyone. Default `false`.
   */
  knock?: boolean;
  /**
   * How long a knock may wait, in ms, an integer in 1…2³¹−1: then the knocker gets `denied` with reason `timeout`
   * (whether or not a host was present) and the hosts `knock-ended`. Default 300 000 (5 minutes).
   */
  knockTimeoutMs?: number;
}

/** {@link HostOptions} as resolved: every field present. */
export interface ResolvedHostOptions {
  knock: boolean;
  knockTimeoutMs: number;
}

/** Defaults of {@link HostOptions}. */
export const HOST_DEFAULTS: Readonly<ResolvedHostOptions> = Object.freeze({ knock: false, knockTimeoutMs: 300_000 });

/**
 * Validates the resolved host options against the rest.
 * @throws TypeError if `knock` is no boolean or is on without `tokenSecret`; RangeError for `knockTimeoutMs`.
 */
export function checkHostOptions(settings: ResolvedHostOptions & { tokenSecret: string | undefined }): void {
  if (typeof settings.knock !== 'boolean') throw new TypeError('knock must be a boolean');
  const t = settings.knockTimeoutMs;
  if (!Number.isSafeInteger(t) || t < 1 || t > 2 ** 31 - 1) {
    throw new RangeError(`knockTimeoutMs must be an integer in 1..${2 ** 31 - 1}, got ${String(t)}`);
  }
  if (settings.knock && settings.tokenSecret === undefined) {
    throw new TypeError('knock needs tokenSecret: without room tokens there are no hosts to admit anyone');
  }
}
