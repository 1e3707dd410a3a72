/**
 * A host page for end-to-end tests that need `<video-chat>` attributes the demo page does not set: it serves
 * `<video-chat room name signal-url [ice-transport-policy] [ice-servers]>` in the markup (so the attributes are there
 * before the element joins) and loads the bundle from the relay server with one script tag, as a site owner would.
 *
 * Query parameters of the page: `room`, `name`, `policy` (→ `ice-transport-policy`), `ice` (JSON → `ice-servers`),
 * `token`.
 *
 * With `{ csp: true }` the page is served under {@link strictCsp}, the minimal Content-Security-Policy the README
 * documents for embedding pages (Trusted Types enforced), and has nothing inline.
 *
 * @module
 */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTeardown } from './harness.js';

const escapeAttr = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The README's minimal strict CSP for a page embedding `<video-chat>` from `relayUrl` (the relay serves the script and
 * is the signaling server): scripts only from the relay, WebSockets only to it, nothing inline (no style attributes
 * either), Trusted Types enforced with Lit's `lit-html` policy, no framing.
 */
export function strictCsp(relayUrl: string): string {
  const relay = new URL(relayUrl);
  const ws = `${relay.protocol === 'https:' ? 'wss' : 'ws'}://${relay.host}`;
  return [
    "default-src 'none'",
    `script-src ${relay.origin}`,
    `connect-src ${ws}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    'trusted-types lit-html',
  ].join('; ');
}

/**
 * Serves `handler` on 127.0.0.1 on a free port until the harness's teardown (`closeAll`), which closes it and its open
 * connections; resolves with its base URL, `http://127.0.0.1:<port>/`. Each page server of the e2e tests is one.
 */
export async function servePage(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTeardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** Starts the page server on 127.0.0.1 (closed by the harness's closeAll); resolves with its base URL. */
export async function startEmbedPage(
  relayUrl: string,
  { csp = false }: { csp?: boolean } = {},
): Promise<{ url: string }> {
  const relay = new URL(relayUrl);
  const url = await servePage((req, res) => {
    const params = new URL(req.url ?? '/', 'http://page.invalid').searchParams;
    const attrs: Array<[string, string | null]> = [
      ['room', params.get('room')],
      ['name', params.get('name')],
      ['signal-url', `ws://${relay.host}/`],
      ['ice-transport-policy', params.get('policy')],
      ['ice-servers', params.get('ice')],
      ['token', params.get('token')],
    ];
    const markup = attrs
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}="${escapeAttr(v ?? '')}"`)
      .join(' ');
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      ...(csp ? { 'content-security-policy': strictCsp(relayUrl) } : {}),
    });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>host page</title>
      <link rel="icon" href="data:,"></head><body>
      <script type="module" src="${relay.origin}/video-chat.js"></script>
      <video-chat ${markup}></video-chat></body></html>`);
  });
  return { url };
}

/** The page URL for one participant with extra attributes (`openParticipant` adds `room` and `name`). */
export function pageUrl(
  base: string,
  attrs: { policy?: 'relay' | 'all'; iceServers?: RTCIceServer[]; token?: string },
): string {
  const url = new URL(base);
  if (attrs.token) url.searchParams.set('token', attrs.token);
  if (attrs.policy) url.searchParams.set('policy', attrs.policy);
  if (attrs.iceServers) url.searchParams.set('ice', JSON.stringify(attrs.iceServers));
  return url.href;
}
