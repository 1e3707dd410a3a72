/**
 * Hosts and guests (`docs/hosts.md`): what `relay.ts` wires in as its outermost {@link Participants}. With rooms
 * shared through Redis and room tokens, the room's host state lives in Redis (`shared-host-participants.ts`,
 * `shared-state.ts`); otherwise in this process (`host-participants.ts`, `room-policy.ts`).
 *
 * @module
 */
import type { Logger } from '../log.js';
import type { Participants } from '../participants.js';
import { HostParticipants } from './host-participants.js';
import type { HostMetrics } from './host-metrics.js';
import type { ResolvedHostOptions } from './options.js';
import { isRedisSide, SharedHostParticipants } from './shared-host-participants.js';

/** The settings the host layer reads. */
export interface HostLayerConfig extends ResolvedHostOptions {
  readonly tokenSecret: string | undefined;
  readonly redisUrl: string | undefined;
  readonly redisPrefix: string;
  readonly resumeGraceMs: number;
  readonly nodeLeaseMs: number;
  readonly sweepIntervalMs: number;
}

/**
 * @param outer the participants the host layer wraps (the SFU's, or `base`).
 * @param base the relay's own participants (in memory, or Redis's `participants-redis.ts`).
 * @returns the host layer, whose `welcome` and `departed` the relay's participants context must call.
 */
export function createHostParticipants(
  outer: Participants,
  base: Participants,
  config: HostLayerConfig,
  log: Logger,
  metrics: HostMetrics,
): HostParticipants | SharedHostParticipants {
  // Without tokens there are no hosts: nothing to share, no Redis round trip per join.
  if (config.redisUrl === undefined || config.tokenSecret === undefined || !isRedisSide(base)) {
    return new HostParticipants(outer, config, log, metrics);
  }
  const forgetAfterMs = config.resumeGraceMs + config.nodeLeaseMs + config.sweepIntervalMs;
  return new SharedHostParticipants(outer, base, { ...config, redisUrl: config.redisUrl, forgetAfterMs }, log, metrics);
}
