// Specifications of how the harness finds a transactional id's coordinator: Java's String.hashCode
// and Kafka's Utils.abs modulo the partitions of __transaction_state. No broker.
import { describe, expect, it } from 'vitest';
import { coordinatorPartition, javaStringHash } from '../../chaos/faults.js';

describe('finding the transaction coordinator of an owner', () => {
  it("hashes like Java's String.hashCode, overflow included", () => {
    expect(javaStringHash('')).toBe(0);
    expect(javaStringHash('hello')).toBe(99162322);
    expect(javaStringHash('polygenelubricants')).toBe(-2147483648);
  });

  it('places a transactional id in __transaction_state as Kafka does (Utils.abs of MIN_VALUE is 0)', () => {
    expect(coordinatorPartition('polygenelubricants', 3)).toBe(0);
    expect(coordinatorPartition('hello', 3)).toBe(99162322 % 3);
    expect(coordinatorPartition('store.p0', 50)).toBe(Math.abs(javaStringHash('store.p0')) % 50);
  });
});
