/**
 * The relay's broker of Janus VideoRoom (https://janus.conf.meetecho.com/docs/videoroom.html, multistream API of
 * Janus 1.x): one private Janus room per room on the SFU, one Janus session per participant with a publisher handle
 * and a subscriber handle, negotiated on the participant's behalf. Browsers never reach Janus's API: they send their
 * SDP and candidates to the relay (`src/protocol/sfu.ts`), which forwards them here.
 *
 * Identity: a participant always publishes with its relay ID as the Janus feed ID (`string_ids`), set here from the
 * relay's own record, never from the client; the room's `pin` and `secret` are random and never leave the relay.
 *
 * Entering: a participant served by this relay in a room on the SFU ({@link SfuBroker.enter}: admitted, the room
 * switched, or it resumed here) joins the Janus room as a publisher under its relay ID at once, before its browser
 * publishes anything, and is subscribed to every feed published so far. So its subscription never depends on its own
 * publish: a receive-only participant, or one whose publish fails, still sees everyone, and it hears of every later
 * publisher (those of other relays too) through its own handle's events. A participant that resumed here from
 * another relay (or from this relay's earlier lease) enters `fresh`: a publisher Janus still holds under its ID is
 * kicked first, so that its new publish under the same ID is not refused.
 *
 * Subscriptions follow the room: whenever someone's publish completes or someone leaves, every other participant's
 * subscriber handle is brought to "every published feed but my own" (`join` as subscriber with `streams`, then
 * `subscribe` / `unsubscribe`); each change is one offer from Janus, forwarded to the browser, whose answer goes back
 * with `start`. Per participant these run one at a time; while publishes are on their way up (a switch), a change
 * waits for them, briefly (`gather.ts`), so that a page gets one offer for several publishers.
 *
 * With several relays (rooms shared through Redis), each relay brokers its own participants into the same Janus room,
 * whose identity comes from the shared room state (`shared-rooms.ts`): every relay `create`s it (the first one
 * wins, the others find it exists), the relay that finds the room empty destroys it, and the publishers another relay
 * brokers are learnt from Janus's own `publishers` / `unpublished` / `leaving` events on local publisher handles.
 *
 * Failures never throw out of here: each is logged and sent to the participant concerned as an SFU `error`
 * (`op: "error"`), which its element reports as a warning.
 *
 * @module
 */
import type { SfuCandidate, SfuDelivery, SfuRequest } from '../../../src/protocol/sfu.js';
import type { Logger } from '../log.js';
import { JanusError, JanusSession, type JanusHandle } from './janus.js';
import {
  createJanusRoom,
  destroyJanusRoom,
  JanusLink,
  kickFromJanusRoom,
  newJanusRoom,
  publishersOf,
  VIDEOROOM,
  type JanusRoom,
} from './janus-rooms.js';
import { anyPublishPending, Gather } from './gather.js';
import { requestLayer } from './layers.js';
import { newMember, syncSubscriber, takeAnswer, type Member, type SubscriberContext } from './subscriber.js';

export { VIDEOROOM } from './janus-rooms.js';

export { ANSWER_TIMEOUT_MS } from './subscriber.js';

/** What the broker needs from the relay. */
export interface BrokerOptions {
  /** Janus's private WebSocket URL. */
  url: string;
  /** Janus's `api_secret`, if it has one. */
  apiSecret: string | undefined;
  /** The VideoRoom `admin_key` (rooms can only be created with it). */
  adminKey: string;
  /** Most publishers in one Janus room (the SFU room capacity). */
  maxPublishers: number;
  log: Logger;
  /**
   * Sends an SFU message to a participant (a `signal` from `"sfu"`).
   * @returns whether it was handed to the participant's connection.
   */
  send(id: string, data: SfuDelivery): boolean;
}

interface Room {
  readonly janus: JanusRoom;
  readonly ready: Promise<void>;
  readonly members: Map<string, Member>;
  /** Feeds with media up as Janus announces them to this relay's publishers (those of other relays included). */
  readonly announced: Set<string>;
  /** Holds changes of the published feeds while publishes are on their way up (`gather.ts`). */
  readonly gather: Gather;
}

/** The brokered VideoRoom of every room on the SFU, over one WebSocket to Janus. */
export class SfuBroker {
  readonly #options: BrokerOptions;
  readonly #rooms = new Map<string, Room>();
  /**
   * Participants told that their room's SFU failed (its Janus room could not be made, or Janus was lost), by ID, with
   * that room: one SFU `error` per cause, none for the requests their elements send afterwards.
   */
  readonly #failed = new Map<string, string>();
  readonly #janus: JanusLink;
  readonly #subscriberContext: SubscriberContext = {
    session: (member) => this.#session(member),
    send: (id, data) => this.#options.send(id, data),
    trickle: (member, handle, candidate) => this.#trickle(member, handle, candidate),
  };

  constructor(options: BrokerOptions) {
    this.#options = options;
    this.#janus = new JanusLink(options.url, options.apiSecret, (error) => this.#lost(error));
  }

  /** The rooms the broker holds (our names), for tests and metrics. */
  get rooms(): number {
    return this.#rooms.size;
  }

  /**
   * Creates the Janus room of `room` (private, random pin and secret). Idempotent.
   * @param shared the room's Janus identity from the shared room state (several relays): created here unless another
   *   relay created it first. Without it, a new identity is made here.
   * @returns when it exists; a failure is reported to the room's participants and rejects.
   */
  openRoom(room: string, shared?: JanusRoom): Promise<void> {
    const existing = this.#rooms.get(room);
    if (existing && (!shared || existing.janus.id === shared.id)) return existing.ready;
    if (existing) this.#forgetRoom(room, existing); // a stale room of an earlier life: its successor is in Redis
    const janus = shared ?? newJanusRoom(room);
    const ready = (async () => {
      const admin = await this.#janus.admin();
      const how = await createJanusRoom(
        admin,
        this.#options.adminKey,
        this.#options.maxPublishers,
        room,
        janus,
        !!shared,
      );
      this.#options.log.info({ room, janusRoom: janus.id }, `sfu: janus room ${how}`);
    })();
    const members = new Map<string, Member>();
    const gather = new Gather(
      () => this.#follow(entry),
      () => anyPublishPending(members.values()),
    );
    const entry: Room = { janus, ready, members, announced: new Set(), gather };
    this.#rooms.set(room, entry);
    ready.catch((error: unknown) => this.#roomFailed(room, entry, error));
    return ready;
  }

  /**
   * Drops every participant's session in `room` and, unless `destroy` is false (other relays still serve the room),
   * destroys its Janus room. Never throws.
   */
  async closeRoom(room: string, destroy = true): Promise<void> {
    const entry = this.#rooms.get(room);
    if (!entry) return;
    this.#rooms.delete(room);
    entry.gather.close();
    for (const member of entry.members.values()) await this.#dropMember(member);
    if (!destroy) return;
    await entry.ready.catch(() => undefined);
    await this.destroyRoom(room, entry.janus);
  }

  /** Destroys a Janus room (the shared room emptied; this relay may not hold it). Never throws; logged. */
  async destroyRoom(room: string, janus: Pick<JanusRoom, 'id' | 'secret'>): Promise<void> {
    try {
      await destroyJanusRoom(await this.#janus.admin(), janus);
      this.#options.log.info({ room, janusRoom: janus.id }, 'sfu: janus room destroyed');
    } catch (error) {
      this.#options.log.warn({ room, err: (error as Error).message }, 'sfu: destroying the janus room failed');
    }
  }

  /** Forgets a room without touching Janus (its sessions go). */
  #forgetRoom(room: string, entry: Room): void {
    if (this.#rooms.get(room) === entry) this.#rooms.delete(room);
    entry.gather.close();
    for (const member of entry.members.values()) void this.#dropMember(member);
  }

  /**
   * Serves one SFU request of participant `id` (named `name`) in `room`.
   * @param request parsed by `parseSfuRequest`; a `publish` naming another ID was refused before this.
   */
  handle(room: string, id: string, name: string, request: SfuRequest): void {
    const entry = this.#rooms.get(room);
    if (!entry) {
      if (this.#failed.get(id) !== room) this.#fail(id, 'this room is not on the SFU');
      return;
    }
    const member = this.#enter(entry, id, name, false);
    switch (request.op) {
      case 'publish':
        void this.#publish(entry, member, request.sdp);
        return;
      case 'answer':
        takeAnswer(member, request.sdp, this.#options.log).catch((error: unknown) =>
          this.#memberFailed(member, 'starting the subscription with a late answer', error),
        );
        return;
      case 'candidate': {
        const handle = request.pc === 'pub' ? member.pub : member.sub;
        const ready = request.pc === 'pub' ? member.configured : member.answer === undefined && member.sub;
        if (handle && ready) void this.#trickle(member, handle, request.candidate);
        else member.pending[request.pc].push(request.candidate);
        return;
      }
      case 'layer': // simulcast layer of one of its subscribed streams (layers.ts)
        void requestLayer(member, request, (data) => this.#options.send(id, data), this.#options.log);
    }
  }

  /**
   * Participant `id` (named `name`) is in `room` on the SFU and served by this relay: it joins the Janus room under
   * its ID and is subscribed to every published feed, whatever becomes of its own publish (see the module
   * documentation). Idempotent; failures reach the participant as SFU errors.
   * @param fresh it was brokered by another relay, or by this one under an earlier lease, before: a publisher Janus
   *   still holds under its ID is kicked first.
   */
  enter(room: string, id: string, name: string, fresh = false): void {
    const entry = this.#rooms.get(room);
    if (entry) this.#failed.delete(id);
    if (entry) this.#enter(entry, id, name, fresh);
    else if (this.#failed.get(id) !== room) this.#fail(id, 'this room is not on the SFU');
  }

  #enter(room: Room, id: string, name: string, fresh: boolean): Member {
    let member = room.members.get(id);
    if (!member) {
      member = newMember(id, name);
      room.members.set(id, member);
    }
    if (member.entered) return member;
    const joining = member;
    joining.publishing = Date.now(); // it publishes next (its element heard `mode`): gathered for (gather.ts)
    const entered = (async () => {
      try {
        await room.ready;
        if (fresh) {
          const kicked = await kickFromJanusRoom(await this.#janus.admin(), room.janus, id);
          if (kicked) this.#options.log.info({ id }, 'sfu: removed the publisher an earlier relay left under this ID');
        }
        await this.#join(room, joining);
      } catch (error) {
        this.#memberFailed(joining, 'joining the media server room', error);
        // Without a handle of its own in the room, the publishers are learnt from Janus's list.
        await this.#listPublishers(room).catch(() => undefined);
      }
    })();
    member.entered = entered;
    member.chain = member.chain
      .then(() => entered)
      .then(() => {
        if (joining.gone) return;
        this.#options.send(id, { op: 'feeds', feeds: [...this.#feeds(room)] });
        return this.#syncSubscriber(room, joining);
      });
    return member;
  }

  /** Participant `id` left `room`: its session goes, and the others stop receiving it. Never throws. */
  async leave(room: string, id: string): Promise<void> {
    this.#failed.delete(id);
    const entry = this.#rooms.get(room);
    const member = entry?.members.get(id);
    if (!entry || !member) return;
    entry.members.delete(id);
    const announced = entry.announced.delete(id);
    await this.#dropMember(member);
    if (member.published || announced) this.#followRoom(entry, true);
    else entry.gather.settle(); // a publish on its way up no longer holds the others' changes
  }

  /**
   * Closes the connection to Janus (the relay is closing): every participant's session goes, and every Janus room
   * this relay holds unless `destroyRooms` is false (rooms shared with other relays live on there).
   */
  async close(destroyRooms = true): Promise<void> {
    for (const room of [...this.#rooms.keys()]) await this.closeRoom(room, destroyRooms);
    await this.#janus.close();
  }

  // ---- publishing ----

  /** Joins `member` to the Janus room as a publisher under its relay ID (once), listening to its handle's events. */
  async #join(room: Room, member: Member): Promise<JanusHandle> {
    if (!member.pub) {
      const session = await this.#session(member);
      const pub = await session.attach(VIDEOROOM);
      member.pub = pub;
      // Janus offers a feed to subscribers only once its media is up ("No such feed" before): the others
      // subscribe on `webrtcup`.
      pub.listen((event) => {
        if (member.gone) return;
        if (event.janus === 'event') this.#announced(room, event.data);
        if (event.janus !== 'webrtcup') return;
        member.published = true;
        member.publishing = undefined;
        this.#followRoom(room);
      });
    }
    if (!member.joined) {
      // The feed ID is the relay's ID of this participant: nobody can publish as someone else.
      const joined = await member.pub.message({
        request: 'join',
        ptype: 'publisher',
        room: room.janus.id,
        pin: room.janus.pin,
        id: member.id,
        display: member.name,
      });
      member.joined = true;
      this.#announced(room, joined.data);
    }
    return member.pub;
  }

  /** Learns the room's publishers from Janus's own list (`listparticipants`). */
  async #listPublishers(room: Room): Promise<void> {
    const reply = await (await this.#janus.admin()).message({ request: 'listparticipants', room: room.janus.id });
    const list = Array.isArray(reply.data['participants']) ? (reply.data['participants'] as unknown[]) : [];
    const publishers = list.filter((p) => (p as { publisher?: unknown }).publisher === true);
    this.#announced(room, { publishers });
  }

  async #publish(room: Room, member: Member, sdp: string): Promise<void> {
    member.publishing = Date.now();
    try {
      await member.entered;
      const pub = await this.#join(room, member);
      const reply = await pub.message({ request: 'configure', audio: true, video: true }, { type: 'offer', sdp });
      if (member.gone) return;
      if (reply.jsep?.type !== 'answer') throw new JanusError(0, 'janus answered the publish without an SDP answer');
      this.#options.send(member.id, { op: 'answer', sdp: reply.jsep.sdp });
      member.configured = true;
      for (const candidate of member.pending.pub.splice(0)) await this.#trickle(member, pub, candidate);
    } catch (error) {
      member.publishing = undefined;
      room.gather.settle();
      this.#memberFailed(member, 'publishing', error);
    }
  }

  // ---- subscribing ----

  /** Janus named publishers that came or went (those of other relays too): subscriptions follow if that changed. */
  #announced(room: Room, data: Record<string, unknown>): void {
    const { added, removed } = publishersOf(data);
    let changed = false;
    let gone = false;
    for (const id of added) changed = (!room.announced.has(id) && !!room.announced.add(id)) || changed;
    for (const id of removed) gone = room.announced.delete(id) || gone;
    if (changed || gone) this.#followRoom(room, gone);
  }

  /** The published feeds of `room`: this relay's participants whose media is up, and those Janus announced. */
  #feeds(room: Room): Set<string> {
    const feeds = new Set(room.announced);
    for (const m of room.members.values()) if (m.published) feeds.add(m.id);
    return feeds;
  }

  /**
   * The room's published feeds changed: subscriptions follow, at once or once the publishes on their way up are.
   * @param gone a feed went: at once (a feed that goes and comes back under the same ID, a participant starting
   *   over, must not look unchanged to a gathered follow, or its subscribers would keep the feed Janus dropped).
   */
  #followRoom(room: Room, gone = false): void {
    if (gone) room.gather.now();
    else room.gather.change();
  }

  /** Every participant's subscription follows the room's published feeds, and everyone hears who publishes. */
  #follow(room: Room): void {
    const feeds = [...this.#feeds(room)];
    for (const member of room.members.values()) {
      this.#options.send(member.id, { op: 'feeds', feeds });
      member.chain = member.chain.then(() => this.#syncSubscriber(room, member));
    }
  }

  /** Brings one participant's subscriber handle to every published feed but its own (`subscriber.ts`). */
  async #syncSubscriber(room: Room, member: Member): Promise<void> {
    try {
      await syncSubscriber(this.#subscriberContext, room.janus, member, () => this.#feeds(room));
    } catch (error) {
      this.#memberFailed(member, 'subscribing', error);
    }
  }

  // ---- plumbing ----

  async #trickle(member: Member, handle: JanusHandle, candidate: SfuCandidate | null): Promise<void> {
    try {
      await handle.trickle(candidate);
    } catch (error) {
      this.#options.log.debug({ id: member.id, err: (error as Error).message }, 'sfu: trickle refused');
    }
  }

  #session(member: Member): Promise<JanusSession> {
    member.session ??= (async () => {
      const session = await JanusSession.create(await this.#janus.client());
      session.onLost = (error) => this.#memberFailed(member, 'keeping the session', error);
      return session;
    })();
    return member.session;
  }

  async #dropMember(member: Member): Promise<void> {
    member.gone = true;
    member.answer = undefined;
    member.late = undefined;
    const session = member.session;
    member.session = undefined;
    if (session) await (await session.catch(() => undefined))?.destroy();
  }

  /** The connection to Janus is gone: every room on it is lost; its participants hear it. */
  #lost(error: Error): void {
    this.#options.log.error({ err: error.message }, 'sfu: connection to janus lost');
    for (const [room, entry] of this.#rooms) {
      this.#rooms.delete(room);
      entry.gather.close();
      for (const member of entry.members.values()) {
        member.gone = true;
        this.#failed.set(member.id, room);
        this.#fail(member.id, 'the media server is unreachable');
      }
    }
  }

  #roomFailed(room: string, entry: Room, error: unknown): void {
    this.#options.log.error({ room, err: (error as Error).message }, 'sfu: creating the janus room failed');
    if (this.#rooms.get(room) === entry) this.#rooms.delete(room);
    entry.gather.close();
    const cause = (error as Error).message;
    for (const member of entry.members.values()) {
      // Its own steps behind the room (joining it) fail too: said once, here (`gone` silences #memberFailed).
      member.gone = true;
      this.#failed.set(member.id, room);
      this.#fail(member.id, `the media server could not open this room: ${cause}`);
    }
  }

  #memberFailed(member: Member, what: string, error: unknown): void {
    if (member.gone) return;
    this.#options.log.warn({ id: member.id, err: (error as Error).message }, `sfu: ${what} failed`);
    this.#fail(member.id, `${what} failed: ${(error as Error).message}`);
  }

  #fail(id: string, message: string): void {
    this.#options.send(id, { op: 'error', message });
  }
}
