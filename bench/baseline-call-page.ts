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

const pcs = new Map<string, RTCPeerConnection>();
let socket: WebSocket | undefined;
let stream: MediaStream | undefined;
/** Signals are applied one after the other: a candidate must not overtake the offer it belongs to. */
let chain: Promise<void> = Promise.resolve();

function send(to: string, data: Signal): void {
  socket?.send(JSON.stringify({ type: 'signal', to, data }));
}

function connection(id: string): RTCPeerConnection {
  const pc = new RTCPeerConnection({ iceServers: [] });
  for (const track of stream?.getTracks() ?? []) pc.addTrack(track, stream as MediaStream);
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

async function offer(id: string): Promise<void> {
  const pc = connection(id);
  await pc.setLocalDescription();
  send(id, { description: pc.localDescription?.toJSON() as RTCSessionDescriptionInit });
}

async function onSignal(from: string, data: Signal): Promise<void> {
  if (data.description?.type === 'offer') {
    const pc = connection(from);
    await pc.setRemoteDescription(data.description);
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
    if (m.type === 'welcome' && !rejoin) for (const p of m.peers ?? []) chain = chain.then(() => offer(p.id));
    if (m.type === 'signal') chain = chain.then(() => onSignal(m.from as string, m.data as Signal));
  };
  ws.onclose = () => setTimeout(() => connect(room, url, true), 100);
}

async function join(room: string, url: string): Promise<void> {
  stream = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
  connect(room, url, false);
}

Object.assign(window, { benchJoin: join, benchReady: true });
