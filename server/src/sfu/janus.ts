/**
 * A client of the Janus WebRTC server's JSON API over one WebSocket (subprotocol `janus-protocol`), on the `ws`
 * package: requests with transactions and timeouts, sessions with keepalives, plugin handles, and the asynchronous
 * events Janus pushes for a handle. Only the relay speaks it: browsers never reach Janus's API.
 *
 * Followed: the Janus API documentation (https://janus.conf.meetecho.com/docs/rest.html, "The Janus API over
 * WebSockets"). A request carries `transaction` (and `apisecret` when Janus has `api_secret`); Janus answers
 * `success` / `error`, or for a plugin message that runs asynchronously `ack` followed by an `event` with the same
 * transaction. Events without a transaction (`event`, `webrtcup`, `hangup`, `detached`, …) name their handle in
 * `sender`.
 *
 * Every failure is an {@link JanusError}: a Janus `error` reply (its code and reason), a plugin error (`error_code`
 * in the plugin data), a timeout, or the WebSocket closing. Nothing here throws synchronously for Janus's answers.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';

/** The WebSocket subprotocol Janus's WebSocket transport requires. */
export const JANUS_SUBPROTOCOL = 'janus-protocol';

/** A failed Janus request. `code` is Janus's (e.g. 403 unauthorized, 458 no such session, 426 no such room), or 0. */
export class JanusError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'JanusError';
    this.code = code;
  }
}

/** A JSON object as Janus sends it. */
export type JanusMessage = Record<string, unknown>;

/** What a plugin answered: its data (`plugindata.data`) and, for negotiation, a JSEP description. */
export interface PluginReply {
  data: JanusMessage;
  jsep?: { type: 'offer' | 'answer'; sdp: string };
}

/** Options of {@link JanusClient.connect}. */
export interface JanusClientOptions {
  /** The Janus WebSocket URL, e.g. `ws://127.0.0.1:8188` (a private address: never handed to browsers). */
  url: string;
  /** Janus's `api_secret`, sent with every request, if Janus has one. */
  apiSecret?: string;
  /** How long a request may wait for its answer, in ms (default 10 000). */
  requestTimeoutMs?: number;
  /** How long the WebSocket may take to open, in ms (default 5 000). */
  connectTimeoutMs?: number;
}

interface Pending {
  resolve(message: JanusMessage): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** An `ack` does not settle it (a plugin message: the `event` with the same transaction does). */
  waitsForEvent: boolean;
}

/** The answer's error as a {@link JanusError}, or `undefined` if it is not one. */
function errorOf(message: JanusMessage): JanusError | undefined {
  if (message['janus'] === 'error') {
    const error = (message['error'] ?? {}) as { code?: number; reason?: string };
    return new JanusError(error.code ?? 0, `janus: ${error.reason ?? 'error'}`);
  }
  const data = (message['plugindata'] as { data?: JanusMessage } | undefined)?.data;
  if (data && typeof data['error_code'] === 'number') {
    return new JanusError(
      data['error_code'],
      `janus plugin: ${typeof data['error'] === 'string' ? data['error'] : 'error'}`,
    );
  }
  return undefined;
}

/** One WebSocket to Janus, shared by every session the relay holds on it. */
export class JanusClient {
  readonly #socket: WebSocket;
  readonly #options: Required<Omit<JanusClientOptions, 'apiSecret'>> & { apiSecret: string | undefined };
  readonly #pending = new Map<string, Pending>();
  /** Listeners of events that carry no transaction, by handle ID (`sender`). */
  readonly #handles = new Map<number, (message: JanusMessage) => void>();
  #closed: Error | undefined;
  /** Called once when the WebSocket closes (Janus gone or {@link close}). */
  onClose: ((error: Error) => void) | undefined;

  private constructor(socket: WebSocket, options: JanusClientOptions) {
    this.#socket = socket;
    this.#options = {
      url: options.url,
      apiSecret: options.apiSecret,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    };
    socket.on('message', (data: Buffer) => this.#onMessage(data.toString('utf8')));
    socket.on('close', () => this.#fail(new JanusError(0, 'janus: connection closed')));
    socket.on('error', (error) => this.#fail(new JanusError(0, `janus: ${error.message}`)));
  }

  /**
   * Opens the WebSocket.
   * @throws JanusError if it does not open within `connectTimeoutMs`.
   */
  static async connect(options: JanusClientOptions): Promise<JanusClient> {
    const socket = new WebSocket(options.url, JANUS_SUBPROTOCOL, { perMessageDeflate: false });
    const client = new JanusClient(socket, options);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(
          new JanusError(0, `janus: no connection to ${options.url} within ${client.#options.connectTimeoutMs} ms`),
        );
      }, client.#options.connectTimeoutMs);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new JanusError(0, `janus: cannot connect to ${options.url}: ${error.message}`));
      });
    });
    return client;
  }

  /** Whether the WebSocket is still usable. */
  get open(): boolean {
    return this.#closed === undefined && this.#socket.readyState === WebSocket.OPEN;
  }

  /**
   * Sends one request and resolves with Janus's final answer (`success`, `ack` for trickle/keepalive, or the `event`
   * of a plugin message).
   * @param body the request without `transaction` / `apisecret` (added here).
   * @throws JanusError on an `error` answer, a plugin error, a timeout or a closed connection.
   */
  request(body: JanusMessage): Promise<JanusMessage> {
    if (this.#closed) return Promise.reject(this.#closed);
    const transaction = randomBytes(9).toString('base64url');
    const message: JanusMessage = { ...body, transaction };
    if (this.#options.apiSecret !== undefined) message['apisecret'] = this.#options.apiSecret;
    return new Promise<JanusMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(transaction);
        reject(
          new JanusError(0, `janus: no answer to ${String(body['janus'])} within ${this.#options.requestTimeoutMs} ms`),
        );
      }, this.#options.requestTimeoutMs);
      this.#pending.set(transaction, { resolve, reject, timer, waitsForEvent: body['janus'] === 'message' });
      this.#socket.send(JSON.stringify(message));
    });
  }

  /** Registers the listener of a handle's events without a transaction (one per handle). */
  listen(handleId: number, listener: (message: JanusMessage) => void): void {
    this.#handles.set(handleId, listener);
  }

  /** Removes a handle's listener. */
  unlisten(handleId: number): void {
    this.#handles.delete(handleId);
  }

  /** Closes the WebSocket; pending requests fail. */
  close(): void {
    this.#fail(new JanusError(0, 'janus: client closed'));
  }

  #onMessage(text: string): void {
    let message: JanusMessage;
    try {
      message = JSON.parse(text) as JanusMessage;
    } catch {
      return;
    }
    const transaction = message['transaction'];
    const pending = typeof transaction === 'string' ? this.#pending.get(transaction) : undefined;
    if (pending) {
      if (message['janus'] === 'ack' && pending.waitsForEvent) return;
      this.#pending.delete(transaction as string);
      clearTimeout(pending.timer);
      const error = errorOf(message);
      if (error) pending.reject(error);
      else pending.resolve(message);
      return;
    }
    const sender = message['sender'];
    if (typeof sender === 'number') this.#handles.get(sender)?.(message);
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
    this.#handles.clear();
    if (this.#socket.readyState === WebSocket.OPEN || this.#socket.readyState === WebSocket.CONNECTING) {
      this.#socket.terminate();
    }
    this.onClose?.(error);
  }
}

/**
 * A Janus session (`create`) with a keepalive every `keepaliveMs` (Janus drops a session after its
 * `session_timeout`, 60 s by default, without one), and its plugin handles.
 */
export class JanusSession {
  readonly client: JanusClient;
  readonly id: number;
  readonly #keepalive: NodeJS.Timeout;
  #destroyed = false;
  /** Called when a keepalive fails (the session is gone on Janus's side). */
  onLost: ((error: Error) => void) | undefined;

  private constructor(client: JanusClient, id: number, keepaliveMs: number) {
    this.client = client;
    this.id = id;
    this.#keepalive = setInterval(() => {
      client.request({ janus: 'keepalive', session_id: id }).catch((error: Error) => {
        if (!this.#destroyed) this.onLost?.(error);
      });
    }, keepaliveMs);
    this.#keepalive.unref();
  }

  /** Creates a session. @throws JanusError */
  static async create(client: JanusClient, keepaliveMs = 25_000): Promise<JanusSession> {
    const reply = await client.request({ janus: 'create' });
    const id = (reply['data'] as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'number') throw new JanusError(0, 'janus: create returned no session id');
    return new JanusSession(client, id, keepaliveMs);
  }

  /** Attaches a handle to `plugin` (e.g. `janus.plugin.videoroom`). @throws JanusError */
  async attach(plugin: string): Promise<JanusHandle> {
    const reply = await this.client.request({ janus: 'attach', session_id: this.id, plugin });
    const id = (reply['data'] as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'number') throw new JanusError(0, 'janus: attach returned no handle id');
    return new JanusHandle(this, id);
  }

  /** Destroys the session on Janus (its handles go with it); never throws. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    clearInterval(this.#keepalive);
    if (!this.client.open) return;
    await this.client.request({ janus: 'destroy', session_id: this.id }).catch(() => undefined);
  }
}

/** A plugin handle: messages to the plugin, trickled candidates, and its asynchronous events. */
export class JanusHandle {
  readonly session: JanusSession;
  readonly id: number;

  constructor(session: JanusSession, id: number) {
    this.session = session;
    this.id = id;
  }

  /**
   * Sends a plugin request and resolves with its answer (synchronous plugin requests answer `success`, asynchronous
   * ones an `event`; both carry `plugindata`).
   * @param body the plugin request (`{ request: 'join', … }`).
   * @param jsep an SDP offer or answer to go with it.
   * @throws JanusError for an error answer (a plugin's `error_code` included).
   */
  async message(body: JanusMessage, jsep?: { type: 'offer' | 'answer'; sdp: string }): Promise<PluginReply> {
    const request: JanusMessage = { janus: 'message', session_id: this.session.id, handle_id: this.id, body };
    if (jsep) request['jsep'] = jsep;
    const reply = await this.session.client.request(request);
    return pluginReply(reply);
  }

  /**
   * Trickles one ICE candidate to Janus (RFC 8838), or the end of candidates (`null`).
   * @throws JanusError
   */
  async trickle(candidate: { candidate: string; sdpMid?: string; sdpMLineIndex?: number } | null): Promise<void> {
    await this.session.client.request({
      janus: 'trickle',
      session_id: this.session.id,
      handle_id: this.id,
      candidate: candidate ?? { completed: true },
    });
  }

  /** Registers the listener of this handle's events that answer no request (one per handle). */
  listen(listener: (reply: PluginReply & { janus: string }) => void): void {
    this.session.client.listen(this.id, (message) =>
      listener({ ...pluginReply(message), janus: String(message['janus']) }),
    );
  }
}

/** The plugin data and JSEP of an answer or event. */
export function pluginReply(message: JanusMessage): PluginReply {
  const data = (message['plugindata'] as { data?: JanusMessage } | undefined)?.data ?? {};
  const jsep = message['jsep'] as PluginReply['jsep'] | undefined;
  return jsep && typeof jsep.sdp === 'string' ? { data, jsep } : { data };
}
