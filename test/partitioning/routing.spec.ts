// The routing table decides where every stream's appends go while a store grows; these
// cases pin its rules down without Kafka.
import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/partitioning/murmur2.js';
import { movesBetween, RoutingTable, type ShardMove } from '../../src/partitioning/routing.js';

const keys = Array.from({ length: 2_000 }, (_, i) => `account-${i}`);

function sealed(generation: number, from: number, to: number, sealedAt = 10): ShardMove {
  return { generation, from, to, state: 'sealed', sealedAt, sealedTime: 0 };
}

describe('routing table', () => {
  it('routes like Kafka\'s default partitioner until the store grows', () => {
    const table = new RoutingTable();
    table.addGeneration(0, 12);
    for (const key of keys) expect(table.partitionOf(key)).toBe(partitionForKey(key, 12));
    expect(table.historyOf('account-42')).toEqual([partitionForKey('account-42', 12)]);
  });

  it('keeps a shard where it was until its old owner seals it, then sends it to the new partition', () => {
    const table = new RoutingTable();
    table.addGeneration(0, 4);
    table.addGeneration(1, 12);
    const moving = keys.filter((key) => partitionForKey(key, 4) === 1 && partitionForKey(key, 12) === 5);
    const staying = keys.filter((key) => partitionForKey(key, 4) === partitionForKey(key, 12));
    expect(moving.length).toBeGreaterThan(0);
    for (const key of moving) expect(table.placement(key)).toEqual({ partition: 1, opening: false });
    table.addMove(sealed(1, 1, 5));
    for (const key of moving) expect(table.placement(key)).toEqual({ partition: 5, opening: true });
    table.addMove({ ...sealed(1, 1, 5), state: 'open', openedAt: 0, openedTime: 1 });
    for (const key of moving) {
      expect(table.placement(key)).toEqual({ partition: 5, opening: false });
      expect(table.historyOf(key)).toEqual([1, 5]);
    }
    for (const key of staying) expect(table.partitionOf(key)).toBe(partitionForKey(key, 4));
    // A sealed record read again after the open does not close the shard again.
    table.addMove(sealed(1, 1, 5));
    expect(table.move(1, 1, 5)?.state).toBe('open');
  });

  it('plans one move per pair of partitions a residue class changes between', () => {
    expect(movesBetween(4, 12)).toEqual([
      { from: 0, to: 4 },
      { from: 1, to: 5 },
      { from: 2, to: 6 },
      { from: 3, to: 7 },
      { from: 0, to: 8 },
      { from: 1, to: 9 },
      { from: 2, to: 10 },
      { from: 3, to: 11 },
    ]);
    // Every key whose partition changes is covered by exactly one planned move.
    const planned = new Set(movesBetween(4, 6).map((m) => `${m.from}/${m.to}`));
    for (const key of keys) {
      const [from, to] = [partitionForKey(key, 4), partitionForKey(key, 6)];
      if (from !== to) expect(planned.has(`${from}/${to}`)).toBe(true);
    }
    expect(() => movesBetween(9_973, 9_967)).toThrow(RangeError);
  });

  it('follows a stream through two growths, also back to a partition it had left', () => {
    const table = new RoutingTable();
    table.addGeneration(0, 2);
    table.addGeneration(1, 4);
    for (const { from, to } of movesBetween(2, 4)) table.addMove({ ...sealed(1, from, to), state: 'open' });
    table.addGeneration(2, 6);
    for (const { from, to } of movesBetween(4, 6)) table.addMove({ ...sealed(2, from, to), state: 'open' });
    expect(table.pendingMoves()).toEqual([]);
    for (const key of keys) {
      expect(table.partitionOf(key)).toBe(partitionForKey(key, 6));
      const expected = [partitionForKey(key, 2), partitionForKey(key, 4), partitionForKey(key, 6)].filter((p, i, all) => all.indexOf(p) === i);
      expect(table.historyOf(key)).toEqual(expected);
    }
    // What a new owner of partition 4 must have indexed first: the seals of every shard that reached it.
    expect(table.historyBefore(4).map((h) => h.partition).sort()).toEqual([...new Set(movesBetween(4, 6).filter((m) => m.to === 4).map((m) => m.from))].sort());
  });
});
