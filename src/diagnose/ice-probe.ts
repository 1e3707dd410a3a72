/**
 * The embed doctor's network checks: one RTCPeerConnection (with a data channel, so that it gathers) sets a local
 * offer and gathers candidates against the STUN/TURN servers (W3C WebRTC §4.8, RFC 8445). No remote peer, no media:
 * nothing leaves the browser but STUN binding requests and TURN allocations.
 * - `udp`: a server-reflexive (`srflx`) or `relay` candidate means UDP reaches the servers; a host candidate with a
 *   public address needs none. Without one, once gathering ended or the time limit passed with host candidates
 *   gathered: `udp-blocked`. A STUN answer takes one round trip (RFC 8489), but a server that never answers does not
 *   end the gathering (Chromium retries, with no `icecandidateerror`), so the limit is the verdict. Without even a host
 *   candidate in time: `unknown` (`timeout`).
 * - `turn` (only with a `turn:`/`turns:` server): a `relay` candidate; else `turn-refused` when the server answered 401
 *   (`icecandidateerror`, RFC 8656 §10.2: the credentials), `turn-unreachable` otherwise.
 * @module
 */
import type { DiagnosisCheck } from '../diagnosis.js';
import { check, within } from './check.js';

/** `[udp, turn]` checks for `servers` (the `ice-servers` attribute, or the relay's `welcome`). Never rejects. */
export async function probeIce(
  servers: readonly RTCIceServer[],
  timeoutMs: number,
): Promise<[DiagnosisCheck, DiagnosisCheck]> {
  const urls = servers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));
  const hasTurn = urls.some((u) => /^turns?:/i.test(u));
  const noTurn = check('turn', 'unknown', 'no TURN server is configured', 'not-configured');
  if (!urls.length) return [check('udp', 'unknown', 'no STUN or TURN server is configured', 'not-configured'), noTurn];
  const types = new Set<string>();
  const errors: string[] = [];
  let publicHost = '';
  let done = false;
  let pc: RTCPeerConnection;
  try {
    pc = new RTCPeerConnection({ iceServers: [...servers] });
  } catch (error) {
    const refused = `RTCPeerConnection refused the ICE servers: ${String(error)}`;
    return [
      check('udp', 'unknown', refused, 'unsupported'),
      hasTurn ? check('turn', 'fail', refused, 'turn-unreachable') : noTurn,
    ];
  }
  const enough = () => types.has('relay') || (!hasTurn && types.has('srflx'));
  await within(
    timeoutMs,
    (signal) =>
      new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => pc.close());
        pc.onicecandidate = ({ candidate }) => {
          if (!candidate) return resolve((done = true) && undefined);
          // `type` is typ in the candidate line (RFC 8839 §5.1); the line itself where the attribute is missing.
          const type = candidate.type ?? / typ (\w+)/.exec(candidate.candidate)?.[1];
          if (type) types.add(type);
          if (type === 'host' && isPublic(candidate.address ?? '')) publicHost = candidate.address ?? '';
          if (enough()) resolve();
        };
        pc.onicecandidateerror = (e) => errors.push(`${e.url} ${e.errorCode} ${e.errorText}`.trim());
        pc.createDataChannel('doctor');
        pc.createOffer()
          .then((offer) => pc.setLocalDescription(offer))
          .catch((error: unknown) => {
            errors.push(`setLocalDescription: ${String(error)}`);
            resolve();
          });
      }),
    () => undefined,
  );
  const seen = `candidates ${[...types].join(', ') || 'none'}${errors.length ? `; errors: ${errors.join('; ')}` : ''}`;
  const ended = done ? 'gathering ended' : `in ${timeoutMs} ms`;
  // The verdict is possible once gathering ended, or when it works (host candidates) and the servers stayed silent.
  const decided = done || errors.length > 0 || types.has('host');
  const udp =
    types.has('srflx') || types.has('relay')
      ? check('udp', 'pass', seen)
      : publicHost
        ? check('udp', 'pass', `a host candidate has the public address ${publicHost}`)
        : decided
          ? check('udp', 'fail', `${ended} without srflx or relay candidate: ${seen}`, 'udp-blocked')
          : check('udp', 'unknown', `${ended}: ${seen}`, 'timeout');
  const turn = !hasTurn
    ? noTurn
    : types.has('relay')
      ? check('turn', 'pass', seen)
      : errors.some((e) => / 401( |$)/.test(e))
        ? check('turn', 'fail', `the TURN server refused the credentials: ${seen}`, 'turn-refused')
        : decided
          ? check('turn', 'fail', `${ended} without relay candidate: ${seen}`, 'turn-unreachable')
          : check('turn', 'unknown', `${ended}: ${seen}`, 'timeout');
  return [udp, turn];
}

/** An IPv4 address outside the private, loopback, link-local and CGNAT ranges (RFC 1918, 3927, 6598). */
function isPublic(address: string): boolean {
  const [a = 0, b = 0] = address.split('.').map(Number);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(address)) return false;
  return !(
    a === 10 ||
    a === 127 ||
    a === 0 ||
    (a === 172 && b >= 16 && b < 32) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b < 128)
  );
}
