/**
 * The SFU's relay options (`--janus-url`, `--janus-secret`, `--janus-admin-key`, `--sfu-from`,
 * `--max-peers-per-sfu-room`): their defaults and validation. Without `janusUrl` every room stays in mesh and the
 * others must not be set.
 *
 * @module
 */

/** The SFU options of `RelayOptions`. */
export interface SfuOptions {
  /**
   * Janus's WebSocket API URL (`ws:` or `wss:`), e.g. `ws://127.0.0.1:8188`: a private address, never handed to
   * browsers (the relay brokers every request). Unset (the default): no SFU, every room is a mesh.
   */
  janusUrl?: string;
  /** Janus's `api_secret` (`janus.jcfg`), sent with every request; prefer the environment variable to the flag. */
  janusApiSecret?: string;
  /** The VideoRoom plugin's `admin_key`: the relay creates its rooms with it. Required with {@link janusUrl}. */
  janusAdminKey?: string;
  /** Participants at which a room whose members all can switches to the SFU, an integer ≥ 1. Default 5. */
  sfuFrom?: number;
  /** Capacity of a room on the SFU, an integer ≥ 1. Default 25. */
  maxPeersPerSfuRoom?: number;
}

/** {@link SfuOptions} resolved, when an SFU is configured. */
export interface ResolvedSfuOptions {
  janusUrl: string;
  janusApiSecret: string | undefined;
  janusAdminKey: string;
  sfuFrom: number;
  maxPeersPerSfuRoom: number;
  /**
   * With rooms shared through Redis (`redisUrl`): where the rooms' media modes live (`shared-rooms.ts`, keys under
   * the relay's `redisPrefix`). Unset: one relay process, modes in memory.
   */
  shared?: { redisUrl: string; redisPrefix: string };
}

/** Defaults of {@link SfuOptions}. */
export const SFU_DEFAULTS = Object.freeze({ sfuFrom: 5, maxPeersPerSfuRoom: 25 });

const SFU_KEYS = ['janusUrl', 'janusApiSecret', 'janusAdminKey', 'sfuFrom', 'maxPeersPerSfuRoom'] as const;

/**
 * Validates the SFU options.
 * @returns the resolved options, or `undefined` without `janusUrl`.
 * @throws TypeError / RangeError naming the option.
 */
export function resolveSfuOptions(options: SfuOptions, maxPeersPerRoom: number): ResolvedSfuOptions | undefined {
  const { janusUrl, janusApiSecret, janusAdminKey } = options;
  if (janusUrl === undefined) {
    const stray = SFU_KEYS.filter((key) => options[key] !== undefined);
    if (stray.length > 0) throw new TypeError(`${stray[0]} is set but janusUrl is not: give the Janus URL too`);
    return undefined;
  }
  if (typeof janusUrl !== 'string' || !/^wss?:\/\/[^\s]+$/.test(janusUrl)) {
    throw new TypeError('janusUrl must be a ws:// or wss:// URL');
  }
  if (typeof janusAdminKey !== 'string' || janusAdminKey.length === 0) {
    throw new TypeError("janusAdminKey must be set with janusUrl: the VideoRoom plugin's admin_key");
  }
  if (janusApiSecret !== undefined && typeof janusApiSecret !== 'string') {
    throw new TypeError('janusApiSecret must be a string');
  }
  const sfuFrom = options.sfuFrom ?? SFU_DEFAULTS.sfuFrom;
  const maxPeersPerSfuRoom = options.maxPeersPerSfuRoom ?? SFU_DEFAULTS.maxPeersPerSfuRoom;
  if (!Number.isSafeInteger(sfuFrom) || sfuFrom < 1)
    throw new RangeError(`sfuFrom must be an integer ≥ 1, got ${String(sfuFrom)}`);
  if (!Number.isSafeInteger(maxPeersPerSfuRoom) || maxPeersPerSfuRoom < Math.max(1, maxPeersPerRoom)) {
    throw new RangeError(
      `maxPeersPerSfuRoom must be an integer ≥ maxPeersPerRoom (${maxPeersPerRoom}), got ${String(maxPeersPerSfuRoom)}`,
    );
  }
  return { janusUrl, janusApiSecret, janusAdminKey, sfuFrom, maxPeersPerSfuRoom };
}
