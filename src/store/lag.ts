// How far a reader's checkpoint is behind the log: per partition, the records not handled yet
// and the age of the oldest of them.
import { KafkaConsumer, type KafkaAdmin, type KafkaConnection } from '../kafka/index.js';
import type { Position } from '../streams/event.js';

export interface PartitionLag {
  readonly partition: number;
  /** The last record handled (absent: none yet). */
  readonly position?: string;
  /** The offset the next committed record will take (the partition's end for read_committed readers). */
  readonly end: string;
  /**
   * Records not handled yet, from the first one to the end. Counted in Kafka offsets, so the
   * commit markers of transactions in between count too: an upper bound of the events.
   */
  readonly events: number;
  /** Age of the oldest record not handled yet, in seconds (0 when there is none). */
  readonly seconds: number;
}

/** Reads the first record after each checkpoint (at most `waitMs`) to learn its age. */
export async function lagBehind(
  connection: KafkaConnection,
  admin: KafkaAdmin,
  topic: string,
  partitions: number,
  checkpoint: readonly Position[],
  waitMs = 2_000,
): Promise<PartitionLag[]> {
  const all = Array.from({ length: partitions }, (_, partition) => partition);
  const ends = await admin.endOffsets(topic, all, 'read_committed');
  const handled = new Map(checkpoint.map((p) => [p.partition, Number(p.offset)]));
  const behind = all.filter((p) => (ends.get(p) ?? 0) > (handled.get(p) ?? -1) + 1);
  const first = new Map<number, { offset: number; timestamp: number }>();
  if (behind.length > 0) {
    const consumer = await KafkaConsumer.connect({ ...connection, isolation: 'read_committed' });
    try {
      consumer.assign(behind.map((partition) => ({ topic, partition, offset: (handled.get(partition) ?? -1) + 1 })));
            const open = new Set(behind);
      for (const deadline = Date.now() + waitMs; open.size > 0 && Date.now() < deadline; ) {
        for (const message of await consumer.consume(100, 50)) {
          if (!first.has(message.partition)) first.set(message.partition, { offset: message.offset, timestamp: message.timestamp ?? Date.now() });
          open.delete(message.partition);
        }
        // A reader past the end without a record found only commit markers: caught up.
        for (const p of consumer.positions([...open].map((partition) => ({ topic, partition })))) if (p.offset >= (ends.get(p.partition) ?? 0)) open.delete(p.partition);
      }
    } finally {
      await consumer.disconnect();
    }
  }
  const now = Date.now();
  return all.map((partition) => {
    const end = ends.get(partition) ?? 0;
    const oldest = first.get(partition);
    const position = handled.get(partition);
    return {
      partition,
      ...(position === undefined ? {} : { position: String(position) }),
      end: String(end),
      events: oldest ? end - oldest.offset : 0,
      seconds: oldest ? Math.max(0, (now - oldest.timestamp) / 1_000) : 0,
    };
  });
}
