/**
 * Who may connect: the origin allowlist (HTTP 403 before the upgrade, nothing touched) and room tokens (HS256 JWTs
 * verified with jose; every failure is the same generic `unauthorized`, nothing joined, the socket stays usable).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { createRelay } from '../../../server/src/index.js';
import {
  MAX_TOKEN_LIFETIME_SECONDS,
  TOKEN_CLOCK_TOLERANCE_SECONDS,
  verifyRoomToken,
} from '../../../server/src/auth.js';
import { CloseCode } from '../../../src/protocol/relay.js';
import { captureLogs, QUIET, sample, TestClient, relayEnv } from './helpers.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256!';
const key = new TextEncoder().encode(SECRET);
const inAMinute = (): number => Math.floor(Date.now() / 1000) + 60;

/** Mints a token the way a site's backend would (README). */
function mint(claims: JWTPayload, secret: Uint8Array = key, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(secret);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('auth: origin allowlist', () => {
  const allowed = ['https://app.example', 'http://localhost:8080'];

  it('lets listed origins in, exactly', async (t) => {
    const e = await relayEnv(t, { allowedOrigins: allowed });
    for (const origin of ['https://app.example', 'http://localhost:8080']) {
      const client = await e.client({ origin });
      assert.equal((await client.join('r')).room, 'r', origin);
    }
  });

  it('closes a refused browser origin with 4003 before reading anything, answers no Origin with 403, touches nothing', async (t) => {
    const e = await relayEnv(t, { allowedOrigins: allowed });
    const refused = [
      'https://evil.example',
      'http://app.example',
      'https://app.example:8443',
      'http://localhost:8081',
      'https://app.example.evil.example',
      'null',
    ];
    for (const origin of refused) {
      const client = await TestClient.connect(e.wsUrl, { origin });
      client.send({ type: 'join', room: 'r' }); // never read: the close is already on its way
      assert.deepEqual(await client.closed, { code: CloseCode.OriginNotAllowed, reason: 'origin not allowed' }, origin);
    }
    await assert.rejects(TestClient.connect(e.wsUrl, {}), /HTTP 403/, 'no Origin: not a browser, a plain refusal');
    assert.deepEqual(e.running.relay.stats(), { connections: 0, rooms: 0, peers: 0 });
    const text = await e.running.relay.metrics.metrics();
    assert.equal(sample(text, 'video_chat_connections_accepted_total'), 0);
    assert.equal(sample(text, 'video_chat_upgrades_rejected_total', { reason: 'origin' }), refused.length + 1);
  });

  it('normalises configured origins (case, default port)', async (t) => {
    const e = await relayEnv(t, { allowedOrigins: ['HTTPS://App.Example:443'] });
    await e.client({ origin: 'https://app.example' });
  });

  it('allows any origin by default', async (t) => {
    const e = await relayEnv(t);
    await e.client({ origin: 'https://anywhere.example' });
    await e.client();
  });

  it('refuses entries that are not bare origins at construction', () => {
    for (const origin of [
      'https://app.example/',
      'https://app.example/path',
      'app.example',
      'ftp://app.example',
      'https://user@app.example',
      '*',
      '',
    ]) {
      assert.throws(
        () => createRelay({ ...QUIET, allowedOrigins: [origin] }),
        /^TypeError: allowedOrigins entries must be origins/,
        origin,
      );
    }
  });
});

describe('auth: room tokens', () => {
  it('admits a valid token for the room; a name claim fixes the display name', async (t) => {
    const e = await relayEnv(t, { tokenSecret: SECRET });
    const a = await e.client();
    const welcome = await a.join('standup', 'typed', { token: await mint({ room: 'standup', exp: inAMinute() }) });
    assert.equal(welcome.room, 'standup');
    const b = await e.client();
    const token = await mint({ room: 'standup', exp: inAMinute(), name: 'Ada (verified)' });
    await b.join('standup', 'Mallory', { token });
    assert.deepEqual((await a.next('peer-joined')).peer.name, 'Ada (verified)');
    assert.equal(welcome.peers.length, 0);
  });

  it('handles frames sent right behind a token join after it, in order', async (t) => {
    const e = await relayEnv(t, { tokenSecret: SECRET });
    const a = await e.client();
    const aWelcome = await a.join('r', undefined, { token: await mint({ room: 'r', exp: inAMinute() }) });
    const b = await e.client();
    const token = await mint({ room: 'r', exp: inAMinute() });
    // No waiting between the three: the signal must wait for the join's check, the bad frame for the signal.
    b.send({ type: 'join', room: 'r', token });
    b.send({ type: 'signal', to: aWelcome.id, data: { n: 1 } });
    b.send({ type: 'leave' });
    const bWelcome = await b.next('welcome');
    assert.deepEqual(await a.next('signal'), { type: 'signal', from: bWelcome.id, data: { n: 1 } });
    assert.equal((await a.next('peer-left')).id, bWelcome.id);
  });

  async function refusals(): Promise<[string, Record<string, unknown>][]> {
    const exp = inAMinute();
    const valid = await mint({ room: 'r', exp });
    const [header, , signature] = valid.split('.');
    const { privateKey } = await generateKeyPair('RS256');
    return [
      ['no token', {}],
      // Expired by more than the clock leeway (TOKEN_CLOCK_TOLERANCE_SECONDS).
      ['an expired token', { token: await mint({ room: 'r', exp: Math.floor(Date.now() / 1000) - 120 }) }],
      [
        'a token valid for more than a day',
        { token: await mint({ room: 'r', exp: exp + MAX_TOKEN_LIFETIME_SECONDS }) },
      ],
      ['a token for another room', { token: await mint({ room: 'other', exp }) }],
      [
        'a token signed with another secret',
        { token: await mint({ room: 'r', exp }, new TextEncoder().encode(`${SECRET}x`)) },
      ],
      ['a token with a tampered payload', { token: `${header}.${b64({ room: 'r', exp: exp + 3600 })}.${signature}` }],
      ['an alg:none token', { token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ room: 'r', exp })}.` }],
      [
        'an alg:none token with the valid signature',
        { token: `${b64({ alg: 'none' })}.${b64({ room: 'r', exp })}.${signature}` },
      ],
      ['an HS512 token under the same secret', { token: await mint({ room: 'r', exp }, key, 'HS512') }],
      [
        'an RS256 token',
        { token: await new SignJWT({ room: 'r', exp }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey) },
      ],
      ['a token without exp', { token: await mint({ room: 'r' }) }],
      ['a token without room', { token: await mint({ exp }) }],
      ['a token not valid yet', { token: await mint({ room: 'r', exp: exp + 600, nbf: exp + 300 }) }],
      ['a token with a non-string name', { token: await mint({ room: 'r', exp, name: 42 }) }],
      ['a token with a too long name', { token: await mint({ room: 'r', exp, name: 'n'.repeat(65) }) }],
      ['garbage', { token: 'not.a.jwt' }],
    ];
  }

  it('refuses every bad token with the same unauthorized error, joins nothing, keeps the socket usable', async (t) => {
    const logs = captureLogs('trace');
    const e = await relayEnv(t, { tokenSecret: SECRET, logger: logs.logger });
    const member = await e.client();
    await member.join('r', undefined, { token: await mint({ room: 'r', exp: inAMinute() }) });
    const cases = await refusals();
    const messages = new Set<string>();
    for (const [name, extra] of cases) {
      const client = await e.client();
      client.send({ type: 'join', room: 'r', ...extra });
      const error = await client.next('error');
      assert.equal(error.code, 'unauthorized', name);
      messages.add(error.message);
      assert.deepEqual(e.running.relay.stats().peers, 1, `${name}: nothing joined`);
      // Still usable: a valid token gets in.
      assert.equal(
        (await client.join('r', undefined, { token: await mint({ room: 'r', exp: inAMinute() }) })).room,
        'r',
        name,
      );
      client.send({ type: 'leave' });
      await client.sync();
    }
    assert.equal(messages.size, 1, 'one generic message for every failure');
    await member.sync();
    const announced = member.pending('peer-joined').length;
    assert.equal(announced, cases.length, 'the member heard only of the valid joins');
    const text = await e.running.relay.metrics.metrics();
    assert.equal(sample(text, 'video_chat_errors_total', { code: 'unauthorized' }), cases.length);
    // Refusals are logged with a reason, never with the token or the secret.
    assert.ok(logs.lines().some((l) => l['msg'] === 'join refused: room token' && l['reason'] === 'expired'));
    for (const [name, extra] of cases) {
      const token = extra['token'];
      if (typeof token === 'string') assert.ok(!logs.text().includes(token), `${name} appears in the logs`);
    }
    assert.ok(!logs.text().includes(SECRET));
  });

  it('ignores tokens when no secret is configured', async (t) => {
    const e = await relayEnv(t);
    const client = await e.client();
    assert.equal((await client.join('r', undefined, { token: 'whatever' })).room, 'r');
  });

  it('refuses a short or non-string secret at construction, without echoing it', () => {
    assert.throws(
      () => createRelay({ ...QUIET, tokenSecret: 'short-secret' }),
      (error: unknown) =>
        error instanceof RangeError &&
        /^tokenSecret must be at least 32 bytes/.test(error.message) &&
        !error.message.includes('short-secret'),
    );
    assert.throws(() => createRelay({ ...QUIET, tokenSecret: 42 as unknown as string }), /^TypeError: tokenSecret/);
  });
});

describe('auth: token lifetime and clock leeway (issue 15, L1 and L9)', () => {
  const now = (): number => Math.floor(Date.now() / 1000);

  it(`refuses an exp more than ${MAX_TOKEN_LIFETIME_SECONDS} s ahead, accepts one just inside`, async () => {
    for (const exp of [1e20, now() + MAX_TOKEN_LIFETIME_SECONDS + TOKEN_CLOCK_TOLERANCE_SECONDS + 60]) {
      assert.deepEqual(await verifyRoomToken(await mint({ room: 'r', exp }), 'r', key), {
        ok: false,
        reason: 'too-long',
      });
    }
    assert.equal(
      (await verifyRoomToken(await mint({ room: 'r', exp: now() + MAX_TOKEN_LIFETIME_SECONDS - 60 }), 'r', key)).ok,
      true,
    );
  });

  it(`tolerates ${TOKEN_CLOCK_TOLERANCE_SECONDS} s of clock skew on nbf and exp, not more`, async () => {
    const skewed = await mint({ room: 'r', exp: now() + 60, nbf: now() + 10 });
    assert.equal((await verifyRoomToken(skewed, 'r', key)).ok, true, 'nbf a little ahead of the relay clock');
    assert.equal((await verifyRoomToken(await mint({ room: 'r', exp: now() - 10 }), 'r', key)).ok, true);
    assert.deepEqual(
      await verifyRoomToken(await mint({ room: 'r', exp: now() - TOKEN_CLOCK_TOLERANCE_SECONDS - 30 }), 'r', key),
      { ok: false, reason: 'expired' },
    );
    assert.equal(
      (await verifyRoomToken(await mint({ room: 'r', exp: now() + 60, nbf: now() + 120 }), 'r', key)).ok,
      false,
    );
  });
});
