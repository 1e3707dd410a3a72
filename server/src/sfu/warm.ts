/**
 * The warm path of a room about to switch to the SFU (issue 12; `docs/sfu.md` "The warm path"): when a room in mesh
 * holds `sfuFrom − 1` participants (at least {@link WARM_MIN_MEMBERS}), each of whom announced both `sfu` and `warm` in `join.caps`, and its
 * mesh has been quiet for {@link WARM_QUIET_MS} (no `signal` relayed between its members: every mesh connection is
 * up, and its later negotiations travel over the data channel), the relay brokers every member into the Janus room
 * ahead of time (`SfuBroker.openRoom` / `enter`) and sends each an SFU `prepare`. The elements then make their
 * publishing connection with nothing sent and their subscribing connection, showing nothing, while their mesh runs
 * quietly; at the switch (`mode`) they only turn their encodings on, and the broker adds the newcomer's feed to each
 * subscription. The heavy synchronous WebRTC calls of making two connections leave the switch.
 *
 * Torn down (an SFU `unprepare` to each member, the Janus room destroyed and every member's Janus session dropped)
 * whenever the room stops qualifying while still in mesh: it shrank below `sfuFrom − 1`, or grew without switching (a
 * member that cannot switch joined). A relay restart loses it with the rest of the relay's memory: the elements drop
 * their topology at the fresh welcome, and the warm path is made again once the room qualifies and is quiet.
 * Rooms shared through Redis (`shared-participants.ts`) are not warmed.
 *
 * What a room warmed for nothing costs Janus: one VideoRoom room, one session per member with a publisher handle
 * (DTLS up, no RTP) and a subscriber handle (no media to forward), and ICE consent checks: no decoding, no forwarding.
 *
 * @module
 */
import type { SfuDelivery } from '../../../src/protocol/sfu.js';
import type { Logger } from '../log.js';
import type { SfuBroker } from './broker.js';

/**
 * Quiet (ms) of a room's relayed `signal`s before its members are prepared: a mesh of 4 negotiates (offers, answers,
 * trickled candidates) through the relay for ~0.5–1.5 s after a join on a loaded machine; 2 s without any means every
 * connection is up, so the connections the warm path makes do not compete with the mesh's setup.
 */
export const WARM_QUIET_MS = 2_000;

/**
 * Fewest members a room is prepared at. Not 2: with `--sfu-from 3` most rooms are calls of two that never grow, and
 * each would hold Janus sessions for its whole life; and the switch a warm path helps is that of a larger mesh (the
 * 4 → 5 gap of issue 12: four pages each closing three mesh connections while making two), while 2 → 3 has one mesh
 * connection per page to break.
 */
export const WARM_MIN_MEMBERS = 3;

/** What the warm path needs from the participants (`sfu-participants.ts`). */
export interface WarmHost {
  /**
   * Whether `room` qualifies now: in mesh, no `media` claim, `sfuFrom − 1` (≥ {@link WARM_MIN_MEMBERS}) members, every
   * one announcing `sfu` and `warm`.
   */
  qualifies(room: string): boolean;
  /** The room's members, `[id, name]`. */
  members(room: string): [string, string][];
  send(id: string, data: SfuDelivery): boolean;
  readonly broker: Pick<SfuBroker, 'openRoom' | 'enter' | 'closeRoom'>;
  readonly log: Logger;
}

/** The rooms on the warm path, and those waiting for their mesh to be quiet; see the module documentation. */
export class WarmRooms {
  readonly #host: WarmHost;
  readonly #quietMs: number;
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** The rooms prepared, with the IDs of the members told `prepare` (only they are told `unprepare`). */
  readonly #warm = new Map<string, Set<string>>();

  constructor(host: WarmHost, quietMs = WARM_QUIET_MS) {
    this.#host = host;
    this.#quietMs = quietMs;
  }

  /** Whether `room`'s members were prepared (and not torn down or switched since). */
  has(room: string): boolean {
    return this.#warm.has(room);
  }

  /** `room`'s membership changed (while in mesh): wait for quiet to prepare it, or tear its warm path down. */
  changed(room: string): void {
    if (this.#host.qualifies(room)) {
      if (!this.#warm.has(room)) this.#arm(room);
      return;
    }
    this.#cancel(room);
    const prepared = this.#warm.get(room);
    if (!prepared) return;
    this.#warm.delete(room);
    this.#host.log.info({ room }, 'sfu: warm path torn down');
    for (const [id] of this.#host.members(room)) if (prepared.has(id)) this.#host.send(id, { op: 'unprepare' });
    void this.#host.broker.closeRoom(room); // its sessions go and the Janus room is destroyed; never throws
  }

  /** A `signal` was relayed between two of `room`'s members: its mesh is still negotiating, quiet starts again. */
  activity(room: string): void {
    if (this.#timers.has(room)) this.#arm(room);
  }

  /** `room` switched to the SFU: its prepared members go on as they are (the broker keeps them). */
  switched(room: string): void {
    this.#cancel(room);
    this.#warm.delete(room);
  }

  /** Forgets every room (the relay closes; the broker closes its rooms itself). */
  clear(): void {
    for (const room of [...this.#timers.keys()]) this.#cancel(room);
    this.#warm.clear();
  }

  #arm(room: string): void {
    clearTimeout(this.#timers.get(room));
    const timer = setTimeout(() => {
      this.#timers.delete(room);
      if (this.#host.qualifies(room) && !this.#warm.has(room)) this.#prepare(room);
    }, this.#quietMs);
    timer.unref?.();
    this.#timers.set(room, timer);
  }

  #cancel(room: string): void {
    clearTimeout(this.#timers.get(room));
    this.#timers.delete(room);
  }

  #prepare(room: string): void {
    const members = this.#host.members(room);
    this.#warm.set(room, new Set(members.map(([id]) => id)));
    this.#host.log.info({ room, peers: members.length }, 'sfu: warm path prepared');
    // `prepare` first: every later SFU message (feeds, offers) finds the element's topology warm.
    for (const [id] of members) this.#host.send(id, { op: 'prepare' });
    this.#host.broker.openRoom(room).catch(() => undefined); // failures reach the members as SFU errors
    for (const [id, name] of members) this.#host.broker.enter(room, id, name);
  }
}
