// Scribe's partitioner must agree with every other Kafka client on where a key lives, so these
// vectors come from the real thing rather than from another port of the algorithm.
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../src/partitioning/murmur2.js';

const utf8 = new TextEncoder();

// Produced by Kafka 4.1.2's Utils.murmur2 and Utils.toPositive (kafka-clients-4.1.2.jar, via
// jshell / java on this machine), over key.getBytes(UTF_8).
// [key, murmur2, partition for 1, 4, 12 and 48 partitions]
const vectors: ReadonlyArray<readonly [string, number, readonly [number, number, number, number]]> = [
  ['', 275646681, [0, 1, 9, 9]],
  ['a', -1563381124, [0, 0, 4, 28]],
  ['ab', 316155434, [0, 2, 2, 26]],
  ['abc', 479470107, [0, 3, 3, 27]],
  ['abcd', -1323649548, [0, 0, 8, 20]],
  ['21', -973932308, [0, 0, 0, 12]],
  ['foobar', -790332482, [0, 2, 6, 30]],
  ['account-42', 201584324, [0, 0, 8, 20]],
  ['a-little-bit-long-string', -985981536, [0, 0, 8, 32]],
  ['a-little-bit-longer-string', -1486304829, [0, 3, 11, 35]],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, [0, 1, 5, 29]],
  ['компания-7', 690059022, [0, 2, 6, 30]],
  ['日本-🙂', -2061007519, [0, 1, 1, 1]],
  ['account-0', 1699944431, [0, 3, 11, 47]],
  ['account-1', 1835529620, [0, 0, 8, 20]],
  ['account-2', 34099444, [0, 0, 4, 4]],
  ['account-3', 547699815, [0, 3, 3, 39]],
  ['account-4', 358219238, [0, 2, 2, 38]],
  ['account-5', 39874921, [0, 1, 1, 25]],
  ['account-6', 460027204, [0, 0, 4, 4]],
  ['account-7', 945680075, [0, 3, 11, 11]],
  ['account-8', 127407521, [0, 1, 5, 17]],
  ['account-9', 1900841368, [0, 0, 4, 40]],
];

const partitionCounts = [1, 4, 12, 48] as const;

describe('murmur2', () => {
  it.each(vectors)('hashes %j as Java does', (key, hash) => {
    expect(murmur2(utf8.encode(key))).toBe(hash);
  });

  it('covers every tail length and multi-byte UTF-8', () => {
    // Guards the vectors themselves: a silently shrunk list would stop testing the tail switch.
    const tails = new Set(vectors.map(([key]) => utf8.encode(key).length % 4));
    expect([...tails].sort()).toEqual([0, 1, 2, 3]);
    expect(vectors.some(([key, hash]) => hash < 0 && utf8.encode(key).length > 0)).toBe(true);
  });
});

describe('partitionForKey', () => {
  it.each(vectors)('places %j where Java does', (key, _hash, expected) => {
    expect(partitionCounts.map((n) => partitionForKey(key, n))).toEqual(expected);
  });

  it('returns an integer in [0, partitions) for random keys', () => {
    // Mixes ASCII, Cyrillic, CJK and astral code points so lengths and tails vary widely.
    const alphabet = ['a', 'Z', '0', '-', ' ', 'к', 'я', '日', '本', '🙂', '\u0000', '\u00ff'];
    const pick = (n: number) => Math.floor(Math.random() * n);
    for (let round = 0; round < 5000; round++) {
      let key = '';
      const length = pick(40);
      for (let i = 0; i < length; i++) key += alphabet[pick(alphabet.length)];
      const partitions = 1 + pick(round % 2 === 0 ? 64 : 100_000);
      const partition = partitionForKey(key, partitions);
      expect(Number.isInteger(partition), `${JSON.stringify(key)} / ${partitions}`).toBe(true);
      expect(partition).toBeGreaterThanOrEqual(0);
      expect(partition).toBeLessThan(partitions);
    }
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects %s partitions', (partitions) => {
    expect(() => partitionForKey('account-1', partitions)).toThrow(RangeError);
    expect(() => partitionForKey('account-1', partitions)).toThrow(/partitions must be a positive integer/);
  });
});
