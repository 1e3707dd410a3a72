/**
 * The room registry: which peer is in which room, in joining order. Pure data, no sockets and no I/O, so every rule
 * about membership (capacity, removal by ID, empty rooms disappear) is unit-testable without a network.
 *
 * It is the relay's only membership structure: generic over the member type `M`, it stores the relay's own member
 * objects (`participants.ts` keeps its `Member` here, found by ID with {@link RoomRegistry.get}) beside a copy of
 * their {@link PeerInfo}, the part that goes on the wire. There is no second map of participants by ID.
 *
 * @experimental Not part of the package's public API any more (`server/src/index.ts` no longer exports it); its
 *   shape may change with the Redis-backed membership.
 * @module
 */
import type { PeerInfo } from '../../src/protocol/relay.js';

/** Outcome of {@link RoomRegistry.join}: the peers already present (joining order), or why nothing was joined. */
export type JoinResult = { ok: true; peers: PeerInfo[] } | { ok: false; code: 'room-full' };

/** Outcome of {@link RoomRegistry.leave}: the room that was left and who is still in it (joining order). */
export interface LeaveResult {
  room: string;
  remaining: PeerInfo[];
}

/**
 * Rooms → members keyed by peer ID. A `Map` keeps insertion order, which is the joining order the protocol promises
 * in `welcome.peers`. Members are always found and removed by ID: a position remembered at connect time goes stale
 * as soon as anyone else leaves, and removing by it would evict the wrong peer.
 */
export class RoomRegistry<M extends PeerInfo = PeerInfo> {
  /** Largest number of members per room. */
  readonly capacity: number;
  /** Room → (ID → entry), in joining order. */
  readonly #rooms = new Map<string, Map<string, Entry<M>>>();
  /** Reverse index (ID → its room and entry), so that leaving and finding a member need only the ID, in one lookup. */
  readonly #byId = new Map<string, Located<M>>();

  /** @param capacity members per room, an integer ≥ 1; anything else throws a `RangeError`. */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be an integer >= 1, got ${String(capacity)}`);
    }
    this.capacity = capacity;
  }

  /**
   * Adds `peer` to `room`, creating the room if needed. The object itself is kept (see {@link get}); what the registry
   * hands out as {@link PeerInfo} is a copy of its `id` and `name` taken now.
   * @param room the room's name.
   * @param peer the member; its `id` is its key.
   * @returns the peers already present (excluding `peer`), or `room-full` with nothing changed.
   * @throws Error if `peer.id` is already a member of some room (IDs are unique; the caller must `leave` first).
   */
  join(room: string, peer: M): JoinResult {
    if (this.#byId.has(peer.id)) throw new Error(`peer ${peer.id} is already in a room`);
    const members = this.#rooms.get(room) ?? new Map<string, Entry<M>>();
    if (members.size >= this.capacity) return { ok: false, code: 'room-full' };
    const peers = infos(members.values());
    // Store a copy of the wire part: the registry must not change because a caller mutated the object it passed in.
    const entry = { member: peer, info: copy(peer) };
    members.set(peer.id, entry);
    this.#rooms.set(room, members);
    this.#byId.set(peer.id, { room, entry });
    return { ok: true, peers };
  }

  /**
   * Removes the peer with this ID from its room; a room left empty is deleted.
   * @returns the room and its remaining members, or `undefined` if the ID is in no room.
   */
  leave(id: string): LeaveResult | undefined {
    const room = this.#byId.get(id)?.room;
    if (room === undefined) return undefined;
    this.#byId.delete(id);
    const members = this.#rooms.get(room);
    members?.delete(id);
    if (!members || members.size === 0) this.#rooms.delete(room);
    return { room, remaining: members ? infos(members.values()) : [] };
  }

  /**
   * The member with this ID, as passed to {@link join}.
   * @returns the member, or `undefined` if the ID is in no room.
   */
  get(id: string): M | undefined {
    return this.#byId.get(id)?.entry.member;
  }

  /**
   * The members of `room` in joining order, without copying (for delivery). Do not join or leave while iterating.
   * @returns an iterator over the members, empty if the room does not exist.
   */
  *each(room: string): IterableIterator<M> {
    const members = this.#rooms.get(room);
    if (members === undefined) return;
    for (const entry of members.values()) yield entry.member;
  }

  /** @returns every member of every room, as a new array (safe to leave while walking it). */
  all(): M[] {
    const all: M[] = [];
    for (const members of this.#rooms.values()) for (const entry of members.values()) all.push(entry.member);
    return all;
  }

  /** The room the peer with this ID is in, if any. */
  roomOf(id: string): string | undefined {
    return this.#byId.get(id)?.room;
  }

  /** Everyone in `room`, in joining order (empty if the room does not exist). */
  members(room: string): PeerInfo[] {
    const members = this.#rooms.get(room);
    return members === undefined ? [] : infos(members.values());
  }

  /** The other members of the room the peer with this ID is in, in joining order (empty if it is in no room). */
  peersOf(id: string): PeerInfo[] {
    const room = this.#byId.get(id)?.room;
    return room === undefined ? [] : this.members(room).filter((p) => p.id !== id);
  }

  /** Number of non-empty rooms. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  /** Number of peers in all rooms. */
  get peerCount(): number {
    return this.#byId.size;
  }
}

/** Where a member is: its room and its entry there. */
interface Located<M> {
  readonly room: string;
  readonly entry: Entry<M>;
}

/** A member and the copy of its wire part taken when it joined. */
interface Entry<M> {
  readonly member: M;
  readonly info: PeerInfo;
}

const copy = (p: PeerInfo): PeerInfo => ({ id: p.id, name: p.name });

/** Fresh copies of the entries' {@link PeerInfo}, in order. */
function infos<M>(entries: Iterable<Entry<M>>): PeerInfo[] {
  const out: PeerInfo[] = [];
  for (const entry of entries) out.push(copy(entry.info));
  return out;
}
