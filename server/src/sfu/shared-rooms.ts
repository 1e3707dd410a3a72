/**
 * The SFU's room state shared by several relay processes through Redis (with `--redis-url` and `--janus-url`): each
 * room's media mode, its members' SFU capability, the room token's `media` claim and its Janus room (ID, pin,
 * secret). Every decision is one Lua script, atomic, so that the rules of one process hold across processes
 * (`docs/protocol.md` "Rooms on an SFU", `docs/decisions/0007-sfu-brokered-janus.md`):
 *
 * - `admit` decides a join before the relay's own `join` script runs: refused (`sfu-only`: no `sfu` capability in an
 *   SFU room; `full`: mesh or SFU capacity), or admitted with the room's mode, switching it when this join brings it
 *   to `sfuFrom` (or the claim says `sfu`) and every member can. An admitted join holds a **reservation** (a ZSET
 *   entry with a deadline, `RESERVATION_MS`) until `confirm`, so that simultaneous joins on several processes count
 *   each other: capacity holds atomically. A switch publishes `x{"k":"mode",…}` to the channel of every other relay
 *   with a member or a reservation in the room, before that relay can hear the newcomer's `joined`.
 * - `release` runs when a participant leaves this relay (left, or moved to another one): if nobody is left in the
 *   room (the relay's own membership hash, read here) and nobody holds a reservation, the state is removed and the
 *   caller destroys the Janus room. `janitor` does the same for every room (a relay that died, two last members
 *   leaving at once on two relays), run by every relay now and then; both are claims: one relay wins.
 * - `restore` (`writeBack`) is each relay's write-back after Redis came back, perhaps empty (the write-back hook of
 *   `redis/upkeep.ts`): the relays that hold the members write the room's mode, claim, Janus room and capabilities
 *   back, so that a room on the SFU stays there (it would otherwise restart in mesh with unknown capabilities).
 *
 * The scripts are in `shared-scripts.ts`. Keys, under the relay's `--redis-prefix` `P` (read only: `P room:<room>` and `P peer:<id>` of
 * `server/src/redis/scripts.ts`):
 * - `P sfu:<room>` HASH `mode` (`mesh` | `sfu`), `claim` (`''` | `mesh` | `sfu`), `jid`, `pin`, `secret`;
 * - `P sfu:caps:<room>` HASH participant ID → `1` | `0` (announced `sfu` in `join.caps`);
 * - `P sfu:by:<room>` HASH participant ID → the node that brokers it (set by `confirm`, `take` and `restore`): a
 *   participant that resumes on a relay that still holds it from before learns there whether another relay brokered
 *   it meanwhile (it moved and came back before that relay's janitor noticed);
 * - `P sfu:pend:<room>` ZSET reservation → deadline (ms, Redis's clock); a reservation is `<cap><node> <random>`, or
 *   `r<node>` for a write-back's hold (`restore`);
 * - `P sfu:rooms` SET of the rooms with state (for the janitor).
 *
 * @module
 */
import type { Logger } from '../log.js';
import { runScript } from '../redis/lua.js';
import type { JanusRoom } from './janus-rooms.js';
import { ADMIT, CONFIRM, JANITOR, RELEASE, RESTORE, TAKE, type Script } from './shared-scripts.js';

/** How long a reservation holds a place without `confirm` (a relay that died mid-join), in ms. */
export const RESERVATION_MS = 15_000;

/** Rooms one `janitor` call looks at, at most. */
const JANITOR_BATCH = 200;

/** What one relay writes back of a room it serves (see {@link SharedRooms.restore}). */
export interface RoomWriteBack {
  room: string;
  mode: 'mesh' | 'sfu';
  claim: 'mesh' | 'sfu' | undefined;
  janus: JanusRoom | undefined;
  /** The room's members this relay serves, with their capability. */
  members: readonly (readonly [id: string, capable: boolean])[];
  node: string;
}

/** How long a write-back holds its room against a claim (see `sfu-restore`), in ms. */
export const WRITE_BACK_HOLD_MS = 5_000;

/** Write-back attempts after Redis came back ({@link SharedRooms.writeBack}), and the time between two, in ms. */
const WRITE_BACK_TRIES = 10;
const WRITE_BACK_RETRY_MS = 500;

/** The mode decision of one join. */
export type Admission =
  | { ok: false; reason: 'sfu-only' }
  | { ok: false; reason: 'full'; capacity: number }
  | {
      ok: true;
      mode: 'mesh' | 'sfu';
      /** This join switched the room to the SFU (the caller tells its own members, Redis told the others). */
      switched: boolean;
      /** The room's Janus room when on the SFU. */
      janus: JanusRoom | undefined;
      /** A Janus room left by an earlier life of this room, to destroy. */
      stale: Pick<JanusRoom, 'id' | 'secret'> | undefined;
      /** The room token's `media` claim that decides the room. */
      claim: 'mesh' | 'sfu' | undefined;
    };

/** What a join asks {@link SharedRooms.admit}. */
export interface AdmitRequest {
  room: string;
  /** The reservation: `<1|0><node> <random>` (see the module documentation). */
  reservation: string;
  capable: boolean;
  claim: 'mesh' | 'sfu' | undefined;
  /** The Janus room to use if this join switches the room. */
  janus: JanusRoom;
  node: string;
}

/** The rules {@link SharedRooms.admit} applies. */
export interface SharedRules {
  sfuFrom: number;
  maxPeersPerMeshRoom: number;
  maxPeersPerSfuRoom: number;
}

/** The `x` message a switch publishes (parsed), or `undefined` for anything else. */
export function parseModeMessage(text: string): { room: string; janus: JanusRoom } | undefined {
  try {
    const m = JSON.parse(text) as Record<string, unknown>;
    const { k, r, mode, j, p, s } = m;
    if (k !== 'mode' || mode !== 'sfu' || typeof r !== 'string') return undefined;
    if (typeof j !== 'string' || typeof p !== 'string' || typeof s !== 'string') return undefined;
    return { room: r, janus: { id: j, pin: p, secret: s } };
  } catch {
    return undefined;
  }
}

type Reply = number | string | null | Reply[];

/** The command connection (`redis/command-client.ts`, loaded on demand). */
type Client = import('../redis/command-client.js').CommandClient;

/**
 * The shared room state, over its own `@redis/client` command connection (loaded with a dynamic `import()`, as the
 * relay's Redis module is). Every method rejects when Redis does not answer; the caller decides.
 */
export class SharedRooms {
  readonly #prefix: string;
  readonly #rules: SharedRules;
  readonly #client: Promise<Client>;
  readonly #log: Logger;
  #closed = false;

  constructor(url: string, prefix: string, rules: SharedRules, log: Logger) {
    this.#prefix = prefix;
    this.#log = log;
    this.#rules = rules;
    this.#client = import('../redis/command-client.js').then((m) =>
      m.openCommandClient(url, 'video-chat-sfu', (error) => {
        if (!this.#closed) log.debug({ err: error.message }, 'sfu: Redis client error');
      }),
    );
    this.#client.catch((error: unknown) => log.error({ err: String(error) }, 'sfu: cannot reach Redis'));
  }

  /** Decides a join; see the module documentation. */
  async admit(request: AdmitRequest): Promise<Admission> {
    const { sfuFrom, maxPeersPerMeshRoom, maxPeersPerSfuRoom } = this.#rules;
    const { room, reservation, capable, claim, janus, node } = request;
    const out = await this.#run(ADMIT, [
      room,
      reservation,
      capable ? '1' : '0',
      claim ?? '',
      sfuFrom,
      maxPeersPerMeshRoom,
      maxPeersPerSfuRoom,
      janus.id,
      janus.pin,
      janus.secret,
      node,
      RESERVATION_MS,
    ]);
    const [ok, mode, switched, id, pin, secret, staleId, staleSecret, held] = Array.isArray(out) ? out.map(String) : [];
    if (ok !== '1') {
      if (mode === 'sfu-only') return { ok: false, reason: 'sfu-only' };
      return { ok: false, reason: 'full', capacity: Number(switched) };
    }
    return {
      ok: true,
      mode: mode === 'sfu' ? 'sfu' : 'mesh',
      switched: switched === '1',
      janus: id ? { id, pin: pin ?? '', secret: secret ?? '' } : undefined,
      stale: staleId ? { id: staleId, secret: staleSecret ?? '' } : undefined,
      claim: held === 'sfu' || held === 'mesh' ? held : undefined,
    };
  }

  /**
   * Writes back what this relay knows of a room it serves (Redis came back, perhaps without its data): the room's
   * mode, claim and Janus room unless Redis has them, and its members' capabilities.
   * @returns whether the room's state was written (Redis lacked it).
   */
  async restore(back: RoomWriteBack): Promise<boolean> {
    const { room, mode, claim, janus, members, node } = back;
    const pairs = members.flatMap(([id, capable]) => [id, capable ? '1' : '0']);
    const args = [room, mode, claim ?? '', janus?.id ?? '', janus?.pin ?? '', janus?.secret ?? '', node];
    const out = await this.#run(RESTORE, [...args, WRITE_BACK_HOLD_MS, ...pairs]);
    return Number(out) === 1;
  }

  /**
   * Writes back every room `rooms()` gives (see {@link restore}), retried {@link WRITE_BACK_TRIES} times
   * {@link WRITE_BACK_RETRY_MS} apart while this module's own connection is not back yet. Never throws; logged.
   * @param rooms what to write back now, read again on each attempt; `undefined` stops (the relay closed, or it goes
   *   on under another node ID).
   */
  writeBack(rooms: () => RoomWriteBack[] | undefined, attempt = 0): void {
    const now = rooms();
    if (!now) return;
    Promise.all(now.map((back) => this.restore(back))).then(
      (written) => {
        const count = written.filter(Boolean).length;
        this.#log.info({ rooms: now.length, written: count }, 'sfu: wrote back the rooms this relay serves');
      },
      (error: unknown) => {
        if (attempt + 1 >= WRITE_BACK_TRIES) {
          this.#log.error({ err: String(error) }, 'sfu: write-back to Redis failed: its rooms may restart in mesh');
          return;
        }
        setTimeout(() => this.writeBack(rooms, attempt + 1), WRITE_BACK_RETRY_MS).unref();
      },
    );
  }

  /** Ends a reservation: the join made participant `id` (or failed: `undefined`). */
  async confirm(room: string, reservation: string, id: string | undefined, capable: boolean): Promise<void> {
    await this.#run(CONFIRM, [room, reservation, id ?? '', capable ? '1' : '0']);
  }

  /**
   * Participant `member` resumed on `node`, which brokers it from now on: the room's state now (mode, Janus room,
   * claim, the member's capability) and the node that brokered it before (`undefined`: none recorded), or `undefined`
   * without state (then nothing is recorded).
   */
  async take(
    room: string,
    member: string,
    node: string,
  ): Promise<
    | {
        mode: 'mesh' | 'sfu';
        janus: JanusRoom | undefined;
        claim: 'mesh' | 'sfu' | undefined;
        capable: boolean | undefined;
        before: string | undefined;
      }
    | undefined
  > {
    const out = await this.#run(TAKE, [room, member, node]);
    const [before, mode, id, pin, secret, claim, cap] = Array.isArray(out) ? out.map(String) : [];
    if (!mode) return undefined;
    return {
      mode: mode === 'sfu' ? 'sfu' : 'mesh',
      janus: id ? { id, pin: pin ?? '', secret: secret ?? '' } : undefined,
      claim: claim === 'sfu' || claim === 'mesh' ? claim : undefined,
      capable: cap ? cap === '1' : undefined,
      before: before || undefined,
    };
  }

  /** The node that serves participant `id` now, per the relay's own record (`undefined`: it left). */
  async nodeOf(id: string): Promise<string | undefined> {
    const client = await this.#client;
    const node = await client.sendCommand<Reply>(['HGET', `${this.#prefix}peer:${id}`, 'node']);
    return node === null ? undefined : String(node);
  }

  /**
   * Participant `id` is no longer served by `node`.
   * @returns the Janus room to destroy when the room emptied with it (`id` `''` if it never went to the SFU), or
   *   `undefined` while anyone is in the room.
   */
  async release(room: string, id: string, node: string): Promise<Pick<JanusRoom, 'id' | 'secret'> | undefined> {
    const out = await this.#run(RELEASE, [room, id, node]);
    const [ok, jid, secret] = Array.isArray(out) ? out.map(String) : [];
    return ok === '1' ? { id: jid ?? '', secret: secret ?? '' } : undefined;
  }

  /** Claims the rooms that emptied without a `release` claiming them. @returns each with its Janus room (`id` `''`: none). */
  async janitor(): Promise<{ room: string; janus: Pick<JanusRoom, 'id' | 'secret'> }[]> {
    const out = await this.#run(JANITOR, [JANITOR_BATCH]);
    const flat = Array.isArray(out) ? out.map(String) : [];
    const rooms = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      rooms.push({ room: flat[i] ?? '', janus: { id: flat[i + 1] ?? '', secret: flat[i + 2] ?? '' } });
    }
    return rooms;
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = await this.#client.catch(() => undefined);
    if (!client) return;
    await client.close().catch(() => undefined);
    client.destroy();
  }

  async #run(script: Script, args: readonly (string | number)[]): Promise<Reply> {
    return runScript<Reply>(await this.#client, script, [this.#prefix, ...args]);
  }
}
