/**
 * One WebSocket's life on the relay (RFC 6455 via ws): frames in (rate limit, the backlog behind a `join` whose token
 * is being checked, the join timer, the heartbeat flag), each parsed with `src/protocol/relay.ts` and handed to the
 * {@link Participants}; frames out, with the outgoing-buffer cap; and the ways a connection ends.
 *
 * The verbs, kept distinct: `fail` replies with an `error` message and keeps the socket; `closeFor` closes with a
 * code (a policy close, counted); `terminate` drops the TCP connection without a closing handshake (the client sees
 * 1006). Every handler is contained: an unforeseen throw closes this socket alone with 1011 ("Internal Error",
 * RFC 6455 §7.4.1) and is counted in `video_chat_handler_errors_total`.
 *
 * ws behaviours relied on: a protocol violation (oversize frame, invalid UTF-8, too many fragments or buffered
 * chunks, bad framing) emits `'error'` with a `WS_ERR_*` code, then ws closes the socket itself and `'close'` follows;
 * `'close'` always comes, once.
 *
 * One piece at about 400 lines (a third of them documentation): the frame path, the join backlog and the ways a
 * connection ends read and write the same per-socket state, so they stay together.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { WebSocket, type RawData } from 'ws';
import {
  CloseCode,
  encode,
  parseClientMessage,
  type ErrorCode,
  type JoinMessage,
  type ServerMessage,
} from '../../src/protocol/relay.js';
import { verifyRoomToken } from './auth.js';
import type { Logger } from './log.js';
import type { RelayMetrics } from './metrics.js';
import type { ResolvedRelayOptions } from './options.js';
import type { JoinDetails, Joined, Link, Participants } from './participants.js';
import { TokenBucket, type RateLimit } from './rate-limit.js';

/**
 * Frames a connection may send while its `join` waits for the token check; they are handled in order afterwards.
 * A client has no reason to send more than a few before its welcome; more closes the connection with 1008.
 */
export const MAX_FRAMES_DURING_JOIN = 64;

/** Close code for an unforeseen failure while handling a client's frame (RFC 6455 §7.4.1 "Internal Error"). */
export const INTERNAL_ERROR = 1011;

/** The one answer to every refused token, whatever the reason: a client learns nothing about what was wrong. */
const UNAUTHORIZED = 'not authorized to join this room';

/** A frame as ws delivered it. */
export interface Frame {
  data: RawData;
  isBinary: boolean;
}

/** What every {@link Connection} of one relay shares. */
export interface ConnectionContext {
  readonly config: Pick<ResolvedRelayOptions, 'maxBufferedBytes' | 'pushBackBufferedBytes' | 'joinTimeoutMs'>;
  readonly rateLimit: RateLimit;
  readonly log: Logger;
  readonly metrics: RelayMetrics;
  readonly participants: Participants;
  /** The room-token key (UTF-8 of `tokenSecret`), or `undefined` when joins need no token. */
  readonly tokenKey: Uint8Array | undefined;
  /** Open connections: added on open, removed on close (the heartbeat and the drain walk it). */
  readonly connections: Set<Connection>;
  /** @returns whether the relay is closing (a token check finishing then admits nobody). */
  isClosing(): boolean;
  /** @param address one connection or participant in grace less for this client address. */
  release(address: string): void;
}

/**
 * Per-socket state and handlers. Created for an accepted socket by {@link serve}; implements the {@link Link} through
 * which participants reach it.
 */
export class Connection implements Link {
  readonly socket: WebSocket;
  /** Client address as counted for the per-address limit (see `address.ts`), also used in logs. */
  readonly ip: string;
  member: Joined | undefined = undefined;
  /** The heartbeat flag: set by a pong, cleared by each ping. */
  alive = true;
  /** The relay closed it for abuse (flood, oversize frame, failure): it leaves at once, without a grace period. */
  noResume = false;
  /** Set by the host layer while this connection waits outside a room (knock): the join timeout waits too. */
  waiting = false;
  /** Set while a `join` waits for its token check: frames received meanwhile, to be handled after it. */
  backlog: Frame[] | undefined = undefined;
  readonly #bucket: TokenBucket;
  /** Whether the rate limit was logged for this socket already (once per socket is enough). */
  #limitLogged = false;
  /** Runs while the connection is in no room; closes it with 4000 when it fires. */
  #joinTimer: NodeJS.Timeout | undefined = undefined;
  readonly #ctx: ConnectionContext;

  /**
   * @param socket the open WebSocket.
   * @param ip the client address key it counts against.
   * @param ctx the relay's shared parts.
   */
  constructor(socket: WebSocket, ip: string, ctx: ConnectionContext) {
    this.socket = socket;
    this.ip = ip;
    this.#ctx = ctx;
    this.#bucket = new TokenBucket(ctx.rateLimit, performance.now());
  }

  get congested(): boolean {
    return this.socket.bufferedAmount > this.#ctx.config.pushBackBufferedBytes;
  }

  /**
   * Sends `message`. A client that does not read makes its queue grow; past `maxBufferedBytes` it is terminated
   * rather than held in memory. Senders never wait for it: ws queues and returns at once.
   * @returns whether the message was handed to the socket.
   */
  send(message: ServerMessage): boolean {
    const { socket } = this;
    if (socket.readyState !== WebSocket.OPEN) return false;
    socket.send(encode(message));
    if (socket.bufferedAmount > this.#ctx.config.maxBufferedBytes) {
      this.#ctx.log.warn(
        { ip: this.ip, id: this.member?.id, buffered: socket.bufferedAmount },
        'client not reading: terminating',
      );
      this.terminate();
      return false;
    }
    return true;
  }

  /** @returns whether the encoded frame was handed to the socket (false once it is no longer open). */
  sendEncoded(frame: string): boolean {
    if (this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(frame);
    return true;
  }

  /** Replies with an `error` message, counted by code; the socket stays open. */
  fail(code: ErrorCode, message: string): void {
    this.#ctx.metrics.errors.inc({ code });
    this.#ctx.log.debug({ ip: this.ip, id: this.member?.id, code }, 'error reply');
    this.send({ type: 'error', code, message });
  }

  /** {@link Link.close}: {@link closeFor} at level `info`. */
  close(code: number, reason: string): void {
    this.closeFor(code, reason, 'info');
  }

  /**
   * Closes with `code` (a policy close: the connection leaves at once, without a grace period), counted and logged.
   * @param code the close code (RFC 6455 §7.4).
   * @param reason the close reason (≤ 123 bytes of UTF-8).
   * @param level the log level.
   */
  closeFor(code: number, reason: string, level: 'warn' | 'info' = 'warn'): void {
    this.#ctx.metrics.closedByRelay.inc({ code });
    this.#ctx.log[level]({ ip: this.ip, id: this.member?.id, code, reason }, 'closing connection');
    if (code === CloseCode.PolicyViolation) this.noResume = true;
    this.socket.close(code, reason);
  }

  /** Drops the TCP connection without a closing handshake (the client sees 1006). */
  terminate(): void {
    this.#ctx.metrics.closedByRelay.inc({ code: 1006 });
    this.socket.terminate();
  }

  /** (Re)starts the join timer: a connection in no room is closed with 4000 after `joinTimeoutMs`. */
  startJoinTimer(): void {
    clearTimeout(this.#joinTimer);
    this.#joinTimer = setTimeout(() => {
      this.#joinTimer = undefined;
      if (this.waiting) this.startJoinTimer();
      else if (this.member === undefined && this.socket.readyState === WebSocket.OPEN) {
        this.closeFor(CloseCode.JoinTimeout, 'join timeout', 'info');
      }
    }, this.#ctx.config.joinTimeoutMs);
  }

  /** Stops the join timer (the connection joined, or closed). */
  stopJoinTimer(): void {
    clearTimeout(this.#joinTimer);
    this.#joinTimer = undefined;
  }

  /**
   * An unforeseen throw while serving this connection (a bug, or a value nobody thought of): this connection alone is
   * closed with {@link INTERNAL_ERROR} and its participant leaves; the relay and every other connection go on. Counted
   * in `video_chat_handler_errors_total` and logged at `error`. Never throws, even if the logger does.
   * @param error what was thrown.
   * @param what which handler failed, for the log.
   */
  internalError(error: unknown, what: string): void {
    this.#ctx.metrics.handlerErrors.inc();
    try {
      this.#ctx.log.error(
        { ip: this.ip, id: this.member?.id, err: error instanceof Error ? error.message : String(error) },
        `${what}: closing the connection`,
      );
    } catch {
      // The logger itself failed: the metric has it.
    }
    this.noResume = true;
    if (this.socket.readyState === WebSocket.OPEN) {
      this.#ctx.metrics.closedByRelay.inc({ code: INTERNAL_ERROR });
      this.socket.close(INTERNAL_ERROR, 'internal error');
    }
  }

  /** ws `'message'`: served, contained ({@link internalError}). */
  onMessage(data: RawData, isBinary: boolean): void {
    try {
      this.#serveMessage(data, isBinary);
    } catch (error) {
      this.internalError(error, 'message handler failed');
    }
  }

  /**
   * ws `'close'`: the connection is gone; its participant leaves or enters its grace period. Contained.
   * @param code the close code as ws reports it.
   * @param violated ws closed it for a protocol violation: no grace period.
   */
  onClose(code: number, violated: boolean): void {
    const ctx = this.#ctx;
    ctx.connections.delete(this);
    this.stopJoinTimer();
    let kept = false;
    try {
      ctx.log.debug({ ip: this.ip, id: this.member?.id, code }, 'disconnected');
      if (violated) this.noResume = true;
      kept = ctx.participants.detach(this, code, this.noResume);
    } catch (error) {
      this.internalError(error, 'close handler failed');
    } finally {
      // A participant in its grace period keeps the connection's place in its address's count (see detach).
      if (!kept) ctx.release(this.ip);
    }
  }

  #serveMessage(data: RawData, isBinary: boolean): void {
    // Frames still arriving after the relay started closing this socket are not served.
    if (this.socket.readyState !== WebSocket.OPEN) return;
    const verdict = this.#bucket.take(performance.now());
    if (verdict !== 'pass') {
      const { metrics, log, rateLimit } = this.#ctx;
      metrics.rateLimited.inc();
      if (!this.#limitLogged) {
        this.#limitLogged = true;
        log.warn({ ip: this.ip, id: this.member?.id }, 'rate limit reached');
      }
      if (verdict === 'close') this.closeFor(CloseCode.PolicyViolation, 'rate limit exceeded');
      else
        this.fail(
          'rate-limited',
          `too many messages: at most ${rateLimit.perSecond} per second, bursts of ${rateLimit.burst}`,
        );
      return;
    }
    if (this.backlog) {
      if (this.backlog.length >= MAX_FRAMES_DURING_JOIN) {
        this.closeFor(CloseCode.PolicyViolation, 'too many messages before welcome');
        return;
      }
      this.backlog.push({ data, isBinary });
      return;
    }
    this.handleFrame(data, isBinary);
  }

  /** Handles `frames` in order; if one of them starts a token check, the rest wait behind it. */
  handleFrames(frames: Frame[]): void {
    for (let i = 0; i < frames.length; i++) {
      if (this.backlog) {
        this.backlog.unshift(...frames.slice(i));
        return;
      }
      const frame = frames[i] as Frame;
      this.handleFrame(frame.data, frame.isBinary);
    }
  }

  /** Parses one frame and acts on it (join, signal, leave), or replies with the parse error. */
  handleFrame(data: RawData, isBinary: boolean): void {
    // Binary frames go to the parse guard as-is; it rejects anything but text with its own message.
    const raw: unknown = isBinary ? data : rawToText(data);
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) {
      this.fail(parsed.error.code, parsed.error.message);
      return;
    }
    const message = parsed.value;
    switch (message.type) {
      case 'join':
        this.#join(message);
        return;
      case 'signal':
        if (this.member === undefined) this.fail('not-joined', 'join a room before sending signal');
        else this.#ctx.participants.signal(this, message.to, message.data);
        return;
      case 'leave':
        if (this.member === undefined) {
          this.fail('not-joined', 'join a room before sending leave');
        } else {
          this.#ctx.participants.leave(this);
          this.startJoinTimer();
        }
        return;
      default:
        // Host actions and cancel (v2): the host layer enforces who may do what (hosts/host-participants.ts).
        if (this.#ctx.participants.host) this.#ctx.participants.host(this, message);
        else this.fail('forbidden', `${message.type} is not available on this relay`);
    }
  }

  #join(message: JoinMessage): void {
    const { participants, tokenKey } = this.#ctx;
    if (this.member !== undefined) {
      this.fail('already-joined', `already in room ${JSON.stringify(this.member.room)}; send leave first`);
      return;
    }
    if (this.waiting) {
      this.fail('already-joined', 'waiting to enter a room: send cancel first');
      return;
    }
    if (message.resume !== undefined) {
      this.#settle(participants.resume(this, message.room, message.resume));
      return;
    }
    const protocol = message.protocol ?? 1;
    if (tokenKey === undefined) {
      this.#admit(message.room, message.name ?? '', message.caps, { protocol });
      return;
    }
    // The check is asynchronous (WebCrypto): hold this connection's later frames until it is done, so that every
    // frame is still handled in the order it was sent.
    this.backlog = [];
    verifyRoomToken(message.token, message.room, tokenKey)
      .then((result) => {
        const backlog = this.backlog ?? [];
        this.backlog = undefined;
        if (!this.#ctx.connections.has(this) || this.#ctx.isClosing()) return;
        if (result.ok) {
          const name = result.grant.name ?? message.name ?? '';
          this.#admit(message.room, name, message.caps, { protocol, grant: result.grant });
        } else {
          this.#ctx.log.warn({ ip: this.ip, room: message.room, reason: result.reason }, 'join refused: room token');
          this.fail('unauthorized', UNAUTHORIZED);
        }
        this.handleFrames(backlog);
      })
      .catch((error: unknown) => {
        this.internalError(error, 'token check failed');
      });
  }

  #admit(room: string, name: string, caps: readonly string[] | undefined, join: JoinDetails): void {
    this.#settle(this.#ctx.participants.admit(this, room, name, caps, join));
  }

  /**
   * After an admit or resume: stops the join timer once in a room. If the participants answer later (rooms shared
   * through Redis), this connection's later frames wait behind the answer, as behind a token check.
   */
  #settle(pending: void | Promise<void>): void {
    if (pending === undefined) {
      if (this.member !== undefined) this.stopJoinTimer();
      return;
    }
    this.backlog ??= [];
    pending
      .then(() => {
        const backlog = this.backlog ?? [];
        this.backlog = undefined;
        if (this.member !== undefined) this.stopJoinTimer();
        if (this.#ctx.connections.has(this)) this.handleFrames(backlog);
      })
      .catch((error: unknown) => {
        this.internalError(error, 'join failed');
      });
  }
}

/**
 * Serves an accepted socket: the `'error'` listener first (an `'error'` without one would crash the process), then a
 * {@link Connection} with its listeners, counted in `ctx.connections`. While the relay is closing the socket is
 * terminated instead.
 * @param socket the socket ws just opened.
 * @param remoteAddress the peer's TCP address, for logs only.
 * @param ip the client address key it counts against (already counted by the gate's caller).
 * @param ctx the relay's shared parts.
 * @returns the connection, or `undefined` if the relay is closing.
 */
export function serve(
  socket: WebSocket,
  remoteAddress: string | undefined,
  ip: string,
  ctx: ConnectionContext,
): Connection | undefined {
  // A WebSocket protocol violation (oversize frame, invalid UTF-8, bad opcode or framing: ws closes the socket
  // itself, with 1009, 1007 or 1002) is abuse or a bug: no grace period, the participant leaves at once.
  let violated = false;
  socket.on('error', (error: Error & { code?: string }) => {
    if (error.code?.startsWith('WS_ERR_')) {
      violated = true;
      const code =
        error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
          ? CloseCode.MessageTooBig
          : error.code === 'WS_ERR_INVALID_UTF8'
            ? 1007
            : // Too many fragments or buffered chunks (MAX_FRAGMENTS, MAX_BUFFERED_CHUNKS): ws closes with 1008.
              error.code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS'
              ? CloseCode.PolicyViolation
              : 1002;
      ctx.metrics.closedByRelay.inc({ code });
    }
    ctx.log.debug({ ip: remoteAddress, err: error.message }, 'socket error');
  });
  if (ctx.isClosing()) {
    socket.terminate();
    return undefined;
  }
  const conn = new Connection(socket, ip, ctx);
  ctx.connections.add(conn);
  conn.startJoinTimer();
  ctx.metrics.connectionsAccepted.inc();
  ctx.log.debug({ ip }, 'connected');
  socket.on('pong', () => {
    conn.alive = true;
  });
  socket.on('message', (data, isBinary) => conn.onMessage(data, isBinary));
  socket.on('close', (code) => conn.onClose(code, violated));
  return conn;
}

/**
 * A text frame's payload as a string. ws delivers a Buffer by default; the other shapes are for completeness.
 * @param data the payload as ws delivered it.
 * @returns the payload decoded as UTF-8 (ws has validated it already).
 */
export function rawToText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
