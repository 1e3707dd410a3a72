/**
 * Rooms that switch from the per-peer mesh to the SFU: a {@link Participants} around the relay's own one (in memory,
 * or shared through Redis) that keeps each room's media mode and serves the SFU messages (`src/protocol/sfu.ts`)
 * through the {@link SfuBroker}. Everything else is the inner implementation's.
 *
 * The rules (`docs/protocol.md` "Rooms on an SFU"):
 * - a room starts in mesh; it switches to the SFU when a join brings it to `sfuFrom` participants and every member,
 *   the newcomer included, announced the `sfu` capability in `join.caps`. It stays on the SFU until it empties;
 * - capacity is per mode: `maxPeersPerRoom` in mesh (a join beyond it that cannot switch the room is `room-full`),
 *   `maxPeersPerSfuRoom` on the SFU;
 * - a client without the capability (a v1 client) keeps the room in mesh, and is refused with `room-full` from a room
 *   already on the SFU;
 * - the mode is told to capable clients only, as an SFU `mode` message: before their welcome when the room is on the
 *   SFU already, to everyone when it switches;
 * - a room token's `media` claim forces a mode: `sfu` from the first participant that can, `mesh` whatever the size;
 *   the claim of the room's first participant decides while the room exists;
 * - the Janus room is created when the room switches and destroyed when its last participant leaves.
 *
 * With rooms shared through Redis, `shared-participants.ts` keeps these rules across relay processes.
 *
 * @module
 */
import { SFU_CAPABILITY, SFU_PEER_ID, parseSfuRequest, type SfuDelivery } from '../../../src/protocol/sfu.js';
import type { ResumeCredentials, SignalRequest } from '../../../src/protocol/relay.js';
import type { Logger } from '../log.js';
import type { JoinDetails, Joined, Link, ParticipantCounts, Participants } from '../participants.js';
import type { SfuBroker } from './broker.js';

/** The per-room mode settings. */
export interface SfuRoomRules {
  /** Participants at which a room switches to the SFU (when all can). */
  sfuFrom: number;
  /** Capacity of a room in mesh. */
  maxPeersPerMeshRoom: number;
  /** Capacity of a room on the SFU. */
  maxPeersPerSfuRoom: number;
}

interface Member {
  link: Link;
  name: string;
  capable: boolean;
}

interface RoomState {
  mode: 'mesh' | 'sfu';
  members: Map<string, Member>;
  /** The `media` claim of the first participant's room token: `sfu` from the first that can, `mesh` for good. */
  claim: 'mesh' | 'sfu' | undefined;
}

/** Participants with a media mode per room; see the module documentation. */
export class SfuParticipants implements Participants {
  readonly #inner: Participants;
  readonly #broker: SfuBroker;
  readonly #rules: SfuRoomRules;
  readonly #log: Logger;
  readonly #rooms = new Map<string, RoomState>();
  /** The room of each participant in {@link #rooms}, for the broker's sends. */
  readonly #roomOf = new Map<string, string>();

  /**
   * @param inner the relay's participants, built with capacity `maxPeersPerSfuRoom` and whose `departed` hook calls
   *   {@link departed}.
   */
  constructor(inner: Participants, broker: SfuBroker, rules: SfuRoomRules, log: Logger) {
    this.#inner = inner;
    this.#broker = broker;
    this.#rules = rules;
    this.#log = log;
  }

  /** The media mode of `room`, or `undefined` when nobody is in it. */
  mode(room: string): 'mesh' | 'sfu' | undefined {
    return this.#rooms.get(room)?.mode;
  }

  admit(link: Link, room: string, name: string, caps?: readonly string[], join?: JoinDetails): void {
    const state = this.#rooms.get(room) ?? {
      mode: 'mesh',
      members: new Map<string, Member>(),
      claim: join?.grant?.media,
    };
    const capable = caps?.includes(SFU_CAPABILITY) ?? false;
    const size = state.members.size;
    const { sfuFrom, maxPeersPerMeshRoom, maxPeersPerSfuRoom } = this.#rules;
    let switching = false;
    if (state.mode === 'sfu') {
      if (!capable) {
        link.fail(
          'room-full',
          `room ${JSON.stringify(room)} runs on the SFU and this client cannot join it (no "sfu" in join.caps)`,
        );
        return;
      }
      if (size >= maxPeersPerSfuRoom) {
        link.fail('room-full', `room ${JSON.stringify(room)} is full (${maxPeersPerSfuRoom} participants)`);
        return;
      }
    } else {
      switching =
        capable &&
        state.claim !== 'mesh' &&
        (state.claim === 'sfu' || size + 1 >= sfuFrom) &&
        [...state.members.values()].every((m) => m.capable);
      if (!switching && size >= maxPeersPerMeshRoom) {
        link.fail('room-full', `room ${JSON.stringify(room)} is full (${maxPeersPerMeshRoom} participants)`);
        return;
      }
    }
    // The newcomer learns the mode before its welcome, so that it never starts mesh connections in an SFU room.
    const mode: SfuDelivery = { op: 'mode', mode: 'sfu' };
    if (state.mode === 'sfu' || switching) link.send({ type: 'signal', from: SFU_PEER_ID, data: mode });
    // The members hear it before `peer-joined`, so that none of them starts a mesh connection with the newcomer.
    if (switching)
      for (const member of state.members.values()) member.link.send({ type: 'signal', from: SFU_PEER_ID, data: mode });
    // The inner participants are in-memory ones (options.ts refuses an SFU with shared rooms): they answer at once.
    void this.#inner.admit(link, room, name, caps, join);
    const joined = link.member;
    if (!joined) return;
    state.members.set(joined.id, { link, name, capable });
    this.#roomOf.set(joined.id, room);
    this.#rooms.set(room, state);
    if (switching) {
      state.mode = 'sfu';
      this.#log.info({ room, peers: state.members.size }, 'sfu: room switches to the SFU');
      this.#broker.openRoom(room).catch(() => undefined); // failures reach the members as SFU errors
      for (const [id, member] of state.members) this.#broker.enter(room, id, member.name);
    } else if (state.mode === 'sfu') {
      // Subscribed to everyone now, whatever becomes of its own publish (broker.ts "Entering").
      this.#broker.enter(room, joined.id, name);
    }
  }

  resume(link: Link, room: string, credentials: ResumeCredentials): void {
    void this.#inner.resume(link, room, credentials); // at once, as admit
    const joined = link.member;
    const member = joined && this.#rooms.get(joined.room)?.members.get(joined.id);
    if (member) member.link = link;
  }

  signal(link: Link, to: string, data: SignalRequest['data']): void {
    if (to !== SFU_PEER_ID) {
      this.#inner.signal(link, to, data);
      return;
    }
    const joined = link.member;
    if (!joined) return;
    const member = this.#rooms.get(joined.room)?.members.get(joined.id);
    if (this.#rooms.get(joined.room)?.mode !== 'sfu' || !member) {
      link.fail('unknown-peer', 'this room is not on the SFU: there is no peer "sfu"');
      return;
    }
    const request = parseSfuRequest(data);
    if (!request.ok) {
      link.fail('bad-message', request.error.message);
      return;
    }
    if (request.value.op === 'publish' && request.value.id !== undefined && request.value.id !== joined.id) {
      this.#log.warn({ id: joined.id, room: joined.room }, 'sfu: publish as another participant refused');
      link.fail('unauthorized', 'a participant publishes as itself only');
      return;
    }
    this.#broker.handle(joined.room, joined.id, member.name, request.value);
  }

  leave(link: Link): void {
    this.#inner.leave(link);
  }

  detach(link: Link, code: number, noResume: boolean): boolean {
    return this.#inner.detach(link, code, noResume);
  }

  clear(): void {
    this.#inner.clear();
    void this.#broker.close();
  }

  counts(): ParticipantCounts {
    return this.#inner.counts();
  }

  /** The inner participants' `departed` hook: a participant left its room for good. */
  departed(joined: Joined): void {
    const state = this.#rooms.get(joined.room);
    if (!state?.members.delete(joined.id)) return;
    this.#roomOf.delete(joined.id);
    if (state.mode === 'sfu') void this.#broker.leave(joined.room, joined.id);
    if (state.members.size > 0) return;
    this.#rooms.delete(joined.room);
    if (state.mode === 'sfu') void this.#broker.closeRoom(joined.room);
  }

  /** Sends an SFU message to participant `id` (the broker's `send`). @returns whether it was handed on. */
  send(id: string, data: SfuDelivery): boolean {
    const room = this.#roomOf.get(id);
    const member = room === undefined ? undefined : this.#rooms.get(room)?.members.get(id);
    return member?.link.member?.id === id && member.link.send({ type: 'signal', from: SFU_PEER_ID, data });
  }
}
