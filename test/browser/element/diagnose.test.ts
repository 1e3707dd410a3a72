/**
 * The embed doctor (`diagnose()` and the `debug` attribute) against real obstacles: the real relay (and one that
 * requires tokens), a closed port, a STUN server that does not answer, a frame whose CSP `connect-src` blocks the relay,
 * a frame whose Permissions-Policy refuses camera and microphone. Origin allowlists and TURN credentials need separate
 * processes (a relay with `--allowed-origins`, coturn): test/e2e/diagnose.test.ts.
 */
import { expect, fixture, fixtureCleanup, html } from '@open-wc/testing';
import '../../../src/index.js';
import type { DiagnosisCheck, DiagnosisCheckName, EmbedDiagnosis } from '../../../src/diagnosis.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { part, relayUrl, waitFor } from '../helpers.js';

const isFirefox = navigator.userAgent.includes('Firefox');

/** The check named `name` of a diagnosis. */
function get(diagnosis: EmbedDiagnosis, name: DiagnosisCheckName): DiagnosisCheck {
  const found = diagnosis.checks.find((c) => c.check === name);
  if (!found) throw new Error(`no ${name} check in ${JSON.stringify(diagnosis)}`);
  return found;
}

/** What a check says, for assertions with a readable failure. */
const said = (c: DiagnosisCheck) => `${c.result} ${c.code ?? ''}: ${c.detail}`;

/**
 * A frame (srcdoc: same origin) with a `<video-chat signal-url>` loaded by module script, optionally under a `<meta>`
 * Content-Security-Policy and with an `allow` attribute; resolves with its element once defined.
 */
async function framed(options: { csp?: string; allow?: string }): Promise<VideoChatElement> {
  const frame = document.createElement('iframe');
  if (options.allow !== undefined) frame.setAttribute('allow', options.allow);
  const index = new URL('../../../src/index.js', import.meta.url).href;
  frame.srcdoc = `<!doctype html><html><head>${
    options.csp ? `<meta http-equiv="Content-Security-Policy" content="${options.csp}">` : ''
  }<script type="module" src="${index}"></script></head><body><video-chat signal-url="${relayUrl()}"></video-chat></body></html>`;
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  await fixture(html`<div>${frame}</div>`);
  await loaded;
  const win = frame.contentWindow as (Window & typeof globalThis) | null;
  await waitFor('the element defined in the frame', () => win?.customElements.get('video-chat'));
  return win?.document.querySelector('video-chat') as VideoChatElement;
}

describe('diagnose()', () => {
  afterEach(() => fixtureCleanup());

  it('on a page that can call: secure context, relay, camera and microphone pass; no STUN/TURN is unknown', async () => {
    const el = await fixture<VideoChatElement>(html`<video-chat signal-url=${relayUrl()}></video-chat>`);
    const diagnosis = await el.diagnose();
    expect(diagnosis.checks.map((c) => c.check)).to.deep.equal([
      'secure-context',
      'permissions-policy',
      'relay',
      'camera',
      'microphone',
      'udp',
      'turn',
    ]);
    for (const name of ['secure-context', 'relay', 'camera', 'microphone'] as const) {
      expect(get(diagnosis, name).result, said(get(diagnosis, name))).to.equal('pass');
    }
    const policy = get(diagnosis, 'permissions-policy');
    expect(policy.result, said(policy)).to.equal(isFirefox ? 'unknown' : 'pass');
    expect(get(diagnosis, 'udp').code).to.equal('not-configured');
    expect(get(diagnosis, 'turn').code).to.equal('not-configured');
    expect(diagnosis.ok).to.equal(true);
    expect(el.state).to.equal('idle', 'the probe is not the element joining');
  });

  it('a relay on a closed port: relay-unreachable, and the network checks are skipped', async () => {
    const el = await fixture<VideoChatElement>(html`<video-chat signal-url="ws://127.0.0.1:9/"></video-chat>`);
    const diagnosis = await el.diagnose();
    const relay = get(diagnosis, 'relay');
    expect([relay.result, relay.code], said(relay)).to.deep.equal(['fail', 'relay-unreachable']);
    expect(get(diagnosis, 'udp').code).to.equal('skipped');
    expect(diagnosis.ok).to.equal(false);
  });

  it('a relay that requires a room token, without one: unauthorized', async () => {
    const el = await fixture<VideoChatElement>(
      html`<video-chat signal-url=${`ws://${location.host}/relay-token`}></video-chat>`,
    );
    const relay = get(await el.diagnose(), 'relay');
    expect([relay.result, relay.code], said(relay)).to.deep.equal(['fail', 'unauthorized']);
  });

  it('STUN and TURN servers that do not answer: udp-blocked, turn-unreachable', async () => {
    // A closed UDP port on loopback: no answer, as behind a firewall that drops UDP.
    const servers = [
      { urls: 'stun:127.0.0.1:19302' },
      { urls: 'turn:127.0.0.1:19302?transport=udp', username: 'u', credential: 'c' },
    ];
    const el = await fixture<VideoChatElement>(
      html`<video-chat signal-url=${relayUrl()} ice-servers=${JSON.stringify(servers)}></video-chat>`,
    );
    const diagnosis = await el.diagnose();
    const [udp, turn] = [get(diagnosis, 'udp'), get(diagnosis, 'turn')];
    expect([udp.result, udp.code], said(udp)).to.deep.equal(['fail', 'udp-blocked']);
    expect([turn.result, turn.code], said(turn)).to.deep.equal(['fail', 'turn-unreachable']);
    expect(diagnosis.ok).to.equal(false);
  });

  it('a page whose CSP connect-src blocks the relay: csp-connect-src', async () => {
    const el = await framed({ csp: "connect-src 'none'" });
    const diagnosis = await el.diagnose();
    const relay = get(diagnosis, 'relay');
    expect([relay.result, relay.code], said(relay)).to.deep.equal(['fail', 'csp-connect-src']);
  });

  it('a frame whose Permissions-Policy refuses camera and microphone: blocked-by-page', async () => {
    const el = await framed({ allow: "camera 'none'; microphone 'none'" });
    const diagnosis = await el.diagnose();
    const policy = get(diagnosis, 'permissions-policy');
    expect(policy.result, said(policy)).to.equal(isFirefox ? 'unknown' : 'fail');
  });

  it('a check past its time limit is unknown (timeout), never a hang', async () => {
    const el = await fixture<VideoChatElement>(html`<video-chat signal-url=${relayUrl()}></video-chat>`);
    const relay = get(await el.diagnose({ timeoutMs: 1 }), 'relay');
    expect([relay.result, relay.code], said(relay)).to.deep.equal(['unknown', 'timeout']);
  });

  it('debug: shows each check with its result and fix inside the element, in its language', async () => {
    const el = await fixture<VideoChatElement>(
      html`<video-chat lang="de" signal-url="ws://127.0.0.1:9/" debug></video-chat>`,
    );
    await waitFor('the list', () => part(el, 'diagnosis')?.querySelectorAll('li').length === 7, 15_000);
    const list = part(el, 'diagnosis') as HTMLElement;
    expect(list.querySelector('[data-check="relay"]')?.getAttribute('data-result')).to.equal('fail');
    expect(list.textContent).to.contain('Prüfen Sie signal-url');
    await expect(el).to.be.accessible();
    el.debug = false;
    await el.updateComplete;
    expect(part(el, 'diagnosis')).to.equal(null);
  });
});
