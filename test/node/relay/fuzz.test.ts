/**
 * Fuzzing the relay (a real `video-chat-relay` process on loopback) with malformed input at three levels:
 *
 * - messages: at least 100 000 frames that the protocol module rejects (random JSON, mutated protocol messages with
 *   fields of every wrong type, random Unicode text, binary frames, deep nesting, `__proto__` keys, truncated
 *   messages), from connections both joined and not. Every single one must be answered, in order, with `error`
 *   carrying the parse guard's own code and message;
 * - frames: text frames that are not UTF-8, oversize frames, and random bytes after a valid handshake (bad opcodes,
 *   unmasked frames, reserved bits, fragmented control frames…): each must end in a close (or a dropped connection);
 * - HTTP: garbage upgrade requests: each must be answered and/or closed.
 *
 * Zero crashes: the relay process must stay up throughout, serve a normal call afterwards, log nothing at error
 * level, and exit 0 on SIGTERM. Inputs come from fast-check with a fixed seed (replayable), overridable with
 * FUZZ_SEED; FUZZ_MESSAGES sets the count. The run is bounded in count; its wall time is printed, never asserted (this machine is shared),
 * and the runner's timeout ({@link TIMEOUT_MS}) stops a relay that hangs.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { MAX_MESSAGE_BYTES, parseClientMessage, parseServerMessage } from '../../../src/protocol/relay.js';
import { openWebSocket, startRelayProcess, TestClient, withTimeout, WAIT_MS, type RelayProcess } from './helpers.js';
import { maskedFrame, rawHandshake } from './raw-ws.js';

const MESSAGES = Number(process.env['FUZZ_MESSAGES'] ?? 100_000);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_121);
/** Connections fuzzed at once, and frames in flight on each. */
const CONNECTIONS = 8;
const BATCH = 500;
const RAW_FRAMES = 1_000;
const HTTP_REQUESTS = 300;
/** The test runner's limit per test: far above a normal run (under a minute), so that only a hang reaches it. */
const TIMEOUT_MS = 300_000;

// ---- generators ----

const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
/** Anything at all where a field is expected. */
const junk = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1e308,
    Number.NaN,
    '',
    ' ',
    'a b',
    'r'.repeat(65),
    'n'.repeat(65),
    '__proto__',
    [],
    {},
    [[]],
  ),
);
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 3 });
const typeField = fc.oneof(fc.constantFrom('join', 'signal', 'leave', 'welcome', 'error', 'JOIN', 'join ', ''), junk);
/** Protocol-shaped messages whose fields are right, missing or wrong. */
const mutated = fc
  .record(
    {
      type: typeField,
      room: maybe(fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/), junk)),
      name: maybe(fc.oneof(fc.string({ maxLength: 64 }), junk)),
      token: maybe(junk),
      resume: maybe(fc.oneof(fc.record({ id: fc.oneof(id, junk), secret: fc.oneof(id, junk) }), junk)),
      to: maybe(fc.oneof(id, junk)),
      from: maybe(fc.oneof(id, junk)),
      data: maybe(fc.oneof(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), junk)),
    },
    { requiredKeys: [] },
  )
  .map((m) => JSON.stringify(Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined))));
/** Nesting as deep as fits in one frame. */
const deep = fc
  .tuple(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom('[', '{"a":'))
  .map(([n, open]) => (open === '[' ? `${'['.repeat(n)}${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`));
const proto = fc.constantFrom(
  '{"__proto__":{"type":"join","room":"r"}}',
  '{"type":"join","room":"r","__proto__":{"name":5}}',
  '{"constructor":{"prototype":{"type":"leave"}}}',
  '{"type":"__proto__"}',
  '{"type":"constructor"}',
  '{"type":"toString"}',
  '{"type":"hasOwnProperty"}',
  '{"type":"signal","to":"__proto__","data":[]}',
);
const truncated = fc
  .tuple(
    fc.constantFrom(
      '{"type":"join","room":"standup","name":"Ann"}',
      '{"type":"signal","to":"abc","data":{"gen":0,"candidate":null}}',
      '{"type":"leave"}',
      '{"type":"join","room":"r","resume":{"id":"abc","secret":"def"}}',
    ),
    fc.nat(),
  )
  .map(([s, n]) => s.slice(0, n % s.length));
/** A text frame (string) or a binary one (Buffer) that the protocol module must reject. */
const frame: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 6, arbitrary: mutated },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: truncated },
  { weight: 1, arbitrary: proto },
  { weight: 1, arbitrary: deep },
);

/** What the relay sees of a frame: a text frame travels as UTF-8 (lone surrogates become U+FFFD), a Buffer as bytes. */
const onTheWire = (f: string | Buffer): string | Buffer =>
  typeof f === 'string' ? Buffer.from(f, 'utf8').toString('utf8') : f;

// ---- message-level fuzzing ----

interface FuzzStats {
  sent: number;
  answered: number;
}

/** One connection: optionally joined, then batches of frames, each answered with the guard's error, in order. */
async function fuzzConnection(
  relay: RelayProcess,
  frames: (string | Buffer)[],
  joined: boolean,
  stats: FuzzStats,
): Promise<void> {
  const socket = await openWebSocket(relay.wsUrl);
  const replies: string[] = [];
  let notify: (() => void) | undefined;
  let closedWith: number | undefined;
  socket.on('message', (data) => {
    replies.push(String(data));
    notify?.();
  });
  socket.on('close', (code) => {
    closedWith = code;
    notify?.();
  });
  const waitForReplies = (count: number): Promise<void> =>
    withTimeout(
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (replies.length >= count) resolve();
          else if (closedWith !== undefined)
            reject(new Error(`closed with ${closedWith} after ${replies.length} of ${count} replies`));
        };
        notify = check;
        check();
      }),
      4 * WAIT_MS,
      `${count} replies`,
    );

  if (joined) {
    socket.send(JSON.stringify({ type: 'join', room: `fuzz-${Math.random().toString(36).slice(2)}` }));
    await waitForReplies(1);
    assert.equal(JSON.parse(replies.shift() ?? '{}').type, 'welcome');
  }
  for (let start = 0; start < frames.length; start += BATCH) {
    const batch = frames.slice(start, start + BATCH);
    for (const f of batch) socket.send(f, { binary: Buffer.isBuffer(f) });
    stats.sent += batch.length;
    await waitForReplies(batch.length);
    for (const [i, f] of batch.entries()) {
      const reply = parseServerMessage(replies[i]);
      assert.ok(reply.ok, `the relay's answer parses: ${replies[i]}`);
      const expected = parseClientMessage(onTheWire(f));
      assert.ok(!expected.ok);
      assert.deepEqual(
        reply.value,
        { type: 'error', code: expected.error.code, message: expected.error.message },
        `answer to ${JSON.stringify(String(f).slice(0, 200))}`,
      );
    }
    stats.answered += batch.length;
    replies.splice(0, batch.length);
  }
  assert.equal(socket.readyState, WebSocket.OPEN, 'malformed messages never close the connection');
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.close(1000);
  await withTimeout(closed, WAIT_MS, 'close');
}

// ---- frame-level fuzzing ----

/**
 * Sends `bytes` and resolves once the connection is closed: `'relay'` if the relay closed it by itself, `'after-end'`
 * if the bytes were a valid prefix it was still waiting on, so that the test ended its side first after
 * {@link PATIENCE_MS} (the relay must then close too). With `certain` (bytes that break the protocol for sure) the test
 * never ends its side: the relay must close by itself, however loaded the machine is. Fails if the connection never
 * closes.
 */
function sendAndAwaitClose(socket: Socket, bytes: Buffer, certain = false): Promise<'relay' | 'after-end'> {
  return withTimeout(
    new Promise((resolve) => {
      let ended = false;
      socket.on('error', () => {});
      socket.on('data', () => {});
      socket.once('close', () => resolve(ended ? 'after-end' : 'relay'));
      socket.write(bytes);
      if (certain) return;
      setTimeout(() => {
        ended = true;
        socket.end();
      }, PATIENCE_MS);
    }),
    2 * WAIT_MS,
    'the connection to close',
  );
}

/** How long a malformed stream is given to be refused before the test ends its side. */
const PATIENCE_MS = 300;

/** Random bytes: refused at once, unless they happen to be the start of a frame (then the relay waits for the rest). */
const garbageStream: fc.Arbitrary<Buffer> = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b));
/** Byte streams that break the WebSocket protocol for certain: the relay must close by itself. */
const badStream: fc.Arbitrary<Buffer> = fc.oneof(
  // A text frame that is not UTF-8.
  fc
    .constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80])
    .map((b) => maskedFrame(0x81, Buffer.from(b))),
  // Reserved opcodes, reserved bits, fragmented or oversized control frames.
  fc
    .tuple(
      fc.constantFrom(0x83, 0x84, 0x87, 0x8b, 0x8f, 0xc1, 0xa1, 0x91, 0x09, 0x08, 0x0a),
      fc.uint8Array({ maxLength: 20 }),
    )
    .map(([first, b]) => maskedFrame(first, Buffer.from(b))),
  fc.uint8Array({ minLength: 126, maxLength: 200 }).map((b) => maskedFrame(0x89, Buffer.from(b))),
  // An unmasked client frame.
  fc.string({ maxLength: 20 }).map((s) => Buffer.concat([Buffer.from([0x81, Buffer.byteLength(s)]), Buffer.from(s)])),
  // A continuation frame with nothing to continue.
  fc.uint8Array({ maxLength: 20 }).map((b) => maskedFrame(0x80, Buffer.from(b))),
  // A length beyond the frame limit.
  fc.constant(Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4])),
);

describe('fuzz: malformed input against a relay process', () => {
  it(
    `answers ${MESSAGES} malformed messages with the right error, closes on malformed frames, never crashes`,
    { timeout: TIMEOUT_MS },
    async () => {
      const started = Date.now();
      const relay = await startRelayProcess([
        '--max-connections-per-ip',
        '0',
        '--rate-limit-per-second',
        '100000000',
        '--rate-limit-burst',
        '100000000',
        '--join-timeout-ms',
        '600000',
        '--log-level',
        'error',
      ]);
      try {
        // Messages: fast-check draws them (fixed seed), keeping only those the protocol module rejects.
        const frames: (string | Buffer)[] = [];
        let seed = SEED;
        while (frames.length < MESSAGES) {
          for (const f of fc.sample(frame, { numRuns: 5_000, seed: seed++ })) {
            if (!parseClientMessage(onTheWire(f)).ok) frames.push(f);
          }
        }
        frames.length = MESSAGES;
        const stats: FuzzStats = { sent: 0, answered: 0 };
        const share = Math.ceil(MESSAGES / CONNECTIONS);
        await Promise.all(
          Array.from({ length: CONNECTIONS }, (_, i) =>
            fuzzConnection(relay, frames.slice(i * share, (i + 1) * share), i % 2 === 0, stats),
          ),
        );
        assert.equal(stats.answered, MESSAGES);
        const messagesDone = Date.now();

        // Oversize frames: closed with 1009.
        for (let i = 0; i < 20; i++) {
          const c = await TestClient.connect(relay.wsUrl);
          c.sendRaw(i % 2 ? Buffer.alloc(MAX_MESSAGE_BYTES + 1 + i) : 'x'.repeat(MAX_MESSAGE_BYTES + 1 + i));
          assert.equal((await withTimeout(c.closed, WAIT_MS, 'oversize close')).code, 1009);
        }

        // Frames: every protocol violation is closed by the relay itself; random bytes too, unless they are the
        // start of a valid frame (then the connection closes once the test gives up on it).
        const streams = [
          ...fc.sample(badStream, { numRuns: RAW_FRAMES / 2, seed: SEED }).map((bytes) => ({ bytes, certain: true })),
          ...fc
            .sample(garbageStream, { numRuns: RAW_FRAMES / 2, seed: SEED })
            .map((bytes) => ({ bytes, certain: false })),
        ];
        const outcomes = { relay: 0, 'after-end': 0 };
        for (let i = 0; i < streams.length; i += 20) {
          await Promise.all(
            streams.slice(i, i + 20).map(async ({ bytes, certain }) => {
              const outcome = await sendAndAwaitClose(
                await rawHandshake(Number(new URL(relay.url).port)),
                bytes,
                certain,
              );
              outcomes[outcome]++;
              if (certain) assert.equal(outcome, 'relay', `the relay closes on ${bytes.toString('hex')}`);
            }),
          );
        }

        // HTTP: garbage where the upgrade request should be is answered (400) and/or closed.
        const garbage = fc.sample(
          fc.oneof(
            fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
            fc
              .string({ maxLength: 200 })
              .map((s) =>
                Buffer.from(
                  `GET /${s} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n` +
                    `Connection: Upgrade\r\nSec-WebSocket-Version: ${s.length % 20}\r\nSec-WebSocket-Key: ${s}\r\n\r\n`,
                ),
              ),
          ),
          { numRuns: HTTP_REQUESTS, seed: SEED },
        );
        const { port } = new URL(relay.url);
        const httpOutcomes = { relay: 0, 'after-end': 0 };
        for (let i = 0; i < garbage.length; i += 20) {
          await Promise.all(
            garbage.slice(i, i + 20).map(
              (bytes) =>
                new Promise<void>((resolve, reject) => {
                  const socket = connect(
                    Number(port),
                    '127.0.0.1',
                    () =>
                      void sendAndAwaitClose(socket, bytes).then((outcome) => {
                        httpOutcomes[outcome]++;
                        resolve();
                      }, reject),
                  );
                  socket.on('error', () => {});
                }),
            ),
          );
        }

        // Still alive and well: healthy, and a normal call works.
        assert.equal(relay.child.exitCode, null, 'the relay process is still running');
        assert.equal((await relay.health()).status, 'ok');
        const a = await TestClient.connect(relay.wsUrl);
        const b = await TestClient.connect(relay.wsUrl);
        const aw = await a.join('after-the-fuzz');
        const bw = await b.join('after-the-fuzz');
        a.send({ type: 'signal', to: bw.id, data: { ok: true } });
        assert.deepEqual(await b.next('signal'), { type: 'signal', from: aw.id, data: { ok: true } });
        await Promise.all([a.close(), b.close()]);
        const seconds = (Date.now() - started) / 1000;
        process.stdout.write(
          `fuzz: ${stats.answered} malformed messages answered in ${((messagesDone - started) / 1000).toFixed(1)} s, ` +
            `20 oversize frames closed with 1009, ${streams.length} malformed frame streams closed (${outcomes.relay} by the relay ` +
            `at once, ${outcomes['after-end']} valid prefixes after the client gave up), ${garbage.length} garbage HTTP ` +
            `requests closed (${httpOutcomes.relay} at once); ` +
            `${seconds.toFixed(1)} s in all, 0 crashes (seed ${SEED})\n`,
        );
      } finally {
        const exit = await relay.stop();
        assert.deepEqual(exit, { code: 0, signal: null }, 'the relay exited cleanly');
        assert.equal(relay.stderr(), '', 'nothing logged at error level');
      }
    },
  );
});

// ---- valid messages with hostile payloads (issue 15) ----

/** How many hostile `signal`s are sent, in batches of {@link HOSTILE_BATCH}. */
const HOSTILE_MESSAGES = Number(process.env['FUZZ_HOSTILE'] ?? 3_000);
const HOSTILE_BATCH = 100;

const oddString = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom(
      '\ud800',
      '\udfff',
      'a\udc00b',
      '\u202egnp.exe',
      '\u0000\u0007\u001b[31m',
      '\u2028\u2029',
      '\ufeff',
      '\u{1F600}'.repeat(100),
      '__proto__',
      'constructor',
    ),
  )
  .map((text) => JSON.stringify(text));
const hugeNumber = fc.constantFrom(
  '1e309',
  '-1e309',
  '-0',
  '9007199254740993',
  '1e-400',
  '123456789012345678901234567890',
  '0.1e1',
  '-0.0',
  '1E+2',
  '5e-324',
);
/** JSON text: deep (up to 10 000 levels), wide (up to 6 000 entries), huge numbers, odd Unicode, prototype keys. */
const hostileValue: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom('[', '{"k":'))
    .map(([n, open]) => (open === '[' ? `${'['.repeat(n)}${']'.repeat(n)}` : `${'{"k":'.repeat(n)}0${'}'.repeat(n)}`)),
  fc.integer({ min: 1, max: 6_000 }).map((n) => `[${Array.from({ length: n }, (_, i) => i % 10).join(',')}]`),
  fc.integer({ min: 1, max: 5_000 }).map((n) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`),
  hugeNumber,
  oddString,
  fc.constantFrom('{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}', '{"a":1,"a":2}'),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
);
const hostileData = fc
  .array(
    fc.tuple(fc.oneof(fc.constantFrom('gen', 'candidate', 'description', '__proto__'), fc.string()), hostileValue),
    { minLength: 1, maxLength: 4 },
  )
  .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);

describe('fuzz: valid signals with hostile payloads against a relay process', () => {
  it(
    `forwards or refuses ${HOSTILE_MESSAGES} deep, wide, numeric and Unicode payloads exactly as the guard says, ` +
      'and other rooms keep working',
    { timeout: TIMEOUT_MS },
    async () => {
      const relay = await startRelayProcess([
        '--max-connections-per-ip',
        '0',
        '--rate-limit-per-second',
        '100000000',
        '--rate-limit-burst',
        '100000000',
        '--log-level',
        'error',
      ]);
      try {
        const sender = await TestClient.connect(relay.wsUrl);
        const receiver = await TestClient.connect(relay.wsUrl);
        const control = await TestClient.connect(relay.wsUrl);
        const partner = await TestClient.connect(relay.wsUrl);
        await sender.join('hostile');
        const rw = await receiver.join('hostile');
        await control.join('calm');
        const pw = await partner.join('calm');
        const payloads = fc
          .sample(hostileData, { numRuns: HOSTILE_MESSAGES, seed: SEED })
          .map((data) => `{"type":"signal","to":"${rw.id}","data":${data}}`)
          .filter((text) => Buffer.byteLength(text) <= MAX_MESSAGE_BYTES);
        let forwarded = 0;
        let refused = 0;
        for (let start = 0; start < payloads.length; start += HOSTILE_BATCH) {
          const batch = payloads.slice(start, start + HOSTILE_BATCH);
          for (const text of batch) sender.sendRaw(text);
          await sender.sync();
          await receiver.sync();
          // Everything answered has arrived (the barriers): take it in order, one reply per frame.
          for (const text of batch) {
            const verdict = parseClientMessage(text);
            if (verdict.ok && verdict.value.type === 'signal') {
              const expected = JSON.parse(JSON.stringify(verdict.value.data)) as unknown;
              assert.deepEqual((await receiver.next('signal', WAIT_MS)).data, expected, text.slice(0, 200));
              forwarded++;
            } else {
              assert.ok(!verdict.ok);
              assert.deepEqual(
                await sender.next('error', WAIT_MS),
                { type: 'error', ...verdict.error },
                text.slice(0, 200),
              );
              refused++;
            }
          }
          assert.deepEqual(sender.pending('error'), []);
          assert.deepEqual(receiver.pending('signal'), []);
          control.send({ type: 'signal', to: pw.id, data: { batch: start } });
          assert.deepEqual((await partner.next('signal')).data, { batch: start });
        }
        assert.equal(relay.child.exitCode, null, 'the relay process is still running');
        assert.equal((await relay.health()).status, 'ok');
        assert.ok(forwarded > 0 && refused > 0, `forwarded ${forwarded}, refused ${refused}`);
        process.stdout.write(
          `fuzz: ${payloads.length} hostile signals, ${forwarded} forwarded as re-encoded JSON, ` +
            `${refused} refused with the guard's error; 0 crashes (seed ${SEED})\n`,
        );
        await Promise.all([sender.close(), receiver.close(), control.close(), partner.close()]);
      } finally {
        const exit = await relay.stop();
        assert.deepEqual(exit, { code: 0, signal: null }, 'the relay exited cleanly');
        assert.equal(relay.stderr(), '', 'nothing logged at error level');
      }
    },
  );
});
