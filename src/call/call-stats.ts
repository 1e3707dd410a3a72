/**
 * Who is speaking and how good each connection is: one poll loop for the whole call (every {@link POLL_MS} ms, never
 * two rounds at once), no DOM. The speakers' levels at every poll come from each mesh connection's audio receivers
 * (W3C WebRTC §5.4 `RTCRtpReceiver.getSynchronizationSources()` `audioLevel`: a few numbers the browser keeps anyway)
 * and this visitor's microphone from one connection's statistics (`media-source` `audioLevel`, every other poll);
 * the full W3C WebRTC Statistics of every connection (`RTCPeerConnection.getStats()`: quality, measured uplink) only
 * every {@link QUALITY_WINDOW_MS} ms. A full report is tens of objects made for the page at each call: at one per
 * peer per poll it was most of the loop's cost (docs/benchmarks.md, mesh). Where a peer has no receivers to read
 * (the SFU's shared subscriber connection), its report is read at every poll, as before.
 *
 * @module
 */
import { ActiveSpeakerEvent, QualityChangeEvent } from '../events.js';
import { Latest } from '../latest.js';
import type { MediaController } from '../media/media-controller.js';
import { shrinkPreview } from '../media/preview.js';
import type { ConnectionQuality, QualityLevel } from '../types.js';
import { loadAdaptive } from './governor.js';
import type { UplinkWatch } from './receiver-view.js';
import type { CallHost, RemotePeer } from './types.js';

/** Poll interval, ms. */
export const POLL_MS = 400;
/**
 * Quality figures are taken over windows of about this many ms (at least this less half a poll; so one lost packet
 * does not flip the level), from full statistics read once per window.
 */
export const QUALITY_WINDOW_MS = 2000;

/**
 * `audioLevel` (0–1, linear; 1 is 0 dBov) from which a participant counts as speaking. The active speaker keeps the
 * floor while at or above half of it; another takes it by being the loudest speaker on two polls in a row.
 */
export const SPEAKING_LEVEL = 0.03;

/**
 * Thresholds of {@link qualityLevel}: `good` below both `fair` limits, `poor` at or above either `poor` limit, `fair`
 * between. 300 ms round trip is ITU-T G.114's 150 ms each way; Opus and VP8 hide about 2 % loss.
 */
export const QUALITY_THRESHOLDS = { fair: { rttMs: 300, loss: 0.02 }, poor: { rttMs: 600, loss: 0.08 } } as const;

/** What audio takes of a link's available bitrate (Opus, RTP and RTCP), kbps: the rest is the video's `uplink`. */
export const AUDIO_KBPS = 40;

/** Rates figures by {@link QUALITY_THRESHOLDS}; nothing received (0 kbps) from a peer that sends media is `poor`. */
export function qualityLevel({ rttMs, loss, kbps }: Omit<ConnectionQuality, 'level'>): QualityLevel {
  const over = (limit: { rttMs: number; loss: number }) => (rttMs ?? 0) >= limit.rttMs || loss >= limit.loss;
  return kbps === 0 || over(QUALITY_THRESHOLDS.poor) ? 'poor' : over(QUALITY_THRESHOLDS.fair) ? 'fair' : 'good';
}

/** What one stats report says: cumulative counters (deltas of two give the figures) and audio levels. */
export interface Reading {
  /** When it was read, ms. */
  at: number;
  bytes: number;
  packets: number;
  lost: number;
  /** No `inbound-rtp` entry: the peer sends no media. */
  none: boolean;
  rttMs: number | null;
  /** The peer's loudest inbound audio `audioLevel` (0 when none). */
  level: number;
  /** This visitor's microphone (`media-source` `audioLevel`; Chromium only), if reported. */
  local: number | undefined;
  /**
   * Video kbps the link can carry towards the peer: the selected candidate pair's `availableOutgoingBitrate` (the
   * sender's congestion control estimate) less {@link AUDIO_KBPS}; undefined where not reported (Firefox).
   */
  uplink: number | undefined;
}

type Stat = Partial<Record<string, number>> & { type: string; kind?: string; selectedCandidatePairId?: string };

/** Reads a report (an `RTCStatsReport`, or any map of stats objects by ID). */
export function read(report: Pick<RTCStatsReport, 'forEach' | 'get'>, at: number): Reading {
  const r: Reading = {
    at,
    bytes: 0,
    packets: 0,
    lost: 0,
    none: true,
    rttMs: null,
    level: 0,
    local: undefined,
    uplink: undefined,
  };
  let pairRtt = 0;
  report.forEach((s: Stat) => {
    if (s.type === 'inbound-rtp') {
      r.none = false;
      r.bytes += s['bytesReceived'] ?? 0;
      r.packets += s['packetsReceived'] ?? 0;
      r.lost += s['packetsLost'] ?? 0;
      r.level = Math.max(r.level, s['audioLevel'] ?? 0);
    } else if (s.type === 'transport') {
      // Firefox says 0 for a round trip it does not measure: RTCP's is used then.
      const pair = report.get(s.selectedCandidatePairId ?? '') as Stat | undefined;
      pairRtt = pair?.['currentRoundTripTime'] ?? 0;
      const available = pair?.['availableOutgoingBitrate'];
      if (available !== undefined) r.uplink = Math.max(0, available / 1000 - AUDIO_KBPS);
    } else if (s.type === 'remote-inbound-rtp' && s['roundTripTime'] !== undefined) {
      r.rttMs = s['roundTripTime'] * 1000;
    } else if (s.type === 'media-source' && s.kind === 'audio') {
      r.local = s['audioLevel'];
    }
  });
  if (pairRtt) r.rttMs = pairRtt * 1000;
  return r;
}

/** The figures between two readings of the same connection. */
export function figures(prev: Reading, now: Reading): ConnectionQuality {
  const lost = Math.max(0, now.lost - prev.lost);
  const q = {
    rttMs: now.rttMs,
    loss: lost && lost / (lost + now.packets - prev.packets),
    kbps: now.none ? null : ((now.bytes - prev.bytes) * 8) / Math.max(1, now.at - prev.at),
  };
  return { level: qualityLevel(q), ...q };
}

/** What the loop reads from the call. */
export interface StatsSource {
  readonly peers: readonly RemotePeer[];
  readonly media: MediaController;
  getStats(peerId: string): Promise<RTCStatsReport | undefined>;
  /** The receivers of the mesh connection to a peer (empty before it exists); none given: its report at every poll. */
  receivers?(peerId: string): readonly RTCRtpReceiver[];
}

/**
 * The loudest `audioLevel` (0–1, linear) of the audio receivers' synchronization sources (W3C WebRTC §5.4; a source
 * is listed for 10 s after its last packet), 0 when none.
 */
export function receivedLevel(receivers: readonly RTCRtpReceiver[]): number {
  let level = 0;
  for (const receiver of receivers)
    if (receiver.track.kind === 'audio')
      for (const source of receiver.getSynchronizationSources()) level = Math.max(level, source.audioLevel ?? 0);
  return level;
}

export interface CallStats {
  /** The active speaker: a peer ID, null for this visitor, undefined until someone spoke (or after they left). */
  readonly speaker: string | null | undefined;
  /** The latest figures by peer ID (a peer not connected yet has none). */
  readonly quality: ReadonlyMap<string, ConnectionQuality>;
  /**
   * Video kbps each link can carry towards its peer (see {@link Reading.uplink}), by peer ID, from its second measure
   * on (the first is not followed: see the poll); `Infinity` for a connected link the browser does not measure
   * (Firefox). Absent: not measured yet (the governor's start caps).
   */
  readonly uplink: ReadonlyMap<string, number>;
  /** Starts polling (idempotent); the loop stops by itself when no peer is left. */
  start(): void;
  /** Stops polling and forgets everything. */
  stop(): void;
}

/**
 * The poll loop of a call. Fires `vc-active-speaker`, `vc-quality-change` and (through the `UplinkWatch` of
 * receiver-view.ts, its own chunk, loaded with the first measured uplink) `vc-warning` `weak-uplink` through `host`;
 * calls `uplinkChanged` when a link's measured uplink crossed one of the governor's steps, so that the caps follow it.
 */
export function callStats(source: StatsSource, host: CallHost, uplinkChanged = (): void => undefined): CallStats {
  const quality = new Map<string, ConnectionQuality>();
  let watch: UplinkWatch | undefined;
  /**
   * The figure each link's caps follow (`uplink`), by peer: the UplinkWatch's held one, or `Infinity` for a link whose
   * readings carry no measure (Firefox: no `availableOutgoingBitrate`). By `RemotePeer`, not ID: a peer re-keyed
   * after a relay restart (roster-rebind.ts) keeps its connection, and its link with it, under its new ID.
   */
  let links = new WeakMap<RemotePeer, number>();
  /** Links measured at least once, by peer (the first measure is not followed: see the poll). */
  let measured = new WeakSet<RemotePeer>();
  let last = new Map<string, Reading>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the pending first poll waits for a connection being set up (see `start`). */
  let held = false;
  /** One run per start…stop: a poll still awaiting `getStats()` when the loop stopped drops its results. */
  const runs = new Latest();
  /** The loudest speaker of the last poll when it was not the active one. */
  let challenger: string | null | undefined;
  let speaker: string | null | undefined;

  /** When the last full round of reports was read, ms. */
  let fullAt = -Infinity;
  /** Whether this poll is one that reads the microphone's level between full rounds; its last level read. */
  let micTurn = false;
  let micLevel: number | undefined;

  const poll = async (run: AbortSignal): Promise<void> => {
    held = false;
    const peers = source.peers;
    // Every QUALITY_WINDOW_MS, give or take half a poll (timers drift: else every other round would be 2.4 s apart).
    const full = Date.now() - fullAt >= QUALITY_WINDOW_MS - POLL_MS / 2;
    const receivers = peers.map((peer) => source.receivers?.(peer.id) ?? []);
    /** Whose report is a quality reading now: every peer's in a full round, else those without receivers. */
    const figured = receivers.map((r) => full || !r.length);
    // Between full rounds, one report more for this visitor's microphone level, if it is on, every other poll (a full
    // report is collected across WebRTC's threads and made into tens of objects; the level in between is the last).
    const micPoll = source.media.microphoneEnabled && !figured.some(Boolean) && (micTurn = !micTurn);
    const mic = micPoll ? receivers.findIndex((r) => r.length) : -1;
    const reports = await Promise.all(
      peers.map((peer, i) =>
        figured[i] || i === mic ? source.getStats(peer.id).catch(() => undefined) : Promise.resolve(undefined),
      ),
    );
    if (run.aborted) return; // stopped meanwhile
    if (full) fullAt = Date.now();
    const levels = new Map<string | null, number>();
    if (source.media.microphoneEnabled && micLevel !== undefined) levels.set(null, micLevel);
    const seen = new Map<string, Reading>();
    let changed = false;
    /** Whether what the tiles show (quality, its figures, the speaker) changed: else no re-render. */
    let shown = false;
    peers.forEach((peer, i) => {
      const mine = receivers[i] as readonly RTCRtpReceiver[];
      if (mine.length && peer.microphone !== false) levels.set(peer.id, receivedLevel(mine));
      const report = reports[i];
      const local = report && read(report, Date.now());
      if (local?.local !== undefined && source.media.microphoneEnabled) levels.set(null, (micLevel = local.local));
      let prev = last.get(peer.id);
      if (!figured[i] || !local) {
        if (prev) seen.set(peer.id, prev); // its figures wait for its next reading
        return;
      }
      const now = local;
      if (!mine.length && peer.microphone !== false) levels.set(peer.id, now.level);
      // A link's first measure is not followed (nor any before the UplinkWatch chunk is loaded): taken within
      // 2 s of `connected`, it catches congestion control's estimate still climbing from its start (libwebrtc: 300
      // kbps) by probing; followed, it capped each copy at the climb's current step, then re-capped it at each step up
      // (14 `setParameters` in a 4-peer call's setup, each a `getParameters` blocking the main thread: issue 16).
      // Until then the copy keeps the start caps (`START_LINK_KBPS`); a link never measured (Firefox) gets the budget.
      if (now.uplink === undefined) {
        if (peer.connection === 'connected' && !links.has(peer)) changed = !!links.set(peer, Infinity);
      } else if (!measured.has(peer)) {
        measured.add(peer);
        void loadAdaptive(host).then((m) => (watch ??= new m.UplinkWatch()));
      } else if (watch) {
        changed = watch.update(peer.id, now.uplink, host) || changed;
        links.set(peer, watch.kbps.get(peer.id) as number);
      }
      if (peer.connection !== 'connected') shown = quality.delete(peer.id) || shown;
      else if (prev && now.at - prev.at >= QUALITY_WINDOW_MS - POLL_MS / 2) {
        const q = figures(prev, now);
        if (watch?.weak(peer.id)) q.level = 'poor'; // our video to it cannot get through
        if (q.level !== quality.get(peer.id)?.level) host.dispatch(new QualityChangeEvent(peer.id, q));
        quality.set(peer.id, q);
        shown = true;
        prev = undefined;
      }
      seen.set(peer.id, prev ?? now);
    });
    last = seen;
    for (const id of quality.keys()) if (!seen.has(id)) shown = quality.delete(id);
    watch?.keep(seen);
    if (changed) uplinkChanged();
    if (speaker && !peers.some((peer) => peer.id === speaker)) {
      speaker = undefined; // left the call
      shown = true;
    }
    let loudest: string | null | undefined;
    let max = SPEAKING_LEVEL;
    for (const [id, level] of levels) if (level >= max) [loudest, max] = [id, level];
    const holds = speaker !== undefined && (levels.get(speaker) ?? 0) >= SPEAKING_LEVEL / 2;
    const before = challenger;
    challenger = loudest === speaker || holds ? undefined : loudest;
    if (challenger !== undefined && challenger === before) {
      speaker = challenger;
      challenger = undefined;
      host.dispatch(new ActiveSpeakerEvent(speaker));
      shown = true;
    }
    // Not a re-render per poll (2.5 a second): only when a tile shows something new.
    if (shown) host.requestUpdate();
    timer = peers.length ? setTimeout(poll, POLL_MS, run) : undefined;
  };

  return {
    get speaker() {
      return speaker;
    },
    quality,
    get uplink() {
      return new Map(source.peers.flatMap((peer) => (links.has(peer) ? [[peer.id, links.get(peer)!]] : [])));
    },
    start() {
      // Someone else is shown now: the self-view becomes a tile among others, a smaller, slower clone (preview.ts).
      if (!timer && !runs.current) shrinkPreview(source.media);
      // While a connection is still being set up, the first poll waits for it (the reports' work on WebRTC's threads
      // slowed the setup of the others: issue 16), for at most QUALITY_WINDOW_MS; the start that follows its
      // `connected` polls at once.
      const setup = source.peers.some((peer) => peer.connection === 'connecting');
      if (held && !setup) {
        clearTimeout(timer);
        timer = undefined;
      }
      if (!timer) held = setup;
      // No timer: no poll pending, nor one in flight but of a stopped run. A new run begins.
      timer ??= setTimeout(poll, held ? QUALITY_WINDOW_MS : POLL_MS, runs.start());
    },
    stop() {
      if (runs.current) source.media.setPreview();
      clearTimeout(timer);
      timer = speaker = challenger = undefined;
      runs.stop();
      quality.clear();
      watch = undefined;
      links = new WeakMap();
      measured = new WeakSet();
      last.clear();
      fullAt = -Infinity;
      micLevel = undefined;
    },
  };
}
