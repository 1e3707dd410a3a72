/**
 * The upgrade gate without a network (`server/src/upgrade.ts`): the order of its checks (closing → 503, origin → 403,
 * per-address count → 429), path matching for `attach`, the refusal it writes and the per-address count, against a
 * fake request and a socket that records what was written.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../../server/src/log.js';
import { createMetrics } from '../../../server/src/metrics.js';
import { AddressCounts, pathnameOf, UpgradeGate, type GateContext } from '../../../server/src/upgrade.js';

/** A socket that keeps what is written to it. */
class FakeSocket extends Duplex {
  written = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.written += chunk.toString();
    callback();
  }

  override _read(): void {}
}

function request(url = '/', headers: Record<string, string> = {}, remoteAddress = '192.0.2.1'): IncomingMessage {
  return { url, headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

function setup(overrides: Partial<GateContext> = {}) {
  const accepted: string[] = [];
  let originRefusals = 0;
  const state = { closing: false };
  const metrics = createMetrics(() => ({ connections: 0, rooms: 0, peers: 0, resuming: 0, queuedBytes: 0 }));
  const counts = new AddressCounts();
  const gate = new UpgradeGate({
    allowedOrigins: new Set(),
    trustProxy: false,
    maxConnectionsPerIp: 2,
    counts,
    metrics,
    log: createLogger('silent'),
    isClosing: () => state.closing,
    accept: (_req, _socket, _head, address) => accepted.push(address),
    refuseOrigin: () => void (originRefusals += 1),
    ...overrides,
  });
  /** Offers an upgrade; returns the status line written, or `accepted`. */
  const offer = (req = request()): string => {
    const socket = new FakeSocket();
    const before = { accepted: accepted.length, refused: originRefusals };
    gate.handleUpgrade(req, socket, Buffer.alloc(0));
    if (accepted.length > before.accepted) return 'accepted';
    if (originRefusals > before.refused) return 'closed 4003 after the handshake';
    return socket.written.split('\r\n')[0] ?? '';
  };
  const rejected = async (reason: string): Promise<number> =>
    (await metrics.upgradesRejected.get()).values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
  return { gate, offer, accepted, state, counts, rejected };
}

describe('upgrade gate', () => {
  it('accepts, with the client address key', () => {
    const { offer, accepted } = setup();
    assert.equal(offer(request('/', {}, '::ffff:192.0.2.9')), 'accepted');
    assert.deepEqual(accepted, ['192.0.2.9']);
  });

  it('refuses with 503 while closing, before any other check, counted', async () => {
    const { offer, state, rejected } = setup({ allowedOrigins: new Set(['https://a.example']) });
    state.closing = true;
    assert.equal(offer(request('/', { origin: 'https://evil.example' })), 'HTTP/1.1 503 Service Unavailable');
    assert.equal(await rejected('shutting-down'), 1);
    assert.equal(await rejected('origin'), 0);
  });

  it('refuses a browser origin not allowed with close code 4003 (readable in the page), and no Origin with 403', async () => {
    const { offer, rejected } = setup({ allowedOrigins: new Set(['https://a.example']) });
    assert.equal(offer(request('/', { origin: 'https://evil.example' })), 'closed 4003 after the handshake');
    assert.equal(offer(request('/', {})), 'HTTP/1.1 403 Forbidden');
    assert.equal(offer(request('/', { origin: 'https://a.example' })), 'accepted');
    assert.equal(await rejected('origin'), 2);
  });

  it("allows the relay's own origin (its demo page) whatever the allowlist says", () => {
    const { offer } = setup({ allowedOrigins: new Set(['https://a.example']) });
    assert.equal(offer(request('/', { origin: 'https://relay.example', host: 'relay.example' })), 'accepted');
    assert.equal(offer(request('/', { origin: 'http://127.0.0.1:8787', host: '127.0.0.1:8787' })), 'accepted');
    assert.equal(
      offer(request('/', { origin: 'https://relay.example.evil', host: 'relay.example' })),
      'closed 4003 after the handshake',
    );
    assert.equal(offer(request('/', { origin: 'null', host: 'null' })), 'closed 4003 after the handshake');
  });

  it('checks the address limit before completing a handshake only to refuse the origin', () => {
    const { offer, counts } = setup({ allowedOrigins: new Set(['https://a.example']), maxConnectionsPerIp: 1 });
    counts.acquire('192.0.2.1');
    assert.equal(offer(request('/', { origin: 'https://evil.example' })), 'HTTP/1.1 429 Too Many Requests');
  });

  it('refuses with 429 once an address holds maxConnectionsPerIp places, and again accepts after a release', async () => {
    const { offer, counts, rejected } = setup();
    counts.acquire('192.0.2.1');
    counts.acquire('192.0.2.1');
    assert.equal(offer(), 'HTTP/1.1 429 Too Many Requests');
    assert.equal(offer(request('/', {}, '192.0.2.2')), 'accepted', 'another address is not affected');
    counts.release('192.0.2.1');
    assert.equal(offer(), 'accepted');
    assert.equal(await rejected('ip-limit'), 1);
  });

  it('has no per-address limit with maxConnectionsPerIp 0', () => {
    const { offer, counts } = setup({ maxConnectionsPerIp: 0 });
    for (let i = 0; i < 1000; i++) counts.acquire('192.0.2.1');
    assert.equal(offer(), 'accepted');
  });

  it('attach: takes its path only, 404 for others when it is the only listener', async () => {
    const { gate, accepted, rejected } = setup();
    const server = createServer();
    const detach = gate.attach(server, { path: '/ws' });
    const emit = (url: string): string => {
      const socket = new FakeSocket();
      server.emit('upgrade', request(url), socket, Buffer.alloc(0));
      return socket.written.split('\r\n')[0] ?? '';
    };
    assert.equal(emit('/ws?room=x'), '');
    assert.equal(accepted.length, 1);
    assert.equal(emit('/other'), 'HTTP/1.1 404 Not Found');
    const other = (): void => {};
    server.on('upgrade', other);
    assert.equal(emit('/other'), '', 'left to the other listener');
    server.off('upgrade', other);
    detach();
    assert.equal(server.listenerCount('upgrade'), 0);
    assert.equal(await rejected('not-found'), 1);
  });

  it('pathnameOf drops the query and does not read //x as a host', () => {
    assert.equal(pathnameOf(request('/ws?a=1')), '/ws');
    assert.equal(pathnameOf(request('//evil.example/ws')), '//evil.example/ws');
    assert.equal(pathnameOf({ headers: {} } as IncomingMessage), '/');
  });

  it('AddressCounts forgets an address at zero, and a release never goes below it', () => {
    const counts = new AddressCounts();
    counts.acquire('a');
    counts.acquire('a');
    counts.release('a');
    assert.equal(counts.count('a'), 1);
    counts.release('a');
    counts.release('a');
    assert.equal(counts.count('a'), 0);
    assert.equal(counts.size, 0);
  });
});
