/**
 * Departures in every order. A relay that remembers a member's position at connect time and later removes "index i"
 * evicts the wrong peer as soon as someone before it has left; these tests would catch that for every ordering, for
 * `leave` and socket close alike, and with connect order differing from join order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { permutations, startRelayEnv, waitFor, type RelayEnv, type TestClient } from './helpers.js';

type Method = 'leave' | 'close';

interface Member {
  client: TestClient;
  id: string;
}

/** Connects `count` sockets, then joins them in reverse connect order. Returns members in joining order. */
async function fillRoom(e: RelayEnv, room: string, count: number): Promise<Member[]> {
  const clients: TestClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await e.client());
  const members: Member[] = [];
  for (const client of clients.reverse()) {
    const welcome = await client.join(room);
    assert.deepEqual(
      welcome.peers.map((p) => p.id),
      members.map((m) => m.id),
    );
    for (const m of members) assert.equal((await m.client.next('peer-joined')).peer.id, welcome.id);
    members.push({ client, id: welcome.id });
  }
  return members;
}

/** A fresh peer joins: its welcome must list exactly `remaining`, in joining order. Then it leaves again. */
async function probe(e: RelayEnv, room: string, remaining: Member[], label: string): Promise<void> {
  const { client, welcome } = await e.joined(room);
  assert.deepEqual(
    welcome.peers.map((p) => p.id),
    remaining.map((m) => m.id),
    `probe after ${label}`,
  );
  for (const m of remaining) assert.equal((await m.client.next('peer-joined')).peer.id, welcome.id);
  await client.close();
  for (const m of remaining) assert.equal((await m.client.next('peer-left')).id, welcome.id, `probe left, ${label}`);
}

async function depart(member: Member, method: Method): Promise<void> {
  if (method === 'leave') member.client.send({ type: 'leave' });
  else await member.client.close();
}

/** Runs one scenario: everyone departs in `order` (indexes into joining order) using `methods[i]` for step i. */
async function scenario(size: number, order: number[], methods: Method[]): Promise<void> {
  const e = await startRelayEnv();
  try {
    const room = 'departures';
    const members = await fillRoom(e, room, size);
    let remaining = [...members];
    for (const [step, index] of order.entries()) {
      const leaver = members[index];
      assert.ok(leaver);
      const method = methods[step % methods.length] ?? 'leave';
      const label = `order ${order.join('')}, step ${step} (${method} #${index})`;
      await depart(leaver, method);
      remaining = remaining.filter((m) => m !== leaver);
      // Every remaining member hears exactly this departure, nobody else's.
      for (const m of remaining) assert.equal((await m.client.next('peer-left')).id, leaver.id, label);
      if (remaining.length > 0) await probe(e, room, remaining, label);
    }
    // Those who left with `leave` are still connected: they must have heard nothing after leaving.
    for (const m of members.filter((x) => x.client.socket.readyState === x.client.socket.OPEN)) {
      await m.client.sync();
      assert.deepEqual(m.client.pending(), [], 'nothing after leaving');
    }
    // Leavers that stayed connected still count as connections; close them all and the registry must be empty.
    await Promise.all(members.map((m) => m.client.close()));
    await waitFor(() => e.running.relay.stats().connections === 0, 'all connections gone');
    assert.deepEqual(e.running.relay.stats(), { connections: 0, rooms: 0, peers: 0 });
  } finally {
    await e.close();
  }
}

describe('relay: departures in every order', () => {
  const three = permutations([0, 1, 2]);
  for (const methods of [['leave'], ['close'], ['leave', 'close'], ['close', 'leave']] as Method[][]) {
    it(`3 peers, every order, by ${methods.join(' then ')}`, async () => {
      for (const order of three) await scenario(3, order, methods);
    });
  }

  it('4 peers, every order, alternating leave and close', async () => {
    for (const order of permutations([0, 1, 2, 3])) await scenario(4, order, ['close', 'leave']);
  });
});
