/**
 * TURN credentials (TURN REST API, draft-uberti-behave-turn-rest-00, as coturn's use-auth-secret checks them):
 * per participant, fresh on every welcome, checked here with node:crypto, the secret never sent or logged.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { IceServer, WelcomeMessage } from '../../../src/protocol/relay.js';
import { createRelay } from '../../../server/src/index.js';
import { turnCredentials } from '../../../server/src/turn.js';
import { captureLogs, QUIET, relayEnv } from './helpers.js';

const TURN_SECRET = 'coturn-static-auth-secret-for-tests';
const TURN_URLS = ['turn:turn.example.test:3478?transport=udp', 'turns:turn.example.test:5349?transport=tcp'];
const STUN = { urls: 'stun:stun.example.test' };

/** The TURN entry of a welcome, checked as a TURN server would check it. */
function checkTurnEntry(welcome: WelcomeMessage, ttlSeconds: number): { expiry: number; entry: IceServer } {
  const entry = welcome.iceServers.find((s) => s.username !== undefined);
  assert.ok(entry, 'a TURN entry with credentials');
  assert.deepEqual(entry.urls, TURN_URLS);
  const [expiryText, id, ...rest] = (entry.username ?? '').split(':');
  assert.deepEqual(rest, []);
  assert.equal(id, welcome.id, 'the username names this participant');
  const expiry = Number(expiryText);
  const expected = Math.floor(Date.now() / 1000) + ttlSeconds;
  assert.ok(Number.isInteger(expiry) && Math.abs(expiry - expected) <= 2, `expiry ${expiry} ≈ now + ttl ${expected}`);
  const hmac = createHmac('sha1', TURN_SECRET)
    .update(entry.username ?? '')
    .digest('base64');
  assert.equal(entry.credential, hmac, 'credential = base64(HMAC-SHA1(secret, username))');
  return { expiry, entry };
}

describe('turn: credentials in welcome', () => {
  it('gives every participant its own credentials after the static ICE servers', async (t) => {
    const logs = captureLogs('trace');
    const e = await relayEnv(t, {
      iceServers: [STUN],
      turnUrls: TURN_URLS,
      turnSecret: TURN_SECRET,
      logger: logs.logger,
    });
    const a = await e.joined('r');
    const b = await e.joined('r');
    assert.deepEqual(a.welcome.iceServers[0], STUN);
    assert.equal(a.welcome.iceServers.length, 2);
    const ta = checkTurnEntry(a.welcome, 86_400);
    const tb = checkTurnEntry(b.welcome, 86_400);
    assert.notEqual(ta.entry.credential, tb.entry.credential);
    // The secret goes nowhere: not on the wire, not in the logs.
    for (const frame of [JSON.stringify(a.welcome), JSON.stringify(b.welcome)]) assert.ok(!frame.includes(TURN_SECRET));
    assert.ok(!logs.text().includes(TURN_SECRET));
    assert.ok(!logs.text().includes(ta.entry.credential ?? '?'), 'credentials are not logged either');
  });

  it('mints fresh credentials on every join and resume', async (t) => {
    const e = await relayEnv(t, { turnUrls: TURN_URLS, turnSecret: TURN_SECRET, turnTtlSeconds: 600 });
    const a = await e.joined('r');
    const first = checkTurnEntry(a.welcome, 600);
    a.client.send({ type: 'leave' });
    const again = checkTurnEntry(await a.client.join('r'), 600);
    assert.notEqual(again.entry.username, first.entry.username, 'a new ID, new credentials');
    // A resume keeps the ID; the credentials are minted again, with a later expiry.
    const b = await e.joined('r');
    const before = checkTurnEntry(b.welcome, 600);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    b.client.socket.terminate();
    await b.client.closed;
    const back = await e.client();
    back.send({ type: 'join', room: 'r', resume: { id: b.welcome.id, secret: b.welcome.resume } });
    const resumed = await back.next('welcome');
    assert.equal(resumed.resumed, true);
    const after = checkTurnEntry(resumed, 600);
    assert.ok(after.expiry > before.expiry, 'minted again at resume time');
  });

  it("matches the draft's construction for a fixed time", () => {
    const entry = turnCredentials(
      { urls: ['turn:x'], secret: 'secret-secret-secret', ttlSeconds: 3600 },
      'peer',
      1_700_000_000_500,
    );
    assert.equal(entry.username, '1700003600:peer');
    assert.equal(
      entry.credential,
      createHmac('sha1', 'secret-secret-secret').update('1700003600:peer').digest('base64'),
    );
  });

  it('sends no credentials without TURN configured', async (t) => {
    const e = await relayEnv(t, { iceServers: [STUN] });
    assert.deepEqual((await e.joined('r')).welcome.iceServers, [STUN]);
  });
});

describe('turn: options', () => {
  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['urls without secret', { turnUrls: TURN_URLS }, /^TypeError: turnUrls needs turnSecret/],
    ['secret without urls', { turnSecret: TURN_SECRET }, /^TypeError: turnSecret is set but turnUrls is empty/],
    ['ttl without urls', { turnTtlSeconds: 600 }, /^TypeError: turnTtlSeconds is set but turnUrls is empty/],
    ['a stun: URL', { turnUrls: ['stun:x.example'], turnSecret: TURN_SECRET }, /^TypeError: turnUrls must be/],
    ['an http URL', { turnUrls: ['https://x.example'], turnSecret: TURN_SECRET }, /^TypeError: turnUrls must be/],
    [
      'a short secret',
      { turnUrls: TURN_URLS, turnSecret: 'short' },
      /^RangeError: turnSecret must be at least 16 bytes/,
    ],
    [
      'a ttl of 10 s',
      { turnUrls: TURN_URLS, turnSecret: TURN_SECRET, turnTtlSeconds: 10 },
      /^RangeError: turnTtlSeconds/,
    ],
    [
      'a ttl of a month',
      { turnUrls: TURN_URLS, turnSecret: TURN_SECRET, turnTtlSeconds: 2_592_000 },
      /^RangeError: turnTtlSeconds/,
    ],
  ];
  for (const [name, options, message] of invalid) {
    it(`throws for ${name}`, () => {
      assert.throws(
        () => createRelay({ ...QUIET, ...options }),
        (error: unknown) =>
          error instanceof Error &&
          message.test(`${error.name}: ${error.message}`) &&
          !error.message.includes(TURN_SECRET),
      );
    });
  }
});
