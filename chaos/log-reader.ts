// Reads `<store>.events` back read_committed with KafkaJS (a client other than Scribe's),
// decoding only what docs/record-format.md states, for the checker.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { StoredEvent } from './checker.js';

export async function readEvents(brokers: readonly string[], topic: string, timeoutMs = 180_000): Promise<StoredEvent[]> {
  const kafka = new Kafka({ clientId: 'chaos-checker', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  // The last offset to reach per partition; a partition whose high watermark is its low one holds nothing.
  const pending = new Map<number, number>();
  for (const o of offsets) if (Number(o.high) > Number(o.low)) pending.set(o.partition, Number(o.high) - 1);
  const events: StoredEvent[] = [];
  if (pending.size === 0) return events;

  const consumer = kafka.consumer({ groupId: `chaos-checker-${randomUUID()}`, readUncommitted: false, sessionTimeout: 30_000 });
  const reached = (partition: number, offset: number) => {
    const target = pending.get(partition);
    if (target !== undefined && offset >= target) pending.delete(partition);
  };
  await consumer.connect();
  try {
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    // Batches emptied by read_committed filtering (aborted records, transaction markers) still report how far they went.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      reached(payload.partition, Number(payload.lastOffset));
      if (pending.size === 0) finished();
    });
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const h = (name: string) => message.headers?.[name]?.toString();
        const stream = h('scribe.stream');
        const version = h('scribe.version');
        const id = h('scribe.id');
        if (stream !== undefined && version !== undefined && id !== undefined && h('scribe.type') !== undefined) {
          events.push({ stream, version: Number(version), id, partition, offset: Number(message.offset) });
        }
        reached(partition, Number(message.offset));
        if (pending.size === 0) finished();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the checker's reader did not reach the end of ${topic} within ${timeoutMs} ms (partitions left: ${[...pending.keys()].join(', ')})`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
  return events;
}
