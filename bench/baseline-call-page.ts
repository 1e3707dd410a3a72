/**
 * Browser script of bench/baseline-call.html: the least a page must do to join a call over our relay. It is the
 * baseline of the call benchmarks (`npm run bench -- call|mesh|recovery`): getUserMedia (the same constraints as the
 * element), one WebSocket, `join`, then one RTCPeerConnection per remote peer with ONE offer/answer (the newcomer
 * offers to everyone in `welcome.peers`) and trickle ICE. No perfect negotiation, no watchdog, no UI beyond one
 * `<video>` per remote stream, no error handling.
 *
 * After an unexpected close it reconnects after 100 ms and joins again, keeping its peer connections (media does not
 * go through the relay): the best case a relay outage allows, for the recovery benchmark.
 *
 * Compiled by bench/tsconfig.json to lib/bench/baseline-call-page.js and served next to the page by the benchmark.
 * Exposes `window.benchJoin(room, signalUrl)` and `window.benchReady`.
 *
 * **Features** (issue 16: what each of the element's setup features costs alone): the page's query
 * `?features=<f>[,<f>…]` (call-bench.ts `BENCH_BASELINE_FEATURES`) adds, one by one, what our element's connections
 * have and the minimum call has not:
 * - `dc`: the negotiated data channel (`createDataChannel('video-chat', { negotiated: true, id: 0 })`, both sides,
 *   before the offer or answer: it rides on the first offer, as `session-channel.ts` does);
 * - `enc`: the offerer's camera sent through `addTransceiver(track, { sendEncodings: [caps] })`, with exactly the caps
 *   the element's first offer carries (the governor's `cameraCaps` for as many copies as the `welcome` names peers:
 *   `{ active, maxBitrate, scaleResolutionDownBy, maxFramerate }`);
 * - `ans`: the answerer's caps as the element sets them: `getParameters` + `setParameters` on the camera's sender in
 *   one task, after the offer is set and before the answer (`transceivers.ts` `presetCaps`), for one copy more than
 *   the connections it has;
 * - `bundle`: `bundlePolicy: 'max-bundle'` (the browser's default is `balanced`);
 * - `all`: the four together.
 *
 * @module
 */

interface Signal {
  description?: RTCSessionDescriptionInit;
  candidate?: RTCIceCandidateInit | null;
}

const CONSTRAINTS: MediaStreamConstraints = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24, max: 30 } },
};

const FEATURES = new Set(
  (new URLSearchParams(location.search).get('features') ?? '')
    .split(',')
    .flatMap((f) => (f === 'all' ? ['dc', 'enc', 'ans', 'bundle'] : [f])),
);

/**
 * The caps of one camera copy when the camera's picture goes to `copies` peers: src/negotiation/bandwidth.ts
 * `cameraCaps` with the default budget (2,500 kbps uplink, 150–1,500 kbps a copy) and no measured link, as
 * src/call/governor.ts `encodingCaps` returns them. A copy here so that the baseline bundles nothing of ours.
 */
function cameraCaps(copies: number, track: MediaStreamTrack): RTCRtpEncodingParameters {
  const kbps = Math.round(Math.min(1500, Math.max(150, 2500 / Math.max(1, copies))));
  const tier = kbps >= 1000 ? [720, 30] : kbps >= 600 ? [480, 30] : kbps >= 300 ? [360, 24] : ([240, 15] as const);
  const { width, height } = track.getSettings();
  const short = width && height ? Math.min(width, height) : undefined;
  const scale = short && short > tier[0]! ? short / tier[0]! : 1;
  return {
    active: true,
    maxBitrate: kbps * 1000,
    scaleResolutionDownBy: Math.round(scale * 100) / 100,
    maxFramerate: tier[1]!,
  };
}

const pcs = new Map<string, RTCPeerConnection>();
let socket: WebSocket | undefined;
let stream: MediaStream | undefined;
/** Signals are applied one after the other: a candidate must not overtake the offer it belongs to. */
let chain: Promise<void> = Promise.resolve();

function send(to: string, data: Signal): void {
  socket?.send(JSON.stringify({ type: 'signal', to, data }));
}

/** A connection to `id`; `offerCopies`: we offer, to a room of that many peers (the `enc` caps), else we answer. */
function connection(id: string, offerCopies?: number): RTCPeerConnection {
  const pc = new RTCPeerConnection({
    iceServers: [],
    ...(FEATURES.has('bundle') ? { bundlePolicy: 'max-bundle' } : {}),
  });
  for (const track of stream?.getTracks() ?? []) {
    if (track.kind === 'video' && offerCopies !== undefined && FEATURES.has('enc')) {
      pc.addTransceiver(track, { streams: [stream as MediaStream], sendEncodings: [cameraCaps(offerCopies, track)] });
    } else pc.addTrack(track, stream as MediaStream);
  }
  if (FEATURES.has('dc')) pc.createDataChannel('video-chat', { negotiated: true, id: 0 });
  pc.onicecandidate = (e) => send(id, { candidate: e.candidate ? e.candidate.toJSON() : null });
  pc.ontrack = (e) => {
    if (e.track.kind !== 'video') return;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
    document.body.append(video);
  };
  pcs.set(id, pc);
  return pc;
}

async function offer(id: string, copies: number): Promise<void> {
  const pc = connection(id, copies);
  await pc.setLocalDescription();
  send(id, { description: pc.localDescription?.toJSON() as RTCSessionDescriptionInit });
}

async function onSignal(from: string, data: Signal): Promise<void> {
  if (data.description?.type === 'offer') {
    const pc = connection(from);
    await pc.setRemoteDescription(data.description);
    const camera = pc.getSenders().find((s) => s.track?.kind === 'video');
    if (camera?.track && FEATURES.has('ans')) {
      // As transceivers.ts presetCaps: in the same task as getParameters, not awaited, before the answer.
      const parameters = camera.getParameters();
      const encoding = parameters.encodings?.[0];
      if (encoding) {
        Object.assign(encoding, cameraCaps(pcs.size, camera.track));
        void camera.setParameters(parameters).catch(() => undefined);
      }
    }
    await pc.setLocalDescription();
    send(from, { description: pc.localDescription?.toJSON() as RTCSessionDescriptionInit });
  } else if (data.description) {
    await pcs.get(from)?.setRemoteDescription(data.description);
  } else if (data.candidate !== undefined) {
    await pcs.get(from)?.addIceCandidate(data.candidate ?? undefined);
  }
}

function connect(room: string, url: string, rejoin: boolean): void {
  const ws = new WebSocket(url);
  socket = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'join', room, name: 'baseline' }));
  ws.onmessage = (e: MessageEvent<string>) => {
    const m = JSON.parse(e.data) as { type: string; peers?: { id: string }[]; from?: string; data?: Signal };
    // After a reconnect the existing connections carry on: nothing to negotiate.
    if (m.type === 'welcome' && !rejoin)
      for (const p of m.peers ?? []) chain = chain.then(() => offer(p.id, m.peers!.length));
    if (m.type === 'signal') chain = chain.then(() => onSignal(m.from as string, m.data as Signal));
  };
  ws.onclose = () => setTimeout(() => connect(room, url, true), 100);
}

async function join(room: string, url: string): Promise<void> {
  stream = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
  connect(room, url, false);
}

Object.assign(window, { benchJoin: join, benchReady: true });
