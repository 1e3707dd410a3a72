/**
 * SignalingClient with a fake WebSocket (its injectable `WebSocket` option) and node:test's mocked timers: states,
 * backoff with full jitter, the close codes after which it stops, the connect timeout, and frame parsing. The same
 * client against the real relay in real browsers is covered by the element and e2e tests.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { CloseCode } from '../../../src/protocol/relay.js';
import {
  backoffDelay,
  SIGNAL_QUEUE_LIMIT,
  SignalingClient,
  type SignalingState,
} from '../../../src/signaling/signaling-client.js';
import type { SignalRequest } from '../../../src/protocol/relay.js';

/** A WebSocket double: records what is sent; the test opens, closes and feeds it. */
class FakeSocket {
  static made: FakeSocket[] = [];
  readonly url: string;
  readonly sent: string[] = [];
  closedWith: number | undefined;
  onopen: (() => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(url: string) {
    this.url = url;
    FakeSocket.made.push(this);
  }
  send(text: string): void {
    this.sent.push(text);
  }
  /** As a browser does for a socket that never opened or is being closed: 'close' follows (1006 unless given). */
  close(code?: number): void {
    this.closedWith = code ?? 1006;
    this.onclose?.({ code: this.closedWith });
  }
  // Driven by the test:
  open(): void {
    this.onopen?.();
  }
  receive(data: unknown): void {
    this.onmessage?.({ data });
  }
  drop(code: number): void {
    this.onclose?.({ code });
  }
}

interface Run {
  client: SignalingClient;
  states: [SignalingState, { attempt: number; closeCode?: number }][];
  messages: unknown[];
  violations: string[];
  latest(): FakeSocket;
  dropped: [string[], string][];
}

function start(t: TestContext, options: { connectTimeoutMs?: number } = {}): Run {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  FakeSocket.made = [];
  const run: Omit<Run, 'client'> = {
    states: [],
    messages: [],
    violations: [],
    dropped: [],
    latest() {
      const socket = FakeSocket.made.at(-1);
      assert.ok(socket, 'a socket was made');
      return socket;
    },
  };
  const client = new SignalingClient({
    url: 'ws://relay.test/',
    onMessage: (m) => run.messages.push(m),
    onStateChange: (state, detail) => run.states.push([state, detail]),
    onProtocolViolation: (v) => run.violations.push(v.message),
    onDropped: (dropped, reason) => run.dropped.push([dropped.map((m) => m.to), reason]),
    reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
    ...options,
    WebSocket: FakeSocket as unknown as typeof WebSocket,
  });
  t.after(() => client.close());
  client.connect();
  return { ...run, client };
}

describe('backoffDelay', () => {
  it('draws from [0, min(max, initial·2^attempt)] (full jitter)', () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1000 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 40].map((n) => backoffDelay(n, policy, () => 1)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(
      backoffDelay(5, policy, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(1, policy, () => 0.5),
      100,
    );
  });
});

describe('SignalingClient', () => {
  it('refuses a URL that is not ws: or wss:', () => {
    assert.throws(() => new SignalingClient({ url: 'http://x/', onMessage() {}, onStateChange() {} }), TypeError);
  });

  it('connects, reports open, and sends only while open', (t) => {
    const run = start(t);
    assert.deepEqual(
      run.states.map(([s]) => s),
      ['connecting'],
    );
    assert.equal(run.client.send({ type: 'leave' }), false, 'not open yet: dropped and said so');
    run.latest().open();
    assert.equal(run.client.state, 'open');
    assert.equal(run.client.send({ type: 'leave' }), true);
    assert.deepEqual(run.latest().sent, ['{"type":"leave"}']);
  });

  it('parses every frame: valid ones reach onMessage, others onProtocolViolation', (t) => {
    const run = start(t);
    run.latest().open();
    run.latest().receive('{"type":"peer-left","id":"p1"}');
    run.latest().receive('{"type":"peer-left"}');
    run.latest().receive('not json');
    assert.deepEqual(run.messages, [{ type: 'peer-left', id: 'p1' }]);
    assert.equal(run.violations.length, 2);
    assert.match(run.violations[0] ?? '', /peer-left.id/);
  });

  it('reconnects after an unexpected close, with backoff, and counts attempts', (t) => {
    const run = start(t);
    run.latest().open();
    run.latest().drop(1006);
    assert.equal(run.client.state, 'reconnecting');
    assert.deepEqual(run.states.at(-1), ['reconnecting', { attempt: 1, closeCode: 1006 }]);
    assert.equal(FakeSocket.made.length, 1, 'no new socket before the backoff delay');
    t.mock.timers.tick(100); // attempt 0's ceiling
    assert.equal(FakeSocket.made.length, 2, 'a new socket after at most the first ceiling');
    run.latest().open();
    assert.equal(run.client.state, 'open');
  });

  it('reconnects after 1013 Try Again Later (a relay that cannot reach the Redis its rooms are shared through)', (t) => {
    const run = start(t);
    run.latest().open();
    run.latest().drop(CloseCode.TryAgainLater);
    assert.deepEqual(run.states.at(-1), ['reconnecting', { attempt: 1, closeCode: 1013 }]);
    t.mock.timers.tick(100);
    assert.equal(FakeSocket.made.length, 2, 'a new socket after the backoff');
  });

  for (const code of [CloseCode.PolicyViolation, CloseCode.MessageTooBig, CloseCode.Replaced]) {
    it(`stops for good after close code ${code}`, (t) => {
      const run = start(t);
      run.latest().open();
      run.latest().drop(code);
      assert.equal(run.client.state, 'closed');
      assert.deepEqual(run.states.at(-1), ['closed', { attempt: 0, closeCode: code }]);
      t.mock.timers.tick(60_000);
      assert.equal(FakeSocket.made.length, 1, 'never reconnects');
    });
  }

  it('abandons an attempt that does not open within connectTimeoutMs and tries again', (t) => {
    const run = start(t, { connectTimeoutMs: 500 });
    t.mock.timers.tick(499);
    assert.equal(run.latest().closedWith, undefined);
    t.mock.timers.tick(1);
    assert.equal(run.latest().closedWith, 1006, 'closed by the timeout');
    assert.equal(run.client.state, 'reconnecting');
    t.mock.timers.tick(100);
    assert.equal(FakeSocket.made.length, 2);
  });

  it('close() closes with 1000, reports closed once, and no reconnect follows', (t) => {
    const run = start(t);
    run.latest().open();
    run.client.close();
    run.client.close();
    assert.equal(run.latest().closedWith, CloseCode.Normal);
    assert.deepEqual(
      run.states.map(([s]) => s),
      ['connecting', 'open', 'closed'],
    );
    t.mock.timers.tick(60_000);
    assert.equal(FakeSocket.made.length, 1);
  });
});

/** A welcome frame from the relay (`resumed`: the answer to a resume). */
const welcome = (resumed: boolean): string =>
  JSON.stringify({
    type: 'welcome',
    id: 'me',
    room: 'r',
    peers: [],
    iceServers: [],
    ...(resumed ? { resumed: true } : {}),
  });
const signal = (to: string, n: number): SignalRequest => ({ type: 'signal', to, data: { gen: 0, n } });

describe('SignalingClient: signals while the relay is away', () => {
  it('queues signals until the next resumed welcome, then sends them in order; join and leave are not queued', (t) => {
    const run = start(t);
    run.latest().open();
    run.latest().receive(welcome(false));
    assert.equal(run.client.send(signal('p1', 0)), true);
    assert.equal(run.latest().sent.length, 1, 'open and welcomed: sent at once');
    run.latest().drop(1006);
    assert.equal(run.client.send(signal('p1', 1)), true, 'queued');
    assert.equal(run.client.send(signal('p2', 2)), true, 'queued');
    assert.equal(run.client.send({ type: 'leave' }), false, 'not a signal: dropped');
    t.mock.timers.tick(1000);
    run.latest().open();
    assert.equal(run.client.send(signal('p1', 3)), true);
    assert.deepEqual(run.latest().sent, [], 'open but not welcomed yet: still queued (the join goes first)');
    assert.equal(run.client.send({ type: 'leave' }), true, 'join and leave go before the welcome');
    run.latest().receive(welcome(true));
    assert.deepEqual(
      run
        .latest()
        .sent.slice(1)
        .map((text) => (JSON.parse(text) as { data: { n: number } }).data.n),
      [1, 2, 3],
    );
    assert.deepEqual(run.dropped, []);
  });

  it('drops the queue after a fresh welcome (new IDs) and says so', (t) => {
    const run = start(t);
    run.latest().open();
    run.latest().drop(1006);
    run.client.send(signal('p1', 1));
    run.client.send(signal('p1', 2));
    run.client.send(signal('p2', 3));
    t.mock.timers.tick(1000);
    run.latest().open();
    run.latest().receive(welcome(false));
    assert.deepEqual(run.latest().sent, []);
    assert.deepEqual(run.dropped, [[['p1', 'p1', 'p2'], 'rejoined']]);
    run.client.send(signal('p3', 4));
    assert.equal(run.latest().sent.length, 1, 'welcomed: sent at once');
  });

  it('is bounded by count: the signal beyond it is dropped and reported', (t) => {
    const run = start(t);
    for (let n = 0; n < SIGNAL_QUEUE_LIMIT.count; n++) assert.equal(run.client.send(signal('p1', n)), true);
    assert.deepEqual(run.dropped, []);
    assert.equal(run.client.send(signal('p2', -1)), false);
    assert.deepEqual(run.dropped, [[['p2'], 'overflow']]);
    run.latest().open();
    run.latest().receive(welcome(true));
    assert.equal(run.latest().sent.length, SIGNAL_QUEUE_LIMIT.count, 'the queued ones still go');
  });

  it('is bounded by bytes', (t) => {
    const run = start(t);
    const big = (n: number): SignalRequest => ({
      type: 'signal',
      to: 'p1',
      data: { gen: 0, sdp: 'x'.repeat(60_000), n },
    });
    let queued = 0;
    while (run.client.send(big(queued))) queued++;
    assert.equal(queued, Math.floor(SIGNAL_QUEUE_LIMIT.bytes / 60_050), 'as many as fit');
    assert.deepEqual(run.dropped, [[['p1'], 'overflow']]);
    assert.equal(run.client.send(signal('p1', 0)), true, 'a small one still fits');
  });
});
