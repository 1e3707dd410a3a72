/**
 * The signaling relay: one WebSocket (RFC 6455) per participant, rooms of peers, and `signal` payloads forwarded
 * opaquely between members of the same room. The wire format is `src/protocol.ts` (prose: `docs/protocol.md`).
 *
 * Built on ws with `noServer: true`, so the HTTP `upgrade` handler stays ours: the place to route by path (and, later,
 * to authenticate) before a socket exists.
 *
 * @module
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import {
  CloseCode, encode, parseClientMessage, PROTOCOL_VERSION,
  type ErrorCode, type JoinMessage, type PeerInfo, type ResumeCredentials, type ServerMessage, type SignalRequest,
  type WelcomeMessage,
} from '../../src/protocol/relay.js';
import { performance } from 'node:perf_hooks';
import type { Logger } from './log.js';
import { clientAddress } from './address.js';
import { originAllowed, verifyRoomToken } from './auth.js';
import { createMetrics, type RelayMetrics, type UpgradeRejection } from './metrics.js';
import { resolveRelayOptions, type RelayOptions } from './options.js';
import { TokenBucket } from './rate-limit.js';
import { turnCredentials, type TurnConfig } from './turn.js';
import { RoomRegistry } from './rooms.js';

/** Counters from {@link Relay.stats}. */
export interface RelayStats {
  /** Open WebSocket connections, joined or not. */
  connections: number;
  /** Non-empty rooms. */
  rooms: number;
  /** Participants in all rooms. */
  peers: number;
}

/** Options of {@link Relay.attach}. */
export interface AttachOptions {
  /**
   * Only upgrades whose URL path is exactly this (query ignored) go to the relay. Others are left to other
   * `'upgrade'` listeners, or refused with 404 if there are none. Without `path`, every upgrade is taken.
   */
  path?: string;
}

/** A running relay. */
export interface Relay {
  /**
   * Completes a WebSocket handshake for an HTTP `upgrade` request and serves the socket. Refuses with 503 once the
   * relay is closing. Arguments as in Node's `http.Server` `'upgrade'` event.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Listens to `server`'s `'upgrade'` event (optionally for one path). @returns a function that detaches again. */
  attach(server: Server, options?: AttachOptions): () => void;
  /**
   * Drains the relay: stops the heartbeat, refuses new upgrades with 503 and closes every socket with `code`
   * (default 1012 "Service Restart", RFC 6455 §7.4.1: clients reconnect, to this relay once it is back or to another
   * one). Resolves once all sockets are closed; one that does not finish the closing handshake within
   * {@link CLOSE_GRACE_MS} is terminated. Idempotent: later calls return the first drain.
   */
  close(code?: number): Promise<void>;
  /** Whether {@link close} was called: upgrades are refused, `/healthz` says 503. */
  readonly closing: boolean;
  /** Current counters. */
  stats(): RelayStats;
  /** This relay's Prometheus registry (prom-client): `await relay.metrics.metrics()` is the text exposition. */
  readonly metrics: RelayMetrics['registry'];
  /** The relay's pino logger (the one given in the options, or its own). */
  readonly logger: Logger;
}

/** How long, in ms, {@link Relay.close} waits for a client's closing handshake before dropping the TCP connection. */
export const CLOSE_GRACE_MS = 1000;

/**
 * Frames a connection may send while its `join` waits for the token check; they are handled in order afterwards.
 * A client has no reason to send more than a few before its welcome; more closes the connection with 1008.
 */
export const MAX_FRAMES_DURING_JOIN = 64;

/**
 * Fragments one message may arrive in (ws `maxFragments`; its default is 16 384). Browsers send a signal as one frame;
 * more closes the connection with 1008, so that a message cut into tiny fragments cannot pin thousands of buffers.
 */
export const MAX_FRAGMENTS = 64;

/**
 * TCP chunks ws may hold for one connection while a frame is incomplete (ws `maxBufferedChunks`; its default is
 * 262 144). Each chunk is a Buffer with its own overhead, so a 60 KB frame written one byte per TCP segment pinned
 * 8–13 MB per socket with the default. A real network delivers a 64 KiB frame in a few dozen segments (≥ 500 bytes
 * each); beyond this the connection is closed with 1008.
 */
export const MAX_BUFFERED_CHUNKS = 1024;

/** Close code for an unforeseen failure while handling a client's frame (RFC 6455 §7.4.1 "Internal Error"). */
export const INTERNAL_ERROR = 1011;

/** A frame as ws delivered it. */
interface Frame {
  data: RawData;
  isBinary: boolean;
}

/**
 * A participant: in a room from its `join` until it leaves, with or without a connection. Without one it is in its
 * resume grace period: still in the room for everyone, signals to it queued.
 */
interface Member {
  readonly id: string;
  readonly room: string;
  readonly name: string;
  /** The address of its latest connection (see `address.ts`): it counts against it while in its grace period. */
  ip: string;
  /** The latest resume secret handed out (base64url of 16 random bytes); only this one is valid. */
  secret: string;
  /** The connection serving it, or `undefined` during the grace period. */
  conn: Connection | undefined;
  /** Runs during the grace period; the participant leaves when it fires. */
  graceTimer: NodeJS.Timeout | undefined;
  /** Encoded frames for it, kept during the grace period. */
  queue: string[];
  queueBytes: number;
}

/** Per-socket state. `member` is set while joined, `alive` is the heartbeat flag. */
interface Connection {
  readonly socket: WebSocket;
  /** Client address as counted for the per-address limit (see `address.ts`), also used in logs. */
  readonly ip: string;
  member: Member | undefined;
  alive: boolean;
  /** The relay closed it for abuse (flood, oversize frame): it leaves at once, without a grace period. */
  noResume: boolean;
  /** Set while a `join` waits for its token check: frames received meanwhile, to be handled after it. */
  backlog: Frame[] | undefined;
  readonly bucket: TokenBucket;
  /** Whether the rate limit was logged for this socket already (once per socket is enough). */
  limitLogged: boolean;
  /** Runs while the connection is in no room; closes it with 4000 when it fires. */
  joinTimer: NodeJS.Timeout | undefined;
}

/** The one answer to every refused token, whatever the reason: a client learns nothing about what was wrong. */
const UNAUTHORIZED = 'not authorized to join this room';
/** The one answer to every failed resume, whatever the reason. */
const RESUME_FAILED = 'cannot resume: join again without resume';

/** 128 random bits in base64url (22 characters): IDs and resume secrets must be unguessable. */
const randomToken = (): string => randomBytes(16).toString('base64url');

/**
 * Creates a relay. Nothing listens until {@link Relay.attach} or {@link Relay.handleUpgrade} is used.
 * @throws RangeError / TypeError for invalid options (see {@link RelayOptions}).
 */
export function createRelay(options: RelayOptions = {}): Relay {
  const config = resolveRelayOptions(options);
  const log = config.logger;
  const rooms = new RoomRegistry(config.maxPeersPerRoom);
  const connections = new Set<Connection>();
  /** Every participant by ID, connected or in its grace period. */
  const byId = new Map<string, Member>();
  let closing: Promise<void> | undefined;
  const metrics = createMetrics(() => ({ ...stats(), resuming, queuedBytes }));
  const allowedOrigins = new Set(config.allowedOrigins);
  /** Open connections per client address. */
  const perAddress = new Map<string, number>();
  /** Participants in their grace period, and the bytes queued for all of them (see `maxResumeQueueTotalBytes`). */
  let resuming = 0;
  let queuedBytes = 0;
  const rateLimit = {
    perSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst, closeAfter: config.rateLimitCloseAfter,
  };
  const tokenKey = config.tokenSecret === undefined ? undefined : new TextEncoder().encode(config.tokenSecret);
  const turn: TurnConfig | undefined = config.turnSecret === undefined ? undefined
    : { urls: config.turnUrls, secret: config.turnSecret, ttlSeconds: config.turnTtlSeconds };

  const wss = new WebSocketServer({
    noServer: true,
    // We track sockets ourselves (for heartbeat and routing); ws's own set would be a second source of truth.
    clientTracking: false,
    maxPayload: config.maxMessageBytes,
    // Compression lets a small frame inflate into a huge one and costs memory per socket; SDP does not need it.
    perMessageDeflate: false,
    maxFragments: MAX_FRAGMENTS,
    maxBufferedChunks: MAX_BUFFERED_CHUNKS,
  });

  const heartbeat = setInterval(() => {
    for (const conn of connections) {
      // No pong since the last ping: the peer or the path to it is gone. Terminating emits 'close', which leaves.
      if (!conn.alive) {
        log.debug({ ip: conn.ip, id: conn.member?.id }, 'no pong since the last ping: terminating');
        terminate(conn);
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }, config.heartbeatIntervalMs);
  // The HTTP server keeps the process alive; the heartbeat alone must not.
  heartbeat.unref();

  function send(conn: Connection, message: ServerMessage): boolean {
    const { socket } = conn;
    if (socket.readyState !== WebSocket.OPEN) return false;
    socket.send(encode(message));
    // A client that does not read makes its queue grow; drop it rather than hold unbounded memory. Senders never
    // wait for it: ws queues and returns at once.
    if (socket.bufferedAmount > config.maxBufferedBytes) {
      log.warn({ ip: conn.ip, id: conn.member?.id, buffered: socket.bufferedAmount }, 'client not reading: terminating');
      terminate(conn);
      return false;
    }
    return true;
  }

  function fail(conn: Connection, code: ErrorCode, message: string): void {
    metrics.errors.inc({ code });
    log.debug({ ip: conn.ip, id: conn.member?.id, code }, 'error reply');
    send(conn, { type: 'error', code, message });
  }

  /** Closes with `code` (a policy close: the connection leaves at once), counted and logged. */
  function closeFor(conn: Connection, code: number, reason: string, level: 'warn' | 'info' = 'warn'): void {
    metrics.closedByRelay.inc({ code });
    log[level]({ ip: conn.ip, id: conn.member?.id, code, reason }, 'closing connection');
    if (code === CloseCode.PolicyViolation) conn.noResume = true;
    conn.socket.close(code, reason);
  }

  /** (Re)starts the join timer: a connection in no room is closed after `joinTimeoutMs`. */
  function startJoinTimer(conn: Connection): void {
    clearTimeout(conn.joinTimer);
    conn.joinTimer = setTimeout(() => {
      conn.joinTimer = undefined;
      if (conn.member === undefined && conn.socket.readyState === WebSocket.OPEN) {
        closeFor(conn, CloseCode.JoinTimeout, 'join timeout', 'info');
      }
    }, config.joinTimeoutMs);
  }

  /** Drops the TCP connection without a closing handshake (the client sees 1006). */
  function terminate(conn: Connection): void {
    metrics.closedByRelay.inc({ code: 1006 });
    conn.socket.terminate();
  }

  /** Sends `message` to a participant: on its connection, or (a signal) into its queue during the grace period. */
  function deliver(member: Member, message: ServerMessage): boolean {
    if (member.conn) return send(member.conn, message);
    // Membership changes are not queued: the resumed welcome carries the room as it is then.
    if (message.type !== 'signal') return false;
    const frame = encode(message);
    const bytes = Buffer.byteLength(frame);
    if (member.queueBytes + bytes > config.resumeQueueBytes) return false;
    if (queuedBytes + bytes > config.maxResumeQueueTotalBytes) return false;
    member.queue.push(frame);
    member.queueBytes += bytes;
    queuedBytes += bytes;
    return true;
  }

  function broadcast(room: string, message: ServerMessage, except: string): void {
    for (const peer of rooms.members(room)) {
      const target = byId.get(peer.id);
      if (peer.id !== except && target) deliver(target, message);
    }
  }

  function join(conn: Connection, message: JoinMessage): void {
    if (conn.member !== undefined) {
      fail(conn, 'already-joined', `already in room ${JSON.stringify(conn.member.room)}; send leave first`);
      return;
    }
    if (message.resume !== undefined) {
      resume(conn, message.room, message.resume);
      return;
    }
    if (tokenKey === undefined) {
      admit(conn, message.room, displayName(message.name ?? ''));
      return;
    }
    // The check is asynchronous (WebCrypto): hold this connection's later frames until it is done, so that every
    // frame is still handled in the order it was sent.
    conn.backlog = [];
    verifyRoomToken(message.token, message.room, tokenKey).then((result) => {
      const backlog = conn.backlog ?? [];
      conn.backlog = undefined;
      if (!connections.has(conn) || closing) return;
      if (result.ok) {
        admit(conn, message.room, displayName(result.grant.name ?? message.name ?? ''));
      } else {
        log.warn({ ip: conn.ip, room: message.room, reason: result.reason }, 'join refused: room token');
        fail(conn, 'unauthorized', UNAUTHORIZED);
      }
      handleFrames(conn, backlog);
    }).catch((error: unknown) => {
      internalError(conn, error, 'token check failed');
    });
  }

  /** Enters `room` as `name` (the join was checked): welcome, then peer-joined to the others. */
  function admit(conn: Connection, room: string, name: string): void {
    // 128 random bits: an ID is all it takes to address a peer, so it must not be guessable or enumerable.
    const id = randomToken();
    const result = rooms.join(room, { id, name });
    if (!result.ok) {
      fail(conn, 'room-full', `room ${JSON.stringify(room)} is full (${rooms.capacity} participants)`);
      return;
    }
    const member: Member = {
      id, room, name, ip: conn.ip, secret: '', conn: undefined, graceTimer: undefined, queue: [], queueBytes: 0,
    };
    byId.set(id, member);
    log.debug({ ip: conn.ip, id, room }, 'joined');
    // Welcome first: anyone reacting to peer-joined may signal the newcomer at once, and it must know its ID by then.
    attachMember(conn, member, result.peers, false);
    broadcast(room, { type: 'peer-joined', peer: { id, name } }, id);
  }

  /**
   * Serves `member` on `conn` from now on and sends the welcome, with a fresh resume secret (the previous one stops
   * working) and, after a resume, the signals queued meanwhile.
   */
  function attachMember(conn: Connection, member: Member, peers: PeerInfo[], resumed: boolean): void {
    conn.member = member;
    member.conn = conn;
    member.ip = conn.ip;
    clearTimeout(conn.joinTimer);
    conn.joinTimer = undefined;
    // TURN credentials are minted per participant and per welcome: they name this ID and expire.
    const iceServers = turn ? [...config.iceServers, turnCredentials(turn, member.id)] : config.iceServers;
    const welcome: WelcomeMessage = {
      type: 'welcome', id: member.id, room: member.room, peers, iceServers, protocol: PROTOCOL_VERSION,
    };
    if (config.resumeGraceMs > 0) {
      member.secret = randomToken();
      welcome.resume = member.secret;
    }
    if (resumed) welcome.resumed = true;
    send(conn, welcome);
    const queued = member.queue;
    dropQueue(member);
    for (const frame of queued) {
      if (conn.socket.readyState !== WebSocket.OPEN) break;
      conn.socket.send(frame);
      metrics.relayed += 1;
    }
  }

  /**
   * Resumes a participant on a new connection: same ID, no peer-left/peer-joined for the others. Anything wrong (no
   * such participant, other room, wrong secret, resume off) is the same `resume-failed`, and nothing changes.
   */
  function resume(conn: Connection, room: string, credentials: ResumeCredentials): void {
    const member = byId.get(credentials.id);
    if (config.resumeGraceMs === 0 || !member || member.room !== room || !sameSecret(member.secret, credentials.secret)) {
      metrics.resumes.inc({ outcome: 'failed' });
      log.info({ ip: conn.ip, room }, 'resume refused');
      fail(conn, 'resume-failed', RESUME_FAILED);
      return;
    }
    endGrace(member);
    const previous = member.conn;
    if (previous) {
      // The old connection is still open as far as we know (a half-open TCP connection is only noticed by the
      // heartbeat): the client has moved on, so the new connection takes over and the old one is closed without
      // taking the participant with it.
      previous.member = undefined;
      member.conn = undefined;
      closeFor(previous, CloseCode.Replaced, 'resumed on another connection', 'info');
    }
    metrics.resumes.inc({ outcome: 'resumed' });
    log.debug({ ip: conn.ip, id: member.id, room, queued: member.queue.length }, 'resumed');
    attachMember(conn, member, rooms.peersOf(member.id), true);
  }

  /** A participant leaves its room for good: the others get peer-left. */
  function depart(member: Member): void {
    endGrace(member);
    if (member.conn) member.conn.member = undefined;
    member.conn = undefined;
    byId.delete(member.id);
    dropQueue(member);
    const left = rooms.leave(member.id);
    if (left) broadcast(left.room, { type: 'peer-left', id: member.id }, member.id);
    log.debug({ id: member.id, room: member.room }, 'left');
  }

  /** Empties a participant's resume queue, keeping the relay-wide count of queued bytes. */
  function dropQueue(member: Member): void {
    queuedBytes -= member.queueBytes;
    member.queue = [];
    member.queueBytes = 0;
  }

  /**
   * Ends a participant's grace period, if it is in one (it resumed or leaves): the timer stops and the participant no
   * longer counts against its address or {@link RelayOptions.maxResumingPeers}.
   */
  function endGrace(member: Member): void {
    if (member.graceTimer === undefined) return;
    clearTimeout(member.graceTimer);
    member.graceTimer = undefined;
    resuming--;
    release(member.ip);
  }

  /** One connection or participant in grace less for `address`. */
  function release(address: string): void {
    const count = (perAddress.get(address) ?? 1) - 1;
    if (count > 0) perAddress.set(address, count);
    else perAddress.delete(address);
  }

  /**
   * The connection of a participant is gone (`code` as ws reports it: the client's close code, 1005 for a close
   * frame without one, 1006 if the connection ended without a closing handshake).
   *
   * A client that closed on purpose (1000, 1001 as a browser sends when the page goes away, or 1005) leaves at
   * once. A connection that was lost (1006: network gone, heartbeat failed, terminated for not reading) or closed
   * with any other code keeps its participant for the grace period, so that it can resume; so does nothing when
   * resume is off, the relay is closing, the connection was closed for abuse, or
   * {@link RelayOptions.maxResumingPeers} are in their grace period already.
   *
   * @returns whether the participant stays in its grace period: it then keeps the connection's place in the count of
   *   its address, until it resumes or leaves.
   */
  function detach(conn: Connection, code: number): boolean {
    const member = conn.member;
    if (!member) return false;
    conn.member = undefined;
    if (member.conn !== conn) return false;
    const onPurpose = code === CloseCode.Normal || code === CloseCode.GoingAway || code === 1005;
    if (config.resumeGraceMs === 0 || closing || conn.noResume || onPurpose) {
      depart(member);
      return false;
    }
    if (resuming >= config.maxResumingPeers) {
      log.warn({ id: member.id, room: member.room, resuming }, 'too many participants in their grace period: leaving at once');
      depart(member);
      return false;
    }
    member.conn = undefined;
    resuming++;
    log.debug({ id: member.id, room: member.room, graceMs: config.resumeGraceMs }, 'connection lost: grace period');
    member.graceTimer = setTimeout(() => {
      // Fired, so endGrace (through depart) has nothing to stop: the grace period's counts are given back here.
      member.graceTimer = undefined;
      resuming--;
      release(member.ip);
      if (member.conn === undefined && byId.get(member.id) === member) {
        metrics.resumes.inc({ outcome: 'expired' });
        depart(member);
      }
    }, config.resumeGraceMs);
    member.graceTimer.unref();
    return true;
  }

  function signal(conn: Connection, message: SignalRequest): void {
    const sender = conn.member;
    if (sender === undefined) {
      fail(conn, 'not-joined', 'join a room before sending signal');
      return;
    }
    const target = message.to === sender.id ? undefined : byId.get(message.to);
    // Routing is scoped to the sender's own room: an ID from elsewhere is as unknown as a made-up one.
    if (!target || target.room !== sender.room) {
      fail(conn, 'unknown-peer', `no other peer ${JSON.stringify(message.to)} in this room`);
      return;
    }
    // Push back on the sender, not the addressee: a member that reads slowly is not dropped because another one sends
    // it more than it can take (and a signal is small enough that the queue stays under maxBufferedBytes).
    if (target.conn && target.conn.socket.bufferedAmount > config.pushBackBufferedBytes) {
      fail(conn, 'rate-limited', `peer ${JSON.stringify(message.to)} is not reading fast enough: signal not delivered, ` +
        'send it again later');
      return;
    }
    // `from` is stamped here, from the connection, never taken from the client: it cannot be spoofed.
    if (deliver(target, { type: 'signal', from: sender.id, data: message.data })) {
      if (target.conn) metrics.relayed += 1;
    } else if (!target.conn) {
      fail(conn, 'unknown-peer', `peer ${JSON.stringify(message.to)} is reconnecting and its queue is full`);
    }
  }

  /**
   * An unforeseen throw while serving one connection (a bug, or a value nobody thought of): that connection alone is
   * closed with {@link INTERNAL_ERROR} and its participant leaves; the relay and every other connection go on. Counted
   * in `video_chat_handler_errors_total` and logged at `error`. Never throws, even if the logger does.
   */
  function internalError(conn: Connection, error: unknown, what: string): void {
    metrics.handlerErrors.inc();
    try {
      log.error({ ip: conn.ip, id: conn.member?.id, err: error instanceof Error ? error.message : String(error) },
        `${what}: closing the connection`);
    } catch {
      // The logger itself failed: the metric has it.
    }
    conn.noResume = true;
    if (conn.socket.readyState === WebSocket.OPEN) {
      metrics.closedByRelay.inc({ code: INTERNAL_ERROR });
      conn.socket.close(INTERNAL_ERROR, 'internal error');
    }
  }

  function onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    try {
      serveMessage(conn, data, isBinary);
    } catch (error) {
      internalError(conn, error, 'message handler failed');
    }
  }

  function serveMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    // Frames still arriving after the relay started closing this socket are not served.
    if (conn.socket.readyState !== WebSocket.OPEN) return;
    const verdict = conn.bucket.take(performance.now());
    if (verdict !== 'pass') {
      metrics.rateLimited.inc();
      if (!conn.limitLogged) {
        conn.limitLogged = true;
        log.warn({ ip: conn.ip, id: conn.member?.id }, 'rate limit reached');
      }
      if (verdict === 'close') closeFor(conn, CloseCode.PolicyViolation, 'rate limit exceeded');
      else fail(conn, 'rate-limited', `too many messages: at most ${rateLimit.perSecond} per second, bursts of ${rateLimit.burst}`);
      return;
    }
    if (conn.backlog) {
      if (conn.backlog.length >= MAX_FRAMES_DURING_JOIN) {
        closeFor(conn, CloseCode.PolicyViolation, 'too many messages before welcome');
        return;
      }
      conn.backlog.push({ data, isBinary });
      return;
    }
    handleFrame(conn, data, isBinary);
  }

  /** Handles `frames` in order; if one of them starts a token check, the rest wait behind it. */
  function handleFrames(conn: Connection, frames: Frame[]): void {
    for (let i = 0; i < frames.length; i++) {
      if (conn.backlog) {
        conn.backlog.unshift(...frames.slice(i));
        return;
      }
      const frame = frames[i] as Frame;
      handleFrame(conn, frame.data, frame.isBinary);
    }
  }

  function handleFrame(conn: Connection, data: RawData, isBinary: boolean): void {
    // Binary frames go to the parse guard as-is; it rejects anything but text with its own message.
    const raw: unknown = isBinary ? data : rawToText(data);
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) {
      fail(conn, parsed.error.code, parsed.error.message);
      return;
    }
    const message = parsed.value;
    switch (message.type) {
      case 'join':
        join(conn, message);
        return;
      case 'signal':
        signal(conn, message);
        return;
      case 'leave':
        if (conn.member === undefined) {
          fail(conn, 'not-joined', 'join a room before sending leave');
        } else {
          depart(conn.member);
          startJoinTimer(conn);
        }
        return;
    }
  }

  function onConnection(socket: WebSocket, req: IncomingMessage, address: string): void {
    // First of all: an 'error' without a listener would crash the process. ws closes the socket itself after an
    // error (e.g. 1009 for an oversize frame) and 'close' follows, so there is nothing else to do here.
    // Read here, not in the closure: a closure that used `req` would keep the whole IncomingMessage alive as long as
    // the socket, about 1 KB of heap per connection (measured with `npm run bench -- connections`).
    const remoteAddress = req.socket.remoteAddress;
    // A WebSocket protocol violation (oversize frame, invalid UTF-8, bad opcode or framing: ws closes the socket
    // itself, with 1009, 1007 or 1002) is abuse or a bug: no grace period, the participant leaves at once.
    let violated = false;
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code?.startsWith('WS_ERR_')) {
        violated = true;
        const code = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? CloseCode.MessageTooBig
          : error.code === 'WS_ERR_INVALID_UTF8' ? 1007
          // Too many fragments or buffered chunks (MAX_FRAGMENTS, MAX_BUFFERED_CHUNKS): ws closes with 1008.
          : error.code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS' ? CloseCode.PolicyViolation : 1002;
        metrics.closedByRelay.inc({ code });
      }
      log.debug({ ip: remoteAddress, err: error.message }, 'socket error');
    });
    if (closing) {
      socket.terminate();
      return;
    }
    const conn: Connection = {
      socket, ip: address, member: undefined, alive: true, noResume: false, backlog: undefined,
      bucket: new TokenBucket(rateLimit, performance.now()), limitLogged: false, joinTimer: undefined,
    };
    connections.add(conn);
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    startJoinTimer(conn);
    metrics.connectionsAccepted.inc();
    log.debug({ ip: conn.ip }, 'connected');
    socket.on('pong', () => {
      conn.alive = true;
    });
    socket.on('message', (data, isBinary) => onMessage(conn, data, isBinary));
    socket.on('close', (code) => {
      connections.delete(conn);
      clearTimeout(conn.joinTimer);
      let kept = false;
      try {
        log.debug({ ip: conn.ip, id: conn.member?.id, code }, 'disconnected');
        if (violated) conn.noResume = true;
        kept = detach(conn, code);
      } catch (error) {
        internalError(conn, error, 'close handler failed');
      } finally {
        // A participant in its grace period keeps the connection's place in its address's count (see detach).
        if (!kept) release(address);
      }
    });
  }

  /** Answers an upgrade with an HTTP error before any WebSocket state exists, counted and logged. */
  function reject(req: IncomingMessage, socket: Duplex, reason: UpgradeRejection, status: number, text: string): void {
    metrics.upgradesRejected.inc({ reason });
    log.warn({ ip: req.socket.remoteAddress, origin: req.headers.origin, reason, status }, 'upgrade refused');
    refuse(socket, status, text);
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (closing) {
      reject(req, socket, 'shutting-down', 503, 'Service Unavailable');
      return;
    }
    if (!originAllowed(allowedOrigins, req.headers.origin)) {
      reject(req, socket, 'origin', 403, 'Forbidden');
      return;
    }
    const address = clientAddress(req, config.trustProxy);
    // ws completes the handshake synchronously (no async verifyClient), so counting in onConnection is race-free.
    if (config.maxConnectionsPerIp > 0 && (perAddress.get(address) ?? 0) >= config.maxConnectionsPerIp) {
      reject(req, socket, 'ip-limit', 429, 'Too Many Requests');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req, address));
  }

  function attach(server: Server, attachOptions: AttachOptions = {}): () => void {
    const { path } = attachOptions;
    const listener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (path !== undefined && pathnameOf(req) !== path) {
        // Another listener may own this path; if we are the only one, nobody would ever answer.
        if (server.listenerCount('upgrade') === 1) reject(req, socket, 'not-found', 404, 'Not Found');
        return;
      }
      handleUpgrade(req, socket, head);
    };
    server.on('upgrade', listener);
    return () => {
      server.off('upgrade', listener);
    };
  }

  function close(code: number = CloseCode.ServiceRestart): Promise<void> {
    closing ??= (async () => {
      clearInterval(heartbeat);
      log.info({ connections: connections.size, code }, 'closing: draining every connection');
      await Promise.all([...connections].map((conn) => closeConnection(conn, code)));
      // Participants in their grace period have no connection to close; they go with the relay's state.
      for (const member of [...byId.values()]) depart(member);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      log.info('closed');
    })();
    return closing;
  }

  /** Closes with `code` and resolves on 'close'; terminates after {@link CLOSE_GRACE_MS} if the client does not answer. */
  function closeConnection(conn: Connection, code: number): Promise<void> {
    const { socket } = conn;
    if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => terminate(conn), CLOSE_GRACE_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      metrics.closedByRelay.inc({ code });
      socket.close(code, code === CloseCode.ServiceRestart ? 'relay restarting' : 'relay shutting down');
    });
  }

  function stats(): RelayStats {
    return { connections: connections.size, rooms: rooms.roomCount, peers: rooms.peerCount };
  }

  return {
    handleUpgrade, attach, close, stats,
    get closing() {
      return closing !== undefined;
    },
    metrics: metrics.registry,
    logger: log,
  };
}

/** Answers an upgrade request with a plain HTTP error and drops the connection. */
function refuse(socket: Duplex, status: number, text: string): void {
  socket.on('error', () => {});
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** The request target's path, query dropped. Not via `new URL`, which would read `//x` as a host. */
function pathnameOf(req: IncomingMessage): string {
  const target = req.url ?? '/';
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

/**
 * Characters removed from display names: C0 and C1 controls (and DEL), lone surrogates, and the bidirectional
 * formatting characters (LRM, RLM, ALM, embeddings and overrides U+202A–202E, isolates U+2066–2069), which would
 * otherwise let a name reorder the text shown around it.
 */
const NAME_STRIPPED = /[\p{Cc}\p{Cs}\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069]/gu;

/** A display name as the relay hands it on (from `join.name` or a token's `name` claim): see {@link NAME_STRIPPED}. */
export function displayName(name: string): string {
  return name.replace(NAME_STRIPPED, '');
}

/** Constant-time comparison of a stored secret with a presented one (equal lengths first: both are 22 characters). */
function sameSecret(stored: string, presented: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(presented);
  return stored.length > 0 && a.length === b.length && timingSafeEqual(a, b);
}

/** A text frame's payload as a string. ws delivers a Buffer by default; the other shapes are for completeness. */
function rawToText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
