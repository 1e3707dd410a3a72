/**
 * The call's on-demand parts, the base class of {@link CallController} (between it and `call-media.ts`): the engine
 * chunk once loaded, hosts and guests (`hosts.ts`, its own chunk: loading it once, calls in order, the page's use of
 * it) and the SFU topology (`sfu.ts`, its own chunk: loaded by the first signal from the reserved peer `"sfu"`, which
 * it handles with every later one; the participants' texts relayed for a room on the SFU; dropped on a fresh start,
 * docs/protocol.md "Rooms on an SFU"), and the dispatch of what a peer says (over its data channel, or relayed for a
 * room on the SFU) to the part it is for. The relay connection, the call's state and the peers' lifecycle are the
 * controller's. No DOM.
 *
 * @module
 */
import type { VideoChatError } from '../errors.js';
import { MediaStateEvent } from '../events.js';
import type { PeerMessage } from '../protocol/data-channel.js';
import type { SignalDelivery } from '../protocol/relay.js';
import type { SignalingClient } from '../signaling/signaling-client.js';
import { CallMedia } from './call-media.js';
import type { Hosts } from './hosts.js';
import type { Roster } from './roster.js';
import type { RemotePeer } from './types.js';

/** See the module comment. */
export abstract class CallParts extends CallMedia {
  /** call/engine.ts, loaded by the first join (its own chunk in the script-tag build). */
  declare protected engine: typeof import('./engine.js') | undefined;
  /** Who is in the room by relay ID, and the re-association after a relay restart (engine chunk, with the engine). */
  declare protected roster: Roster | undefined;
  /**
   * Hosts, hands and reactions (call/hosts.ts, its own chunk): loaded in a room with hosts (a `welcome` with role
   * `host`, a `room-state` naming hosts or locked, any other message of theirs), or on first use (a page method, a
   * hand or reaction from a peer). Undefined until it arrived.
   */
  declare hosts: Hosts | undefined;
  /** The hosts model asked for (loading or loaded), until the call ends. */
  declare protected hostsChunk: Promise<Hosts> | undefined;
  /** The ICE servers of the latest welcome (TURN credentials included), or the page's. */
  protected iceServers: RTCIceServer[] = [];
  /** The peer shown large (pinned or full screen), set by the element: on the SFU it gets the high layer. */
  focus: string | null = null;

  /** Remote peers in joining order. */
  abstract get peers(): readonly RemotePeer[];
  /** The relay connection of the call in progress, if any. */
  protected abstract get relay(): SignalingClient | undefined;
  /** Ends the call with `error` (state `error`, `vc-error`), without retrying. */
  protected abstract refuse(error: VideoChatError): void;

  /** Whether the room runs on the relay's SFU (the media server sees the media) rather than peer to peer. */
  get sfu(): boolean {
    return !!this.sfuRoom;
  }

  /**
   * Runs `fn` on the hosts model, loading its chunk on first use (the page's methods, the `controls` buttons); nothing
   * outside a call.
   */
  withHosts(fn: (hosts: Hosts) => void): void {
    if (this.relay) this.room(fn);
  }

  /** Whether the hosts model's chunk was asked for and has not arrived yet. */
  get hostsLoading(): boolean {
    return !!this.hostsChunk && !this.hosts;
  }

  /** Runs `fn` on the hosts model, loading its chunk first (once per call; calls keep their order). */
  protected room(fn: (hosts: Hosts) => void): void {
    void (this.hostsChunk ??= this.engine!.loadHosts(this.host).then(
      (m) =>
        (this.hosts = new m.Hosts(this, this.host, {
          send: (message) => this.relay?.send(message),
          channels: this.channels,
          refuse: (error) => this.refuse(error),
        })),
    )).then(fn);
  }

  /**
   * A relayed `signal`: from the reserved peer `"sfu"` to the SFU topology (the first one loads the SFU chunk, which
   * handles it and every later one), a participant's text (`data.sfu`) in a room on the SFU to it too, any other (a
   * mesh peer's, opaque here) to the roster, for that peer's session.
   */
  protected signal(message: SignalDelivery): void {
    if (message.from == 'sfu') {
      // The room runs on the SFU: its chunk is loaded once, and handles this and every later SFU message.
      void (this.sfuRoom ??= this.engine!.loadSfu((e) => this.refuse(e)).then((m) =>
        m.sfuTopology(
          this,
          this.host,
          () => this.iceServers,
          this.relay!,
          this.sessions,
          this.channels,
          (p, m) => this.onPeerMessage(p, m),
          this.options,
        ),
      )).then((t) => t.receive(message.data));
    } else if (this.sfuRoom && message.data['sfu'] !== undefined) {
      void this.sfuRoom.then((t) => t.peer(message.from, message.data)); // chat and state of a room on the SFU
    } else this.roster!.relay(message); // opaque here: the peer's session parses it
  }

  /** Closes the SFU topology, if any (docs/protocol.md "Rooms on an SFU": a fresh welcome without `mode` is a mesh). */
  protected dropSfu(): void {
    void this.sfuRoom?.then((t) => t.close());
    this.sfuRoom = undefined;
  }

  /** What a peer says, to the part it is for (the roster, the receiver view's chunk, the hosts model, the chat). */
  protected onPeerMessage(peer: RemotePeer, message: PeerMessage): void {
    if (message.type === 'signal' || message.type === 'rebind') {
      this.roster!.peer(peer, message); // a signal goes to the session, as one from the relay
    } else if (message.type === 'state') {
      if (peer.microphone === message.microphone && peer.camera === message.camera) return;
      peer.microphone = message.microphone;
      peer.camera = message.camera;
      this.host.dispatch(new MediaStateEvent(peer.id, message.microphone, message.camera));
      this.host.requestUpdate();
    } else if (message.type === 'view') {
      this.views.set(peer, message);
      void this.engine!.loadAdaptive(this.host).then(() => this.applyBandwidth()); // every copy's share follows the views
    } else if (message.type != 'chat') {
      this.room((h) => h.peer(peer, message)); // hand, lower-hand, reaction
    } else if (!this.chatLog.has(peer.id, message.id)) {
      this.chatLog.add({
        id: message.id,
        peerId: peer.id,
        name: peer.name,
        text: message.text,
        sentAt: message.sentAt,
      });
    }
  }
}
