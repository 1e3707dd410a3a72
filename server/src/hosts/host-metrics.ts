/**
 * Metrics of hosts and guests (prom-client), registered on the relay's own registry beside `metrics.ts`'s.
 *
 * @module
 */
import { Counter, type Registry } from 'prom-client';
import { HOST_CLIENT_TYPES } from '../../../src/protocol/relay.js';

/** Labels `outcome` of `video_chat_knocks_total`: a knock started, refused by the flood limit, or how it ended. */
export const KNOCK_METRIC_OUTCOMES = [
  'knocked',
  'rate-limited',
  'admitted',
  'denied',
  'cancelled',
  'left',
  'timeout',
  'ended',
] as const;

/** The host layer's counters. */
export interface HostMetrics {
  /** Host actions by `action` (message type) and `outcome`: `done`, `forbidden` (from a guest), `unknown` (no such target). */
  readonly actions: Counter<'action' | 'outcome'>;
  /** Knocks by outcome ({@link KNOCK_METRIC_OUTCOMES}). */
  readonly knocks: Counter<'outcome'>;
}

/** Registers the host metrics on `registry`, every label value present from the start at 0. */
export function createHostMetrics(registry: Registry): HostMetrics {
  const registers = [registry];
  const metrics: HostMetrics = {
    actions: new Counter({
      name: 'video_chat_host_actions_total',
      help: 'Host actions by action and outcome (done, forbidden: from a guest, unknown: no such knock or participant).',
      labelNames: ['action', 'outcome'],
      registers,
    }),
    knocks: new Counter({
      name: 'video_chat_knocks_total',
      help: 'Waiting-room knocks by outcome (knocked, rate-limited, admitted, denied, cancelled, left, timeout, ended).',
      labelNames: ['outcome'],
      registers,
    }),
  };
  for (const action of HOST_CLIENT_TYPES) {
    if (action === 'cancel') continue;
    for (const outcome of ['done', 'forbidden', 'unknown']) metrics.actions.inc({ action, outcome }, 0);
  }
  for (const outcome of KNOCK_METRIC_OUTCOMES) metrics.knocks.inc({ outcome }, 0);
  return metrics;
}
