/**
 * The embed doctor's checks of the page itself: secure context, Permissions-Policy, camera and microphone. None asks
 * for the camera: they read what the browser exposes without a prompt.
 * @module
 */
import type { DiagnosisCheck } from '../diagnosis.js';
import { check, within } from './check.js';

/** W3C Secure Contexts: browsers offer no camera or microphone on a page that is not one. */
export function secureContext(): DiagnosisCheck {
  const page = location.origin === 'null' ? location.href : location.origin; // about:srcdoc, sandboxed frames
  return globalThis.isSecureContext
    ? check('secure-context', 'pass', `${page} is a secure context`)
    : check(
        'secure-context',
        'fail',
        `${page} is not a secure context (needs https: or localhost)`,
        'insecure-context',
      );
}

/**
 * W3C Permissions Policy: whether `camera` and `microphone` are allowed in this document (`document.featurePolicy`,
 * Chromium). Browsers without that API (Firefox) give `unknown`: inside an iframe, its `allow` attribute decides.
 */
export function permissionsPolicy(): DiagnosisCheck {
  const policy = (document as Document & { featurePolicy?: { allowsFeature(feature: string): boolean } }).featurePolicy;
  if (!policy) {
    return check(
      'permissions-policy',
      'unknown',
      `this browser does not expose the Permissions-Policy${window === window.top ? '' : ' (in an iframe: check allow="camera; microphone")'}`,
      'unsupported',
    );
  }
  const refused = ['camera', 'microphone'].filter((feature) => !policy.allowsFeature(feature));
  return refused.length
    ? check('permissions-policy', 'fail', `the Permissions-Policy refuses ${refused.join(' and ')}`, 'blocked-by-page')
    : check('permissions-policy', 'pass', 'camera and microphone are allowed');
}

/**
 * Cameras and microphones (W3C Media Capture `enumerateDevices`: before any permission, at most one of each kind, no
 * labels) and their permission state (W3C Permissions API, where the browser knows the names `camera`/`microphone`).
 * @returns the `camera` check, then the `microphone` check.
 */
export async function devices(timeoutMs: number): Promise<[DiagnosisCheck, DiagnosisCheck]> {
  const kinds = [
    ['camera', 'videoinput', 'no-camera'],
    ['microphone', 'audioinput', 'no-microphone'],
  ] as const;
  const media = navigator.mediaDevices as MediaDevices | undefined;
  if (!media?.enumerateDevices) {
    return kinds.map(([name]) =>
      check(name, 'unknown', 'navigator.mediaDevices is missing (not a secure context?)', 'unsupported'),
    ) as [DiagnosisCheck, DiagnosisCheck];
  }
  const checkKind = async ([name, kind, none]: (typeof kinds)[number], listed: MediaDeviceInfo[]) => {
    const count = listed.filter((d) => d.kind === kind).length;
    if (count === 0) return check(name, 'fail', `enumerateDevices() lists no ${kind}`, none);
    const state = await navigator.permissions
      ?.query({ name: name })
      .then((status) => status.state)
      .catch(() => undefined); // a browser that does not know the name
    return state === 'denied'
      ? check(name, 'fail', `permission ${state}`, 'permission-denied')
      : check(name, 'pass', `${count} ${kind} listed, permission ${state ?? 'not exposed'}`);
  };
  return within(
    timeoutMs,
    async () => {
      const listed = await media.enumerateDevices();
      return Promise.all(kinds.map((k) => checkKind(k, listed))) as Promise<[DiagnosisCheck, DiagnosisCheck]>;
    },
    () =>
      kinds.map(([name]) =>
        check(name, 'unknown', `enumerateDevices() did not answer within ${timeoutMs} ms`, 'timeout'),
      ) as [DiagnosisCheck, DiagnosisCheck],
  );
}
