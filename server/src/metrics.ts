/**
 * Prometheus metrics of one relay (prom-client). Each relay has its own {@link Registry}, never prom-client's global
 * one, so that several relays in one process (tests, two paths on one server) do not clash or mix their counts.
 *
 * Names follow the Prometheus conventions: prefix `video_chat_`, counters end in `_total`, gauges are read from the
 * relay at scrape time.
 *
 * @module
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { ERROR_CODES, type ErrorCode } from '../../src/protocol/relay.js';
import { lostLogLines } from './log.js';

/** Why an HTTP upgrade was refused (label `reason` of `video_chat_upgrades_rejected_total`). */
export const UPGRADE_REJECTIONS = ['shutting-down', 'origin', 'ip-limit', 'not-found'] as const;
export type UpgradeRejection = (typeof UPGRADE_REJECTIONS)[number];

/** Values the gauges read at scrape time. */
export interface GaugeSource {
  connections: number;
  rooms: number;
  peers: number;
  /** Participants in their resume grace period (no connection). */
  resuming: number;
  /** Bytes of signals queued for participants in their grace period. */
  queuedBytes: number;
}

/** Outcomes of `join.resume` and of grace periods (label `outcome` of `video_chat_resumes_total`). */
export const RESUME_OUTCOMES = ['resumed', 'failed', 'expired'] as const;

/** The relay's metrics. */
export interface RelayMetrics {
  readonly registry: Registry;
  /**
   * Signals delivered to their addressee: a plain number on the hot path (one add per message), handed to the
   * Prometheus counter at scrape time.
   */
  relayed: number;
  /** `error` messages sent, by code. */
  readonly errors: Counter<'code'>;
  /** Messages refused by the per-socket rate limit. */
  readonly rateLimited: Counter;
  /** Upgrades refused before the WebSocket handshake, by reason. */
  readonly upgradesRejected: Counter<'reason'>;
  /** WebSocket connections accepted. */
  readonly connectionsAccepted: Counter;
  /** Resumes by outcome: `resumed`, `failed` (refused), `expired` (grace period over, the participant left). */
  readonly resumes: Counter<'outcome'>;
  /** Connections the relay closed or terminated itself, by close code (1006 for a terminate). */
  readonly closedByRelay: Counter<'code'>;
  /** Unforeseen throws while serving a connection; each closed that connection with 1011. */
  readonly handlerErrors: Counter;
}

export function createMetrics(read: () => GaugeSource): RelayMetrics {
  const registry = new Registry();
  const registers = [registry];
  const gauge = (name: string, help: string, key: keyof GaugeSource): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read()[key]);
      },
    });
  };
  gauge('video_chat_connections', 'Open WebSocket connections, joined or not.', 'connections');
  gauge('video_chat_rooms', 'Non-empty rooms.', 'rooms');
  gauge('video_chat_peers', 'Participants in all rooms (including those in their resume grace period).', 'peers');
  gauge(
    'video_chat_peers_resuming',
    'Participants whose connection dropped, in their resume grace period.',
    'resuming',
  );
  gauge(
    'video_chat_resume_queue_bytes',
    'Bytes of signals queued for participants in their grace period.',
    'queuedBytes',
  );
  new Counter({
    name: 'video_chat_log_lines_lost_total',
    help: 'Log lines that could not be written (e.g. disk full).',
    registers,
    collect() {
      this.reset();
      this.inc(lostLogLines());
    },
  });
  const metrics: RelayMetrics = {
    registry,
    relayed: 0,
    errors: new Counter({
      name: 'video_chat_errors_total',
      help: 'Error messages sent to clients, by code.',
      labelNames: ['code'],
      registers,
    }),
    rateLimited: new Counter({
      name: 'video_chat_rate_limited_total',
      help: 'Messages refused by the per-socket rate limit.',
      registers,
    }),
    upgradesRejected: new Counter({
      name: 'video_chat_upgrades_rejected_total',
      help: 'WebSocket upgrades refused before the handshake, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    connectionsAccepted: new Counter({
      name: 'video_chat_connections_accepted_total',
      help: 'WebSocket connections accepted.',
      registers,
    }),
    resumes: new Counter({
      name: 'video_chat_resumes_total',
      help: 'Resume attempts and grace periods by outcome (resumed, failed, expired).',
      labelNames: ['outcome'],
      registers,
    }),
    handlerErrors: new Counter({
      name: 'video_chat_handler_errors_total',
      help: 'Unforeseen errors while handling a client frame; each closed that connection with 1011.',
      registers,
    }),
    closedByRelay: new Counter({
      name: 'video_chat_connections_closed_by_relay_total',
      help: 'Connections the relay closed itself, by close code (1006: terminated without a closing handshake).',
      labelNames: ['code'],
      registers,
    }),
  };
  let reported = 0;
  new Counter({
    name: 'video_chat_messages_relayed_total',
    help: 'Signals delivered to their addressee.',
    registers,
    collect() {
      this.inc(metrics.relayed - reported);
      reported = metrics.relayed;
    },
  });
  // Every label value present from the start, at 0: a series that appears only after its first event breaks rate().
  for (const code of ERROR_CODES) metrics.errors.inc({ code } satisfies { code: ErrorCode }, 0);
  for (const reason of UPGRADE_REJECTIONS) metrics.upgradesRejected.inc({ reason }, 0);
  for (const outcome of RESUME_OUTCOMES) metrics.resumes.inc({ outcome }, 0);
  return metrics;
}

/** Outcomes of a signal routed through Redis (label `outcome` of `video_chat_route_total`). */
export const ROUTE_OUTCOMES = ['sent', 'queued', 'unknown', 'full', 'slow', 'dropped'] as const;

/** The metrics of a relay sharing its rooms through Redis (`--redis-url`), registered next to {@link RelayMetrics}. */
export interface ClusterMetrics {
  /** Signals that crossed between relay processes: `out` routed to another node, `in` delivered from one. */
  readonly crossNode: Counter<'direction'>;
  /**
   * Signals to a participant not live on this node, by outcome: `sent` (to its node), `queued` (in its grace period),
   * `unknown` and `full` (the sender got `unknown-peer`), `slow` (the addressee's relay refused it: that reader is
   * behind, decision 0003; the sender got `rate-limited`), `dropped` (Redis unreachable, or the addressee gone by
   * the time it arrived).
   */
  readonly route: Counter<'outcome'>;
  /** Times this node found its lease lost (declared gone by the others while running; it reconnected its clients). */
  readonly leasesLost: Counter;
  /** What sweeps found: `node` (a relay process whose lease ran out), `grace` (a grace period that ran out). */
  readonly sweeps: Counter<'what'>;
  /** Times the Redis subscriber connection was replaced because it stopped delivering (the canary did not return). */
  readonly subscriberReplaced: Counter;
}

/**
 * Registers the cluster metrics on `registry`.
 * @param up read at scrape time for `video_chat_redis_up`.
 */
export function createClusterMetrics(registry: Registry, up: () => boolean): ClusterMetrics {
  const registers = [registry];
  new Gauge({
    name: 'video_chat_redis_up',
    help: 'Whether this relay can reach the Redis its rooms are shared through (1) or not (0).',
    registers,
    collect() {
      this.set(up() ? 1 : 0);
    },
  });
  const metrics: ClusterMetrics = {
    crossNode: new Counter({
      name: 'video_chat_cross_node_messages_total',
      help: 'Signals between relay processes through Redis, by direction (out: routed, in: delivered here).',
      labelNames: ['direction'],
      registers,
    }),
    route: new Counter({
      name: 'video_chat_route_total',
      help: 'Signals to a participant not live on this relay, by outcome (sent, queued, unknown, full, slow, dropped; detour: a cached route was stale).',
      labelNames: ['outcome'],
      registers,
    }),
    leasesLost: new Counter({
      name: 'video_chat_lease_lost_total',
      help: 'Times this relay found its lease in Redis lost (declared gone while running).',
      registers,
    }),
    sweeps: new Counter({
      name: 'video_chat_sweep_total',
      help: 'Expired relay leases (node) and grace periods (grace) swept by this relay.',
      labelNames: ['what'],
      registers,
    }),
    subscriberReplaced: new Counter({
      name: 'video_chat_redis_subscriber_replaced_total',
      help: 'Times the Redis subscriber connection stopped delivering (canary lost) and was replaced.',
      registers,
    }),
  };
  for (const direction of ['in', 'out']) metrics.crossNode.inc({ direction }, 0);
  for (const outcome of ROUTE_OUTCOMES) metrics.route.inc({ outcome }, 0);
  for (const what of ['node', 'grace']) metrics.sweeps.inc({ what }, 0);
  return metrics;
}
