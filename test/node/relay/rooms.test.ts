import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoomRegistry } from '../../../server/src/rooms.js';
import { permutations } from './helpers.js';

const peer = (id: string, name = id.toUpperCase()) => ({ id, name });
const ids = (peers: { id: string }[]) => peers.map((p) => p.id);

describe('RoomRegistry', () => {
  it('returns the members already present, in joining order, and records the newcomer', () => {
    const rooms = new RoomRegistry(6);
    assert.deepEqual(rooms.join('r', peer('a')), { ok: true, peers: [] });
    assert.deepEqual(rooms.join('r', peer('b')), { ok: true, peers: [peer('a')] });
    assert.deepEqual(rooms.join('r', peer('c')), { ok: true, peers: [peer('a'), peer('b')] });
    assert.deepEqual(ids(rooms.members('r')), ['a', 'b', 'c']);
    assert.deepEqual(ids(rooms.peersOf('b')), ['a', 'c']);
    assert.equal(rooms.roomOf('c'), 'r');
  });

  it('keeps rooms apart', () => {
    const rooms = new RoomRegistry(6);
    rooms.join('r1', peer('a'));
    assert.deepEqual(rooms.join('r2', peer('b')), { ok: true, peers: [] });
    assert.deepEqual(ids(rooms.peersOf('a')), []);
    assert.deepEqual(ids(rooms.members('r2')), ['b']);
    assert.equal(rooms.roomCount, 2);
  });

  it('refuses a join at capacity and changes nothing', () => {
    const rooms = new RoomRegistry(2);
    rooms.join('r', peer('a'));
    rooms.join('r', peer('b'));
    assert.deepEqual(rooms.join('r', peer('c')), { ok: false, code: 'room-full' });
    assert.deepEqual(ids(rooms.members('r')), ['a', 'b']);
    assert.equal(rooms.roomOf('c'), undefined);
    rooms.leave('a');
    assert.deepEqual(rooms.join('r', peer('c')), { ok: true, peers: [peer('b')] });
  });

  it('removes by ID whatever the order of departures', () => {
    const all = ['a', 'b', 'c', 'd'];
    for (const order of permutations(all)) {
      const rooms = new RoomRegistry(6);
      for (const id of all) rooms.join('r', peer(id));
      const remaining = [...all];
      for (const id of order) {
        remaining.splice(remaining.indexOf(id), 1);
        const left = rooms.leave(id);
        assert.deepEqual(
          left && { room: left.room, remaining: ids(left.remaining) },
          { room: 'r', remaining },
          `order ${order.join()}`,
        );
        assert.deepEqual(ids(rooms.members('r')), remaining);
      }
      assert.equal(rooms.roomCount, 0);
      assert.equal(rooms.peerCount, 0);
    }
  });

  it('deletes a room when its last member leaves, and leaving twice is a no-op', () => {
    const rooms = new RoomRegistry(6);
    rooms.join('r', peer('a'));
    assert.equal(rooms.roomCount, 1);
    assert.deepEqual(rooms.leave('a'), { room: 'r', remaining: [] });
    assert.equal(rooms.roomCount, 0);
    assert.equal(rooms.peerCount, 0);
    assert.equal(rooms.leave('a'), undefined);
    assert.deepEqual(rooms.members('r'), []);
    assert.deepEqual(rooms.peersOf('a'), []);
  });

  it('refuses an ID that is already a member', () => {
    const rooms = new RoomRegistry(6);
    rooms.join('r', peer('a'));
    assert.throws(() => rooms.join('other', peer('a')), /already in a room/);
  });

  it('is not affected by callers mutating what they passed in or got back', () => {
    const rooms = new RoomRegistry(6);
    const a = peer('a', 'Ann');
    rooms.join('r', a);
    a.name = 'changed';
    const [first] = rooms.members('r');
    assert.ok(first);
    first.name = 'changed too';
    assert.deepEqual(rooms.members('r'), [{ id: 'a', name: 'Ann' }]);
  });

  it('rejects a capacity that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new RoomRegistry(bad), RangeError, String(bad));
    }
  });
});
