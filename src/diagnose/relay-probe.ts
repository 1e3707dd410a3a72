/**
 * The embed doctor's relay check: one probe WebSocket to `signal-url` that joins and leaves at once, telling apart a
 * page whose CSP `connect-src` blocks the relay, a relay that cannot be reached, one that refuses the page's origin
 * (close code 4003), one that refuses the room token, and one that admits the page (its `welcome` carries the STUN/TURN
 * servers the ICE check uses).
 *
 * Without a `token` the probe joins a room of its own (`doctor-<random>`), so nobody in the configured room sees it.
 * A token is bound to its room (docs/protocol.md), so with one the probe joins the configured room: the others see
 * the probe join and leave at once.
 * @module
 */
import type { DiagnosisCheck } from '../diagnosis.js';
import { CloseCode, PROTOCOL_VERSION, type IceServer } from '../protocol/relay-codes.js';
import type { encode, parseServerMessage } from '../protocol/relay.js';
import { check, timedOut, within } from './check.js';

/** What the probe connects with: the element's `signal-url`, `room`, `name` and `token`. */
export interface RelayProbeOptions {
  signalUrl: string;
  room: string;
  name?: string;
  token?: string;
}

/**
 * The relay wire's encoder and parser (`protocol/relay.ts`). Passed in by the caller, which takes them from the call
 * engine's chunk (they live there, so that the script-tag file and every call carry them once); `undefined` when that
 * chunk could not be loaded (the check then fails, naming it).
 */
export interface RelayWire {
  encode: typeof encode;
  parseServerMessage: typeof parseServerMessage;
}

/** How long after a failed WebSocket a `securitypolicyviolation` event may still arrive (it is queued as a task). */
const VIOLATION_GRACE_MS = 300;

/**
 * Opens, joins and leaves. Never rejects; settles within `timeoutMs` (then `unknown`, `timeout`).
 * @param wire the relay wire's encoder and parser ({@link RelayWire}).
 * @returns the `relay` check, and the relay's STUN/TURN servers when it welcomed the probe.
 */
export function probeRelay(
  options: RelayProbeOptions,
  timeoutMs: number,
  wire: RelayWire | undefined,
): Promise<{ check: DiagnosisCheck; iceServers?: IceServer[] }> {
  const url = options.signalUrl;
  if (!url) return Promise.resolve({ check: check('relay', 'unknown', 'no signal-url', 'not-configured') });
  const fail = (detail: string, code: Parameters<typeof check>[3]) => ({ check: check('relay', 'fail', detail, code) });
  if (!wire) {
    const detail = 'the widget could not load its call engine (video-chat-engine-<hash>.js, next to video-chat.js)';
    return Promise.resolve(fail(detail, 'relay-error'));
  }
  const { encode, parseServerMessage } = wire;
  return within(
    timeoutMs,
    (signal) =>
      new Promise((resolve) => {
        let blocked = '';
        // W3C CSP 3: a blocked WebSocket fires this on the document (its blockedURI is the URL, or its origin).
        const onViolation = (event: SecurityPolicyViolationEvent) => {
          const directive = event.effectiveDirective || event.violatedDirective;
          if (directive.startsWith('connect-src') && sameHost(event.blockedURI, url)) {
            blocked = `${directive} blocked ${event.blockedURI}`;
            finish(fail(`the page's Content-Security-Policy ${blocked}`, 'csp-connect-src'));
          }
        };
        const finish = (outcome: { check: DiagnosisCheck; iceServers?: IceServer[] }) => {
          document.removeEventListener('securitypolicyviolation', onViolation);
          resolve(outcome);
        };
        document.addEventListener('securitypolicyviolation', onViolation);
        let socket: WebSocket;
        try {
          socket = new WebSocket(url);
        } catch (error) {
          // A malformed URL is a SyntaxError. Anything else the constructor throws for a ws: URL is the page refusing
          // it: mixed content (ws: from an https: page), or its CSP (Firefox throws NS_ERROR_CONTENT_BLOCKED, and the
          // violation event follows).
          const name = error instanceof Error || error instanceof DOMException ? error.name : '';
          if (name === 'SyntaxError' || !/^wss?:/i.test(url)) {
            return finish(fail(`signal-url ${url} is not a WebSocket URL: ${String(error)}`, 'relay-unreachable'));
          }
          if (location.protocol === 'https:' && /^ws:/i.test(url)) {
            return finish(fail(`an https: page cannot open ${url} (mixed content): use wss://`, 'relay-unreachable'));
          }
          setTimeout(
            () => blocked || finish(fail(`new WebSocket() refused ${url}: ${String(error)}`, 'csp-connect-src')),
            VIOLATION_GRACE_MS,
          );
          return;
        }
        signal.addEventListener('abort', () => {
          document.removeEventListener('securitypolicyviolation', onViolation);
          socket.onclose = socket.onmessage = null;
          if (socket.readyState === WebSocket.OPEN) socket.send(encode({ type: 'leave' }));
          socket.close();
        });
        const room = options.token ? options.room : `doctor-${Math.random().toString(36).slice(2, 12)}`;
        socket.onopen = () =>
          socket.send(
            encode({
              type: 'join',
              room,
              protocol: PROTOCOL_VERSION,
              ...(options.name ? { name: options.name } : {}),
              ...(options.token ? { token: options.token } : {}),
            }),
          );
        socket.onmessage = ({ data }) => {
          const parsed = parseServerMessage(data);
          if (!parsed.ok)
            return finish(fail(`the relay sent what this widget cannot read: ${parsed.error.message}`, 'relay-error'));
          const message = parsed.value;
          if (message.type === 'welcome') {
            finish({
              check: check('relay', 'pass', `${url} welcomed the probe (${message.iceServers.length} ICE servers)`),
              iceServers: message.iceServers,
            });
          } else if (message.type === 'error') {
            const detail = `the relay answered join with ${message.code}: ${message.message}`;
            finish(
              message.code === 'unauthorized'
                ? fail(detail, 'unauthorized')
                : message.code === 'room-full'
                  ? { check: check('relay', 'pass', `${url} is reachable; ${detail}`) }
                  : fail(detail, 'relay-error'),
            );
          }
        };
        socket.onclose = ({ code, reason }) => {
          if (code === CloseCode.OriginNotAllowed) {
            return finish(
              fail(`the relay closed with ${code} (OriginNotAllowed) for ${location.origin}`, 'origin-refused'),
            );
          }
          const closed = `the WebSocket to ${url} closed with ${code}${reason ? ` (${reason})` : ''} before a welcome`;
          // A CSP refusal looks like any failed connection (1006) here: wait a moment for its violation event.
          setTimeout(() => blocked || finish(fail(closed, 'relay-unreachable')), VIOLATION_GRACE_MS);
        };
      }),
    () => ({ check: timedOut('relay', timeoutMs, url) }),
  );
}

/** Whether a CSP report's `blockedURI` (a URL, or only its origin) names `url`'s host. */
function sameHost(blockedURI: string, url: string): boolean {
  try {
    return new URL(blockedURI).host === new URL(url).host;
  } catch {
    return false;
  }
}
