import { expect, fixture, fixtureCleanup, html } from '@open-wc/testing';
import '../../../src/index.js';
import type { VideoChatErrorEvent } from '../../../src/events.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { nextEvent, uniqueRoom, waitFor } from '../helpers.js';

/** Same fixture secret as the /relay-token relay in web-test-runner.config.mjs. */
const SECRET = 'element-tests-token-secret-0123456789abcdef';
const relay = () => `ws://${location.host}/relay-token`;

const b64url = (bytes: Uint8Array | string) =>
  btoa(typeof bytes === 'string' ? bytes : String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** Mints an HS256 JWT as a site's backend would (RFC 7519), here with WebCrypto. */
async function mint(claims: Record<string, unknown>): Promise<string> {
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(SECRET),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input)));
  return `${input}.${b64url(signature)}`;
}

describe('room tokens', () => {
  afterEach(() => fixtureCleanup());

  it('joins with a valid token from the token attribute', async () => {
    const room = uniqueRoom('token');
    const token = await mint({ room, exp: Math.floor(Date.now() / 1000) + 60 });
    const el = await fixture<VideoChatElement>(
      html`<video-chat room=${room} signal-url=${relay()} token=${token}></video-chat>`,
    );
    await waitFor('admitted', () => el.state === 'waiting');
  });

  it('shows "not allowed" and releases the camera without a token or with one for another room', async () => {
    const room = uniqueRoom('token');
    for (const token of ['', await mint({ room: 'elsewhere', exp: Math.floor(Date.now() / 1000) + 60 })]) {
      const el = document.createElement('video-chat');
      const error = nextEvent<VideoChatErrorEvent>(el, 'vc-error');
      el.setAttribute('room', room);
      el.setAttribute('signal-url', relay());
      if (token) el.setAttribute('token', token);
      await fixture(html`<div>${el}</div>`);
      expect((await error).error.code).to.equal('unauthorized');
      await waitFor('error state', () => el.state === 'error');
      expect(el.peerId).to.equal(null);
      await el.updateComplete;
      expect(el.shadowRoot?.querySelector('[part~="error"]')?.textContent).to.contain('not allowed');
      expect(el.shadowRoot?.querySelector('video[part~="local-video"]')).to.equal(null);
      await expect(el).to.be.accessible();
      fixtureCleanup();
    }
  });
});
