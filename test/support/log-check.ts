// The independent check of a store's history: a plain read_committed Kafka consumer (not
// Scribe's reader) reads the whole events topic and verifies I1 for every stream.
import { expect } from 'vitest';
import { KafkaAdmin, KafkaConsumer } from '../../src/kafka/index.js';

export interface StreamHistory {
  readonly versions: number[];
  readonly ids: string[];
}

export interface LogReport {
  readonly streams: Map<string, StreamHistory>;
  readonly totalEvents: number;
  /** Violations of I1, in words; empty when every stream is exact. */
  readonly violations: string[];
  readonly idCounts: Map<string, number>;
}

const header = (headers: Record<string, string | Buffer>[] | undefined, name: string) => {
  for (const h of headers ?? []) if (h[name] !== undefined) return h[name]!.toString();
  return undefined;
};

export async function readEventsTopic(brokers: string[], topic: string): Promise<LogReport> {
  const admin = KafkaAdmin.connect({ brokers });
  const info = await admin.describeTopic(topic);
  const partitions = Array.from({ length: info!.partitions }, (_, p) => p);
  const ends = await admin.endOffsets(topic, partitions, 'read_committed');
  admin.disconnect();
  const consumer = await KafkaConsumer.connect({ brokers, isolation: 'read_committed' });
  consumer.assign(partitions.map((partition) => ({ topic, partition, offset: 0 })));
  const streams = new Map<string, StreamHistory>();
  const idCounts = new Map<string, number>();
  let totalEvents = 0;
  const deadline = Date.now() + 120_000;
  // An empty partition never reports a position; there is nothing to wait for.
  const done = () =>
    consumer.client.position(partitions.map((partition) => ({ topic, partition }))).every((p) => (ends.get(p.partition) ?? 0) === 0 || p.offset >= (ends.get(p.partition) ?? 0));
  while (!done()) {
    if (Date.now() > deadline) throw new Error('the independent reader did not reach the end of the events topic');
    for (const message of await consumer.consume(5000, 100)) {
      const streamId = header(message.headers, 'scribe.stream')!;
      const version = Number(header(message.headers, 'scribe.version'));
      const id = header(message.headers, 'scribe.id')!;
      const history = streams.get(streamId) ?? { versions: [], ids: [] };
      history.versions.push(version);
      history.ids.push(id);
      streams.set(streamId, history);
      idCounts.set(id, (idCounts.get(id) ?? 0) + 1);
      totalEvents++;
    }
  }
  await consumer.disconnect();
  const violations: string[] = [];
  for (const [streamId, history] of streams) {
    history.versions.forEach((version, i) => {
      if (version !== i) violations.push(`${streamId}: event ${i} in offset order carries version ${version}`);
    });
  }
  for (const [id, count] of idCounts) if (count > 1) violations.push(`event id ${id} stored ${count} times`);
  return { streams, totalEvents, violations, idCounts };
}

/**
 * I1 and I2 against what the appenders were told: every stream exact, the log holds exactly
 * the acknowledged events, each once, at the version its acknowledgement carried.
 */
export function expectExactlyTheAcknowledged(log: LogReport, acked: readonly { id: string; streamId: string; version: number }[]): void {
  expect(log.violations).toEqual([]);
  expect(log.totalEvents).toBe(acked.length);
  for (const ack of acked) {
    expect(log.idCounts.get(ack.id)).toBe(1);
    expect(log.streams.get(ack.streamId)!.ids[ack.version]).toBe(ack.id);
  }
}

/** Whether some transaction is open on the topic: its last stable offset trails its end. */
export async function hasOpenTransaction(admin: KafkaAdmin, topic: string, partitions: number): Promise<boolean> {
  const all = [...Array(partitions).keys()];
  const [stable, end] = await Promise.all([admin.endOffsets(topic, all, 'read_committed'), admin.endOffsets(topic, all)]);
  return all.some((p) => (stable.get(p) ?? 0) < (end.get(p) ?? 0));
}
