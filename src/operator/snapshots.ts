// A stream's latest snapshot, read from `<store>.snapshots` itself (compacted, keyed by stream
// id): what any process restoring the stream would find, not one process's index.
import { KafkaConsumer, type KafkaAdmin, type KafkaConnection } from '../kafka/index.js';
import { storedSnapshotFrom, type StoredSnapshot } from '../records/snapshot-record.js';
import { topicNames } from '../store/topics.js';
import { TimeoutError } from '../errors.js';

const stallMs = 30_000;

export interface SnapshotScanProgress {
  readonly read: number;
  readonly total: number;
}

/**
 * Every snapshot record of the stream still in the topic, oldest first (compaction keeps the
 * latest; older ones stay until it runs). The stream's partition can change with growth, so
 * every partition is read; `onProgress` follows the records read.
 */
export async function snapshotsOf(
  connection: KafkaConnection,
  admin: KafkaAdmin,
  store: string,
  streamId: string,
  onProgress: (progress: SnapshotScanProgress) => void = () => undefined,
): Promise<StoredSnapshot[]> {
  const topic = topicNames(store).snapshots;
  const { partitions } = await admin.describeTopic(topic);
  const all = Array.from({ length: partitions }, (_, p) => p);
  const [starts, ends] = await Promise.all([admin.startOffsets(topic, all), admin.endOffsets(topic, all, 'read_committed')]);
  const open = all.filter((p) => (ends.get(p) ?? 0) > (starts.get(p) ?? 0));
  const total = open.reduce((sum, p) => sum + (ends.get(p) ?? 0) - (starts.get(p) ?? 0), 0);
  const found: StoredSnapshot[] = [];
  if (open.length === 0) return found;
  const consumer = await KafkaConsumer.connect({ ...connection, isolation: 'read_committed' });
  try {
    consumer.assign(open.map((partition) => ({ topic, partition, offset: starts.get(partition) ?? 0 })));
    const remaining = new Set(open);
    let read = 0;
    let lastRead = Date.now();
    while (remaining.size > 0) {
      if (Date.now() - lastRead > stallMs) throw new TimeoutError(`reading ${topic} (partitions ${[...remaining].join(', ')} not read to their end)`, stallMs);
      for (const message of await consumer.consume(500, 200)) {
        read++;
        const snapshot = storedSnapshotFrom(message as Parameters<typeof storedSnapshotFrom>[0]);
        if (snapshot?.streamId === streamId) found.push(snapshot);
        lastRead = Date.now();
      }
      // Compaction and transaction markers leave gaps: a partition is done when its position reaches its end.
      for (const p of consumer.positions([...remaining].map((partition) => ({ topic, partition })))) {
        if (p.offset >= (ends.get(p.partition) ?? 0)) remaining.delete(p.partition);
      }
      onProgress({ read: Math.min(read, total), total });
    }
  } finally {
    await consumer.disconnect();
  }
  return found.sort((a, b) => a.version - b.version);
}
