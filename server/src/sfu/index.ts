/**
 * The relay's SFU (Janus VideoRoom, brokered): what `relay.ts` wires in when `--janus-url` is set. See
 * `sfu-participants.ts` (rooms and their mode), `broker.ts` (the VideoRoom on the participants' behalf) and
 * `janus.ts` (the Janus API client); with rooms shared through Redis, `shared-participants.ts` and `shared-rooms.ts`.
 *
 * @module
 */
import type { Logger } from '../log.js';
import type { Participants } from '../participants.js';
import { SfuBroker } from './broker.js';
import type { ResolvedSfuOptions } from './options.js';
import { SfuParticipants } from './sfu-participants.js';
import { isRedisInner, SharedSfuParticipants } from './shared-participants.js';

export { SfuBroker } from './broker.js';
export { SfuParticipants } from './sfu-participants.js';
export { SharedSfuParticipants } from './shared-participants.js';

/**
 * @param inner the relay's participants, built with capacity `options.maxPeersPerSfuRoom`, whose `departed` hook must
 *   call the result's `departed`.
 * @param options the resolved SFU options.
 * @param maxPeersPerMeshRoom the relay's `maxPeersPerRoom`: a room's capacity in mesh.
 */
export function createSfuParticipants(
  inner: Participants,
  options: ResolvedSfuOptions,
  maxPeersPerMeshRoom: number,
  log: Logger,
): SfuParticipants | SharedSfuParticipants {
  // The broker sends through the participants, which need the broker: the closure reads the binding once it is set.
  // eslint-disable-next-line prefer-const
  let participants: SfuParticipants | SharedSfuParticipants | undefined;
  const broker = new SfuBroker({
    url: options.janusUrl,
    apiSecret: options.janusApiSecret,
    adminKey: options.janusAdminKey,
    maxPublishers: options.maxPeersPerSfuRoom,
    log,
    send: (id, data) => participants?.send(id, data) ?? false,
  });
  const rules = { sfuFrom: options.sfuFrom, maxPeersPerMeshRoom, maxPeersPerSfuRoom: options.maxPeersPerSfuRoom };
  // Rooms shared through Redis: the room's mode lives in Redis too (shared-participants.ts, shared-rooms.ts).
  participants =
    options.shared && isRedisInner(inner)
      ? new SharedSfuParticipants(
          inner,
          broker,
          rules,
          { url: options.shared.redisUrl, prefix: options.shared.redisPrefix },
          log,
        )
      : new SfuParticipants(inner, broker, rules, log);
  return participants;
}
