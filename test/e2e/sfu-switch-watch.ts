/**
 * The order of events of a mesh→SFU switch, watched inside a page (`test/e2e/sfu.test.ts`): what a tile shows and
 * when, what decoded and when, and what each mesh connection still sends. {@link watchSwitch} runs in the page
 * (puppeteer serializes it: self-contained) once the page is in its call; it wraps the Web APIs the element calls, on
 * their prototypes, and logs with `Date.now()` (one clock for every page of the machine):
 *
 * - `add` / `remove`: a track added to or removed from a `MediaStream` (a tile's stream is the participant's one
 *   stream), with the index in `window.pcs` of the connection that receives it;
 * - `decoded`: the first statistics report (W3C webrtc-stats `inbound-rtp`, `framesDecoded > 0`) of a video track, from
 *   any `getStats` call (the element's own, and this watcher's own poll every 100 ms of every open connection);
 * - `replace`: `RTCRtpSender.replaceTrack` on a connection (to `null`: that sender stops sending);
 * - `caps`: `RTCRtpSender.setParameters` of a video sender on a connection, with its first encoding's `maxFramerate`
 *   and `scaleResolutionDownBy`;
 * - `close`: a connection closed.
 *
 * {@link switchOrder} reads a tile's story from two pages' logs.
 *
 * @module
 */

/** One logged event. */
export interface SwitchEvent {
  t: number;
  op: 'add' | 'remove' | 'decoded' | 'replace' | 'close' | 'caps';
  /** The connection's index in `window.pcs` (-1: none holds it). */
  pc: number;
  /** The track (`MediaStreamTrack.id`; `decoded`: the stats' `trackIdentifier`); `replace`: the new one or null. */
  track?: string | null;
  kind?: string;
  /** `add` / `remove`: the stream's id. */
  stream?: string;
  /** `caps`: the first encoding's `maxFramerate` and `scaleResolutionDownBy` (unset: none). */
  fps?: number;
  scale?: number;
}

/** Runs in the page: starts the log (`window.switchLog`). */
export function watchSwitch(): void {
  const w = window as unknown as { pcs: RTCPeerConnection[]; switchLog: SwitchEvent[]; switchPoll: number };
  const log: SwitchEvent[] = [];
  w.switchLog = log;
  const note = (e: Omit<SwitchEvent, 't'>): void => {
    if (log.length < 5_000) log.push({ t: Date.now(), ...e });
  };
  const receiving = (track: MediaStreamTrack): number =>
    w.pcs.findIndex((pc) => pc.getReceivers().some((r) => r.track === track));
  const stream = MediaStream.prototype;
  const addTrack = stream.addTrack;
  stream.addTrack = function (this: MediaStream, track: MediaStreamTrack) {
    note({ op: 'add', pc: receiving(track), track: track.id, kind: track.kind, stream: this.id });
    addTrack.call(this, track);
  };
  const removeTrack = stream.removeTrack;
  stream.removeTrack = function (this: MediaStream, track: MediaStreamTrack) {
    note({ op: 'remove', pc: receiving(track), track: track.id, kind: track.kind, stream: this.id });
    removeTrack.call(this, track);
  };
  const decoded = new Set<string>();
  const proto = RTCPeerConnection.prototype;
  const getStats = proto.getStats as (this: RTCPeerConnection, ...args: unknown[]) => Promise<RTCStatsReport>;
  (proto as { getStats: unknown }).getStats = async function (this: RTCPeerConnection, ...args: unknown[]) {
    const report = await getStats.apply(this, args);
    report.forEach((s: { type: string; kind?: string; framesDecoded?: number; trackIdentifier?: string }) => {
      const id = s.trackIdentifier;
      if (s.type !== 'inbound-rtp' || s.kind !== 'video' || !(s.framesDecoded! > 0) || !id || decoded.has(id)) return;
      decoded.add(id);
      note({ op: 'decoded', pc: w.pcs.indexOf(this), track: id, kind: 'video' });
    });
    return report;
  };
  const close = proto.close;
  proto.close = function (this: RTCPeerConnection) {
    if (this.signalingState !== 'closed') note({ op: 'close', pc: w.pcs.indexOf(this) });
    close.call(this);
  };
  const replaceTrack = RTCRtpSender.prototype.replaceTrack;
  RTCRtpSender.prototype.replaceTrack = function (this: RTCRtpSender, track: MediaStreamTrack | null) {
    const pc = w.pcs.findIndex((p) => p.getSenders().includes(this));
    note({ op: 'replace', pc, track: track?.id ?? null, kind: this.track?.kind ?? track?.kind ?? '?' });
    return replaceTrack.call(this, track);
  };
  const setParameters = RTCRtpSender.prototype.setParameters;
  RTCRtpSender.prototype.setParameters = function (this: RTCRtpSender, params: RTCRtpSendParameters) {
    const pc = w.pcs.findIndex((p) => p.getSenders().includes(this));
    const { maxFramerate: fps, scaleResolutionDownBy: scale } = params.encodings[0] ?? {};
    if (this.track?.kind === 'video') note({ op: 'caps', pc, kind: 'video', fps, scale });
    return setParameters.call(this, params);
  };
  w.switchPoll = window.setInterval(() => {
    for (const pc of w.pcs) if (pc.signalingState !== 'closed') pc.getStats().catch(() => undefined);
  }, 100);
}

/** Runs in the page: stops the poll and returns the log. */
export function takeSwitchLog(): SwitchEvent[] {
  const w = window as unknown as { switchLog: SwitchEvent[]; switchPoll: number };
  clearInterval(w.switchPoll);
  return w.switchLog;
}

/** What one tile went through (see {@link switchOrder}). */
export interface TileStory {
  /** The mesh video track leaving the tile's stream, if it did. */
  meshRemoved?: SwitchEvent | undefined;
  /** The SFU video track joining it. */
  sfuAdded?: SwitchEvent | undefined;
  /** The first decoded frame of that SFU track. */
  sfuDecoded?: SwitchEvent | undefined;
  /**
   * The sender's mesh camera held small for the switch (`caps` on its mesh connection to the viewer with at most 10 fps
   * and scaled down at least twice: 120 px of the 240 px test camera), at the sender.
   */
  senderHeld?: SwitchEvent | undefined;
  /** The sender's mesh camera stopped (`replaceTrack(null)` on its mesh connection to the viewer), at the sender. */
  senderStopped?: SwitchEvent | undefined;
  /** The sender's mesh connection to the viewer closed, at the sender. */
  senderClosed?: SwitchEvent | undefined;
}

/**
 * The story of the viewer's tile of the sender: from the viewer's log, the tile's stream (`streamId`), its mesh video
 * (connection `meshPc` at the viewer) leaving and its SFU video (any other connection) joining, with that track's first
 * decoded frame; from the sender's log, its mesh connection to the viewer (`senderMeshPc`) stopping its camera and
 * closing.
 */
export function switchOrder(
  viewer: readonly SwitchEvent[],
  streamId: string,
  meshPc: number,
  sender: readonly SwitchEvent[],
  senderMeshPc: number,
): TileStory {
  const video = (e: SwitchEvent) => e.kind === 'video' && e.stream === streamId;
  const sfuAdded = viewer.find((e) => e.op === 'add' && video(e) && e.pc !== meshPc && e.pc >= 0);
  return {
    meshRemoved: viewer.find((e) => e.op === 'remove' && video(e) && e.pc === meshPc),
    sfuAdded,
    sfuDecoded: sfuAdded && viewer.find((e) => e.op === 'decoded' && e.track === sfuAdded.track),
    senderHeld: sender.find(
      (e) => e.op === 'caps' && e.pc === senderMeshPc && (e.fps ?? Infinity) <= 10 && (e.scale ?? 1) >= 2,
    ),
    senderStopped: sender.find((e) => e.op === 'replace' && e.pc === senderMeshPc && e.kind === 'video' && !e.track),
    senderClosed: sender.find((e) => e.op === 'close' && e.pc === senderMeshPc),
  };
}
