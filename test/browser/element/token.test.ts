import { expect, fixture, fixtureCleanup, html } from '@open-wc/testing';
import '../../../src/index.js';
import type { VideoChatErrorEvent } from '../../../src/events.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { mintToken, nextEvent, tokenRelayUrl, uniqueRoom, waitFor } from '../helpers.js';

const relay = tokenRelayUrl;
const mint = mintToken;

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
