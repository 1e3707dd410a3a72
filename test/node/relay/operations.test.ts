/**
 * Operations: /healthz, /metrics (a registry per relay), structured logs, and the drain on shutdown.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { CloseCode } from '../../../src/protocol/relay.js';
import { CLOSE_GRACE_MS, createRelay } from '../../../server/src/index.js';
import { captureLogs, sample, stopReading, TestClient, waitFor, withTimeout, WAIT_MS, relayEnv } from './helpers.js';

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

function http(base: string, path: string, method = 'GET'): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return withTimeout(
    new Promise<Reply>((resolve, reject) => {
      const req = request({ host: hostname, port, path, method, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    }),
    WAIT_MS,
    `${method} ${path}`,
  );
}

describe('operations: /healthz', () => {
  it('answers 200 with the counts as JSON', async (t) => {
    const e = await relayEnv(t);
    await e.joined('a');
    await e.joined('a');
    await e.client();
    await waitFor(() => e.running.relay.stats().connections === 3, 'three connections');
    const res = await http(e.running.url, '/healthz');
    assert.equal(res.status, 200);
    assert.equal(res.type, 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(res.body), { status: 'ok', connections: 3, rooms: 1, peers: 2 });
    assert.equal((await http(e.running.url, '/healthz?x', 'HEAD')).body, '');
    assert.equal((await http(e.running.url, '/healthz', 'POST')).status, 405);
  });
});

describe('operations: /metrics', () => {
  it('is served to loopback clients only unless publicMetrics is set (issue 15, L8)', async (t) => {
    const ask = (url: string, from: string): Promise<number> =>
      withTimeout(
        fetch(new URL('/metrics', url), {
          headers: { 'X-Forwarded-For': from },
        }).then(async (res) => {
          await res.text();
          return res.status;
        }),
        WAIT_MS,
        '/metrics',
      );
    // With trustProxy the relay sees the X-Forwarded-For address, which lets a loopback test play a remote client.
    const e = await relayEnv(t, { trustProxy: true });
    assert.equal(await ask(e.running.url, '127.0.0.1'), 200);
    assert.equal(await ask(e.running.url, '::1'), 200);
    assert.equal(await ask(e.running.url, '203.0.113.9'), 403);
    assert.equal(await ask(e.running.url, '2001:db8::1'), 403);
    const open = await relayEnv(t, { trustProxy: true, publicMetrics: true });
    assert.equal(await ask(open.running.url, '203.0.113.9'), 200);
  });

  it('exposes connections, rooms, peers, messages relayed and errors by code in Prometheus text', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('m');
    const b = await e.joined('m');
    await e.joined('n');
    for (let i = 0; i < 3; i++) a.client.send({ type: 'signal', to: b.welcome.id, data: { i } });
    for (let i = 0; i < 3; i++) await b.client.next('signal');
    a.client.send({ type: 'signal', to: 'nobody', data: {} });
    await a.client.next('error');
    a.client.sendRaw('not json');
    await a.client.next('error');

    const res = await http(e.running.url, '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.type ?? '', /^text\/plain; version=0\.0\.4/);
    const text = res.body;
    assert.equal(sample(text, 'video_chat_connections'), 3);
    assert.equal(sample(text, 'video_chat_rooms'), 2);
    assert.equal(sample(text, 'video_chat_peers'), 3);
    assert.equal(sample(text, 'video_chat_messages_relayed_total'), 3);
    assert.equal(sample(text, 'video_chat_errors_total', { code: 'unknown-peer' }), 1);
    assert.equal(sample(text, 'video_chat_errors_total', { code: 'bad-message' }), 1);
    assert.equal(
      sample(text, 'video_chat_errors_total', { code: 'room-full' }),
      0,
      'every code present from the start',
    );
    assert.equal(sample(text, 'video_chat_connections_accepted_total'), 3);
    assert.equal(sample(text, 'video_chat_upgrades_rejected_total', { reason: 'shutting-down' }), 0);
    assert.match(text, /# HELP video_chat_messages_relayed_total /);
    assert.match(text, /# TYPE video_chat_messages_relayed_total counter/);
  });

  it("keeps one registry per relay, none in prom-client's global one", async (t) => {
    const one = await relayEnv(t);
    const two = await relayEnv(t);
    const a = await one.joined('x');
    const b = await one.joined('x');
    a.client.send({ type: 'signal', to: b.welcome.id, data: {} });
    await b.client.next('signal');
    assert.equal(sample(await one.running.relay.metrics.metrics(), 'video_chat_messages_relayed_total'), 1);
    assert.equal(sample(await two.running.relay.metrics.metrics(), 'video_chat_messages_relayed_total'), 0);
    assert.equal(globalRegistry.getSingleMetric('video_chat_messages_relayed_total'), undefined);
  });
});

describe('operations: logs', () => {
  it('logs connections, joins and departures at debug as JSON, and no payload', async (t) => {
    const logs = captureLogs('debug');
    const e = await relayEnv(t, { logger: logs.logger });
    const a = await e.joined('logged', 'Ann');
    const b = await e.joined('logged');
    a.client.send({ type: 'signal', to: b.welcome.id, data: { sdp: 'PAYLOAD-MARKER' } });
    await b.client.next('signal');
    await b.client.close();
    await a.client.next('peer-left');
    const messages = logs.lines().map((l) => l['msg']);
    for (const msg of ['listening', 'connected', 'joined', 'disconnected', 'left'])
      assert.ok(messages.includes(msg), msg);
    const joined = logs.lines().find((l) => l['msg'] === 'joined');
    assert.equal(joined?.['level'], 20, 'debug');
    assert.equal(joined?.['room'], 'logged');
    assert.equal(joined?.['name'], 'video-chat-relay', 'the logger name, not the display name');
    assert.ok(!logs.text().includes('PAYLOAD-MARKER'), 'signal payloads are never logged');
  });

  it('logs nothing below the level', async (t) => {
    const logs = captureLogs('warn');
    const e = await relayEnv(t, { logger: logs.logger });
    await e.joined('quiet');
    assert.equal(logs.text(), '');
  });

  it('redacts secret-looking fields should a log call ever pass them', () => {
    const logs = captureLogs('info');
    logs.logger.info({ token: 'T0KEN', turnSecret: 'S3CRET', user: { credential: 'CR3D', resume: 'R3SUME' } }, 'x');
    for (const secret of ['T0KEN', 'S3CRET', 'CR3D', 'R3SUME']) assert.ok(!logs.text().includes(secret), secret);
  });

  it('refuses logger and logLevel together', () => {
    assert.throws(
      () => createRelay({ logger: captureLogs().logger, logLevel: 'info' }),
      /logLevel and logger are exclusive/,
    );
    assert.throws(() => createRelay({ logLevel: 'loud' as 'info' }), /^TypeError: logLevel must be one of/);
  });
});

describe('operations: drain', () => {
  it('while draining: /healthz 503, upgrades 503, clients closed with 1012, a stalled one dropped after the grace', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('d');
    const b = await e.joined('d');
    const stalled = await e.joined('e');
    stopReading(stalled.client);

    const started = Date.now();
    const closing = e.running.close();
    assert.equal((await a.client.closed).code, CloseCode.ServiceRestart);
    assert.equal((await b.client.closed).code, CloseCode.ServiceRestart);
    assert.equal((await b.client.closed).reason, 'relay restarting');
    // The stalled client holds the drain open for CLOSE_GRACE_MS: the relay is draining, and says so.
    const health = await http(e.running.url, '/healthz');
    assert.equal(health.status, 503);
    assert.equal(JSON.parse(health.body).status, 'draining');
    await assert.rejects(TestClient.connect(e.wsUrl), /HTTP 503/);
    await withTimeout(closing, CLOSE_GRACE_MS + WAIT_MS, 'the drain');
    assert.ok(Date.now() - started >= CLOSE_GRACE_MS - 50, 'the stalled client was given the grace period');
    assert.deepEqual(e.running.relay.stats(), { connections: 0, rooms: 0, peers: 0 });
    const text = await e.running.relay.metrics.metrics();
    assert.equal(sample(text, 'video_chat_upgrades_rejected_total', { reason: 'shutting-down' }), 1);
    assert.equal(sample(text, 'video_chat_connections_closed_by_relay_total', { code: '1012' }), 3);
    assert.equal(sample(text, 'video_chat_connections_closed_by_relay_total', { code: '1006' }), 1);
  });
});
