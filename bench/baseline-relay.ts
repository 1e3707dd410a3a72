/**
 * The baseline of the relay benchmarks: the smallest `ws` room relay that does the same job as ours on the wire
 * (join a room, get an ID and the others, forward `signal`s with `from` stamped), with no validation, no limits, no
 * heartbeat and no error replies. It is the practical ceiling for a Node relay on `ws`: anything ours does on top of
 * it (parse guards, room scoping checks, capacity, heartbeat) shows up as the difference.
 *
 * NOT for production: a malformed frame is silently dropped, rooms have no capacity, anyone can address anyone.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

interface Peer {
  socket: WebSocket;
  id: string;
  name: string;
  room: Set<Peer>;
  roomName: string;
}

/** Starts the baseline relay on `host:port` (port 0: any free one). Resolves with the bound port and a closer. */
export async function startBaselineRelay(port = 0, host = '127.0.0.1'): Promise<{ port: number; close(): void }> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, clientTracking: false, perMessageDeflate: false });
  const rooms = new Map<string, Set<Peer>>();
  const peers = new Map<string, Peer>();

  wss.on('connection', (socket) => {
    socket.on('error', () => {});
    let self: Peer | undefined;
    socket.on('message', (data) => {
      let m: { type?: unknown; room?: unknown; name?: unknown; to?: unknown; data?: unknown };
      try {
        m = JSON.parse(String(data)) as typeof m;
      } catch {
        return;
      }
      if (m.type === 'signal' && self) {
        peers.get(m.to as string)?.socket.send(JSON.stringify({ type: 'signal', from: self.id, data: m.data }));
      } else if (m.type === 'join' && !self) {
        const roomName = String(m.room);
        const room = rooms.get(roomName) ?? new Set<Peer>();
        rooms.set(roomName, room);
        self = { socket, id: randomBytes(16).toString('base64url'), name: String(m.name ?? ''), room, roomName };
        const others = [...room].map((p) => ({ id: p.id, name: p.name }));
        room.add(self);
        peers.set(self.id, self);
        socket.send(JSON.stringify({ type: 'welcome', id: self.id, room: m.room, peers: others, iceServers: [] }));
        const joined = JSON.stringify({ type: 'peer-joined', peer: { id: self.id, name: self.name } });
        for (const p of room) if (p !== self) p.socket.send(joined);
      }
    });
    socket.on('close', () => {
      if (!self) return;
      peers.delete(self.id);
      self.room.delete(self);
      if (self.room.size === 0) rooms.delete(self.roomName);
      const left = JSON.stringify({ type: 'peer-left', id: self.id });
      for (const p of self.room) p.socket.send(left);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      wss.close();
      server.close();
      server.closeAllConnections();
    },
  };
}
