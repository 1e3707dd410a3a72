/**
 * The embed doctor (`<video-chat>`'s `diagnose()`): what blocks a call on this page. The page checks run at once, the
 * relay and the devices in parallel, then the network checks with the STUN/TURN servers (the `ice-servers` given,
 * else the relay's `welcome`). Each check has its own time limit (a timeout gives `unknown`, never a hang). In the
 * script-tag build this is part of the chunk `video-chat-doctor-<hash>.js`, loaded only when asked for.
 * @module
 */
import type { EmbedDiagnosis } from '../diagnosis.js';
import { check } from './check.js';
import { probeIce } from './ice-probe.js';
import { devices, permissionsPolicy, secureContext } from './page.js';
import { probeRelay, type RelayProbeOptions, type RelayWire } from './relay-probe.js';

/** The element's configuration the checks need, and their time limit. */
export interface DiagnoseOptions extends RelayProbeOptions {
  /** STUN/TURN servers given by the page (`ice-servers`); undefined: those of the relay's `welcome`. */
  iceServers?: RTCIceServer[];
  /** Time limit of each check, in ms. Default 5000. */
  timeoutMs?: number;
  /** The relay wire's encoder and parser (from the call engine's chunk); undefined if it could not be loaded. */
  wire?: RelayWire | undefined;
}

/** Runs every check; never rejects. */
export async function diagnose(options: DiagnoseOptions): Promise<EmbedDiagnosis> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const [relay, [camera, microphone]] = await Promise.all([
    probeRelay(options, timeoutMs, options.wire),
    devices(timeoutMs),
  ]);
  const servers = options.iceServers ?? relay.iceServers;
  const network = servers
    ? await probeIce(servers, timeoutMs)
    : (['udp', 'turn'] as const).map((name) =>
        check(name, 'unknown', 'the STUN/TURN servers come with the relay’s welcome, which did not come', 'skipped'),
      );
  const checks = [secureContext(), permissionsPolicy(), relay.check, camera, microphone, ...network];
  return { ok: checks.every((c) => c.result !== 'fail'), checks };
}
