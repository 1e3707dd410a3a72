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
} from '../protocol/relay.js';

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

  /** Sends a message if the socket is open; returns false (and drops it) otherwise. */
  send(message: ClientMessage): boolean {
    if (this.#state !== 'open' || !this.#socket) return false;
    this.#socket.send(encode(message));
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
      this.#attempt = 0;
      this.#setState('open', {});
    };
    socket.onmessage = (event: MessageEvent) => {
      const parsed = parseServerMessage(event.data);
      if (parsed.ok) this.#options.onMessage(parsed.value);
      else this.#options.onProtocolViolation?.(parsed.error);
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
