/**
 * A hostile participant for element tests: it joins a room on the real relay (mounted at `/relay`) and negotiates with
 * the element through an ordinary {@link PeerSession}, then sends whatever a test wants: data channel messages the
 * element's parser accepts but a well-behaved element would never send, raw negotiation messages, floods. Nothing of
 * the element under test is touched; everything reaches it over the wire.
 */
import { PeerSession } from '../../src/negotiation/peer-session.js';
import { parsePeerMessage, type PeerMessage } from '../../src/protocol/data-channel.js';
import { parseNegotiationMessage, type NegotiationMessage } from '../../src/protocol/negotiation.js';
import type { ServerMessage, SignalData } from '../../src/protocol/relay.js';
import { SignalingClient } from '../../src/signaling/signaling-client.js';
import { canvasTrack, relayUrl } from './helpers.js';

export interface HostilePeer {
  /** Its peer ID at the relay. */
  readonly id: string;
  /** The session to the first other participant (the victim), once there is one. */
  readonly session: PeerSession | undefined;
  /** Resolves when the data channel to the victim is open. */
  readonly channelOpen: Promise<void>;
  /** Negotiation messages received from the victim (through the relay or, once connected, its data channel), in order. */
  readonly received: NegotiationMessage[];
  /** While true, the victim's negotiation messages are recorded but no longer applied (an unresponsive peer). */
  deaf: boolean;
  /** Sends a data channel message to the victim (queued until the channel is open). */
  send(message: PeerMessage): void;
  /** Sends any text on the data channel to the victim (queued until the channel is open). */
  sendText(text: string): void;
  /** Sends a raw negotiation message to the victim through the relay. */
  signal(data: NegotiationMessage): void;
  /** Sends any `signal.data` to the victim through the relay, well-formed or not. */
  signalRaw(data: SignalData): void;
  close(): void;
}

/**
 * Joins `room` as `name`, sending a canvas video track. With `deaf`, it never applies the victim's messages (so the
 * victim's connection never comes up).
 */
export async function hostilePeer(room: string, name = 'Mallory', { deaf = false } = {}): Promise<HostilePeer> {
  const camera = canvasTrack('#c0c');
  let session: PeerSession | undefined;
  let victim: string | undefined;
  let opened: () => void = () => undefined;
  const channelOpen = new Promise<void>((resolve) => (opened = resolve));
  const received: NegotiationMessage[] = [];
  let id = '';
  const onSignal = (data: SignalData) => {
    const parsed = parseNegotiationMessage(data);
    if (!parsed.ok) return;
    received.push(parsed.value);
    if (!peer.deaf) session?.receive(data);
  };
  const create = (peerId: string, initiator: boolean) => {
    victim = peerId;
    session = new PeerSession({
      peerId,
      initiator,
      iceServers: [],
      tracks: { video: camera },
      send: (data) => client.send({ type: 'signal', to: peerId, data }),
      // Once connected the element negotiates over the data channel (docs/protocol.md): record and apply those too.
      onChannelText: (text) => {
        const message = parsePeerMessage(text);
        if (message.ok && message.value.type === 'signal') onSignal(message.value.data);
      },
      onChannelOpen: () => {
        session?.sendChannelText(JSON.stringify({ type: 'state', microphone: true, camera: true }));
        opened();
      },
    });
  };
  const peer: HostilePeer = {
    get id() {
      return id;
    },
    get session() {
      return session;
    },
    channelOpen,
    received,
    deaf,
    send: (message) => session?.sendChannelText(JSON.stringify(message)),
    sendText: (text) => session?.sendChannelText(text),
    signal: (data) => victim && client.send({ type: 'signal', to: victim, data: { ...data } }),
    signalRaw: (data) => victim && client.send({ type: 'signal', to: victim, data }),
    close: () => {
      session?.close();
      client.close();
      camera.stop();
    },
  };
  let admitted: () => void = () => undefined;
  const welcome = new Promise<void>((resolve) => (admitted = resolve));
  const client: SignalingClient = new SignalingClient({
    url: relayUrl(),
    onStateChange: (state) => state === 'open' && client.send({ type: 'join', room, name }),
    onMessage: (message: ServerMessage) => {
      if (message.type === 'welcome') {
        id = message.id;
        const first = message.peers[0];
        if (first) create(first.id, true);
        admitted();
      } else if (message.type === 'peer-joined' && !session) {
        create(message.peer.id, false);
      } else if (message.type === 'signal' && message.from === victim) {
        onSignal(message.data);
      }
    },
  });
  client.connect();
  await welcome;
  return peer;
}
