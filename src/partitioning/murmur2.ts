// Kafka's default key partitioner, reproduced bit for bit: every topic uses this one hash, so
// a stream's records land where Java, Go and librdkafka (murmur2) clients also put and look for them.

// Java's Utils.murmur2 fixes these; any other value would put keys on other partitions.
const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

const utf8 = new TextEncoder();

/**
 * MurmurHash2 as Kafka's `Utils.murmur2(byte[])` computes it, as a signed 32-bit integer.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  // Java's int arithmetic wraps at 32 bits; Math.imul and `| 0` give the same wrap, where
  // plain `*` would lose low bits once the product passes 2^53.
  let h = (SEED ^ length) | 0;
  const whole = length - (length % 4);

  for (let i = 0; i < whole; i += 4) {
    // Little-endian, as Java reads the four bytes.
    let k =
      (data[i]! & 0xff) |
      ((data[i + 1]! & 0xff) << 8) |
      ((data[i + 2]! & 0xff) << 16) |
      ((data[i + 3]! & 0xff) << 24);
    k = Math.imul(k, M);
    // Java uses >>> here; an arithmetic shift would smear the sign bit into the hash.
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }

  // The tail bytes are mixed in from the highest down, each case also taking the ones below
  // it, as Java's switch falls through; written as ifs so the fall-through is explicit.
  const rest = length % 4;
  if (rest === 3) h ^= (data[whole + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[whole + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[whole]! & 0xff;
    h = Math.imul(h, M);
  }

  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partition Kafka's default partitioner picks for a keyed record
 * (`BuiltInPartitioner.partitionForKey`): `toPositive(murmur2(utf8(key))) % partitions`.
 */
export function partitionForKey(key: string, partitions: number): number {
  if (!Number.isSafeInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${String(partitions)}`);
  }
  return murmur2Positive(key) % partitions;
}

/** The key's hash as Kafka's partitioner uses it, before the modulo. */
export function murmur2Positive(key: string): number {
  // Kafka's toPositive masks the sign bit instead of taking Math.abs, which would differ for
  // negative hashes and overflow for the smallest int.
  return murmur2(utf8.encode(key)) & 0x7fffffff;
}
