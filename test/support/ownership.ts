// Waits until a store owns every partition, so that a test's appends take the fast path.
import type { EventStore, KafkaEventStore } from '../../src/index.js';

export async function owningAll(store: KafkaEventStore, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (store.ownedPartitions.length < store.partitions) {
    if (Date.now() > deadline) throw new Error('the store never owned all partitions');
    await new Promise((r) => setTimeout(r, 50));
  }
}
