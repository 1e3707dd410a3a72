/**
 * The WebSocket (RFC 6455) to the relay: opens it, parses every frame with the protocol guards, reports explicit
 * states, and reconnects after an unexpected close with exponential backoff and full jitter. It knows nothing about
 * rooms or peers: the call controller sends `join` each time the state becomes `open`.
 *
 * @module
 */
import {
  CloseCode,
  encode,
  parseServerMessage,
  type ClientMessage,
  type ProtocolViolation,
  type ServerMessage,
  type SignalRequest,
} from '../protocol/relay.js';

/**
 * Bounds of the queue of `signal`s sent while the socket is not open ({@link SignalingClient.send}): at most
 * `count` messages and `bytes` of encoded frames (in UTF-16 code units; the relay's own default `resumeQueueBytes`, 256 KiB).
 */
export const SIGNAL_QUEUE_LIMIT = { count: 200, bytes: 256 * 1024 } as const;

/**
 * - `idle`: created, {@link SignalingClient.connect} not called yet.
 * - `connecting`: first attempt under way.
 * - `open`: the socket is open (send `join` now).
 * - `reconnecting`: the socket closed unexpectedly or could not be opened; another attempt is scheduled.
 * - `closed`: closed by {@link SignalingClient.close} or for good (policy violation, message too big).
 */
export type SignalingState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ReconnectPolicy {
  /** Delay before the first retry, in ms. Default 250. */
  initialDelayMs: number;
  /** Upper bound of the delay, in ms. Default 10000. */
  maxDelayMs: number;
}

export interface SignalingClientOptions {
  /** `ws:` or `wss:` URL of the relay. */
  url: string;
  /** Called with every frame from the relay that parses (`parseServerMessage`), in arrival order. */
  onMessage: (message: ServerMessage) => void;
  /**
   * Called on every state change, and on every new `reconnecting` attempt. `detail.attempt`: failed attempts since
   * the socket was last open (0 on the first `connecting`, 1 on the first `reconnecting`); `detail.closeCode`: the
   * WebSocket close code (RFC 6455 §7.4) that caused a `reconnecting`, or that ended it for good with `closed`.
   */
  onStateChange: (state: SignalingState, detail: { attempt: number; closeCode?: number }) => void;
  /**
   * `signal`s that were queued while the relay was away and will never be sent: `overflow` when the queue was full
   * ({@link SIGNAL_QUEUE_LIMIT}; the message just sent is the one dropped), `rejoined` when the welcome after the
   * reconnect was not a resume (the IDs they name are gone).
   */
  onDropped?: (dropped: SignalRequest[], reason: 'overflow' | 'rejoined') => void;
  /** A frame from the relay that does not parse (a relay of another version?). */
  onProtocolViolation?: (violation: ProtocolViolation) => void;
  /** Backoff of the reconnect attempts, in ms (full jitter; see {@link backoffDelay}). */
  reconnect?: Partial<ReconnectPolicy>;
  /** A connection attempt that has not opened after this long is abandoned and retried, in ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Injectable for unit tests. Default: the global WebSocket. */
  WebSocket?: typeof WebSocket;
}

/** Close codes after which reconnecting would only repeat the problem. */
const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.PolicyViolation,
  CloseCode.MessageTooBig,
  CloseCode.Replaced, // the same participant was resumed on another connection
  CloseCode.OriginNotAllowed, // only the relay's operator can change its origin allowlist
  CloseCode.Removed, // a host removed this participant: a new join is refused (`removed`)
  CloseCode.Ended, // a host ended the call: joining again would start a new room of the same name
]);

/** Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"): U(0, min(max, base·2^n)). */
export function backoffDelay(attempt: number, policy: ReconnectPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * ceiling);
}

export class SignalingClient {
  #options: SignalingClientOptions;
  #policy: ReconnectPolicy;
  #socket: WebSocket | undefined;
  #state: SignalingState = 'idle';
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** `signal`s sent while not open (or not welcomed), encoded, in order; flushed after a resumed `welcome`. */
  #queue: Array<[SignalRequest, string]> = [];
  #queuedBytes = 0;
  /** Whether the current socket got its `welcome` (signals before it would reach the relay before the join). */
  #welcomed = false;

  constructor(options: SignalingClientOptions) {
    if (!/^wss?:\/\//i.test(options.url))
      throw new TypeError(`signal URL must start with ws:// or wss://: ${options.url}`);
    this.#options = options;
    this.#policy = { initialDelayMs: 250, maxDelayMs: 10_000, ...options.reconnect };
  }

  get state(): SignalingState {
    return this.#state;
  }

  /** Opens the connection (once; later drops reconnect by themselves until {@link close}). */
  connect(): void {
    if (this.#state !== 'idle') return;
    this.#open();
  }

  /**
   * Sends a message if the socket is open (a `signal`: once the relay welcomed it). Otherwise a `signal` is queued (within {@link SIGNAL_QUEUE_LIMIT}) and
   * sent, in order, right after the next `welcome` that is a resume (`resumed: true`; any other welcome drops the
   * queue); `join` and `leave` are dropped. Whatever is dropped from the queue is reported to `onDropped`.
   * @returns true when sent or queued, false when dropped.
   */
  send(message: ClientMessage): boolean {
    const text = encode(message);
    if (this.#state === 'open' && this.#socket && (this.#welcomed || message.type !== 'signal')) {
      this.#socket.send(text);
      return true;
    }
    if (message.type !== 'signal') return false;
    if (this.#queue.length >= SIGNAL_QUEUE_LIMIT.count || this.#queuedBytes + text.length > SIGNAL_QUEUE_LIMIT.bytes) {
      this.#options.onDropped?.([message], 'overflow');
      return false;
    }
    this.#queue.push([message, text]);
    this.#queuedBytes += text.length;
    return true;
  }

  /** Closes for good (code 1000). No reconnect follows. Idempotent. */
  close(): void {
    clearTimeout(this.#timer);
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) {
      socket.onopen = socket.onclose = socket.onmessage = socket.onerror = null;
      socket.close(CloseCode.Normal);
    }
    this.#setState('closed', {});
  }

  #open(): void {
    const Impl = this.#options.WebSocket ?? WebSocket;
    this.#setState(this.#attempt === 0 ? 'connecting' : 'reconnecting', {});
    let socket: WebSocket;
    try {
      socket = new Impl(this.#options.url);
    } catch {
      this.#scheduleReconnect(undefined);
      return;
    }
    this.#socket = socket;
    this.#timer = setTimeout(() => socket.close(), this.#options.connectTimeoutMs ?? 10_000);
    socket.onopen = () => {
      clearTimeout(this.#timer);
      this.#welcomed = false;
      this.#attempt = 0;
      this.#setState('open', {});
    };
    socket.onmessage = (event: MessageEvent) => {
      const parsed = parseServerMessage(event.data);
      if (parsed.ok) {
        const message = parsed.value;
        this.#options.onMessage(message);
        if (message.type === 'welcome') this.#flush(message.resumed === true);
      } else this.#options.onProtocolViolation?.(parsed.error);
    };
    socket.onclose = (event: CloseEvent) => {
      clearTimeout(this.#timer);
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (FINAL_CLOSE_CODES.has(event.code)) this.#setState('closed', { closeCode: event.code });
      else this.#scheduleReconnect(event.code);
    };
    // 'error' is always followed by 'close'; the close handler decides.
    socket.onerror = () => undefined;
  }

  /** After a welcome: sends the queued signals (`resume`) or drops them. */
  #flush(resume: boolean): void {
    this.#welcomed = true;
    const queue = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    if (!resume) {
      if (queue.length)
        this.#options.onDropped?.(
          queue.map(([m]) => m),
          'rejoined',
        );
    } else for (const [, text] of queue) this.#socket?.send(text);
  }

  #scheduleReconnect(closeCode: number | undefined): void {
    const delay = backoffDelay(this.#attempt, this.#policy);
    this.#attempt += 1;
    this.#setState('reconnecting', closeCode === undefined ? {} : { closeCode });
    this.#timer = setTimeout(() => this.#open(), delay);
  }

  #setState(state: SignalingState, detail: { closeCode?: number }): void {
    const changed = this.#state !== state;
    this.#state = state;
    // 'reconnecting' is reported on every attempt so the UI can show the attempt count.
    if (changed || state === 'reconnecting') this.#options.onStateChange(state, { attempt: this.#attempt, ...detail });
  }
}
