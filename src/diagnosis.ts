/**
 * The embed doctor's result (`<video-chat>`'s `diagnose()` and its `debug` attribute): what blocks a call on this
 * page, check by check. Plain types, no code: a public contract beside `types.ts` and `errors.ts`. The probes live in
 * `src/diagnose/`, the list the `debug` attribute draws in `src/ui/diagnosis.ts`; the README's "Troubleshooting an
 * embed" gives the fix for every {@link DiagnosisCode}.
 *
 * @module
 */

/**
 * What each check looks at, in the order {@link EmbedDiagnosis.checks} lists them.
 * - `secure-context`: the page is a secure context (W3C Secure Contexts: `https:` or localhost).
 * - `permissions-policy`: the page's Permissions-Policy allows `camera` and `microphone` (W3C Permissions Policy).
 * - `relay`: a probe WebSocket to `signal-url` opens, is not refused (CSP `connect-src`, close code 4003, an `error`
 *   reply to `join`) and is welcomed.
 * - `camera`, `microphone`: `enumerateDevices()` lists one, and the permission (W3C Permissions API) is not `denied`.
 * - `udp`: an RTCPeerConnection gathering candidates against the STUN/TURN servers (the `ice-servers` attribute, else
 *   the relay's `welcome`) gets a server-reflexive (`srflx`) or `relay` candidate.
 * - `turn`: with a TURN server configured, that gathering gets a `relay` candidate.
 */
export type DiagnosisCheckName =
  'secure-context' | 'permissions-policy' | 'relay' | 'camera' | 'microphone' | 'udp' | 'turn';

/** A check's outcome: `unknown` when the browser cannot tell, it timed out, or a check it needs failed. */
export type DiagnosisResult = 'pass' | 'fail' | 'unknown';

/**
 * Why a check failed or is unknown (README "Troubleshooting an embed" has the fix for each).
 * - `insecure-context`: not a secure context: serve the page over HTTPS.
 * - `blocked-by-page`: the Permissions-Policy refuses camera and/or microphone (an `<iframe>` without
 *   `allow="camera; microphone"`, or a `Permissions-Policy` header).
 * - `csp-connect-src`: the page's Content-Security-Policy `connect-src` blocks the relay's URL (a
 *   `securitypolicyviolation` event, or the WebSocket constructor's `SecurityError`).
 * - `relay-unreachable`: the WebSocket could not be opened (wrong URL, relay down, proxy without WebSocket upgrade).
 * - `origin-refused`: the relay closed with 4003 (`OriginNotAllowed`): the page's origin is not on `--allowed-origins`.
 * - `unauthorized`: the relay answered `join` with `unauthorized`: the `token` is missing, expired or for another room.
 * - `relay-error`: the relay answered `join` with another error (its `code` and `message` are in `detail`).
 * - `no-camera`, `no-microphone`: `enumerateDevices()` lists none of that kind.
 * - `permission-denied`: the visitor (or the browser's settings) denied that device to this site.
 * - `udp-blocked`: gathering ended without a `srflx` or `relay` candidate: UDP is blocked or the STUN server is
 *   unreachable.
 * - `turn-refused`: the TURN server refused the credentials (`icecandidateerror` 401).
 * - `turn-unreachable`: no `relay` candidate although a TURN server is configured (`icecandidateerror` 701, or none).
 * - `not-configured`: nothing to check (no `signal-url`, no STUN or TURN server).
 * - `unsupported`: this browser has no API that tells (e.g. no `document.featurePolicy` in Firefox).
 * - `timeout`: no answer within the check's time limit.
 * - `skipped`: a check this one needs did not pass (e.g. no ICE servers without the relay's `welcome`).
 */
export type DiagnosisCode =
  | 'insecure-context'
  | 'blocked-by-page'
  | 'csp-connect-src'
  | 'relay-unreachable'
  | 'origin-refused'
  | 'unauthorized'
  | 'relay-error'
  | 'no-camera'
  | 'no-microphone'
  | 'permission-denied'
  | 'udp-blocked'
  | 'turn-refused'
  | 'turn-unreachable'
  | 'not-configured'
  | 'unsupported'
  | 'timeout'
  | 'skipped';

/** One check's outcome. */
export interface DiagnosisCheck {
  readonly check: DiagnosisCheckName;
  readonly result: DiagnosisResult;
  /** Why it failed or is unknown; absent when it passed. */
  readonly code?: DiagnosisCode;
  /** What was seen, in English, for developers (e.g. `close code 4003`, `no relay candidate in 5000 ms`). */
  readonly detail: string;
}

/** The embed doctor's report: every check, and `ok` when none failed (`unknown` ones do not count as failures). */
export interface EmbedDiagnosis {
  readonly ok: boolean;
  /** One entry per {@link DiagnosisCheckName}, in that order. */
  readonly checks: readonly DiagnosisCheck[];
}
