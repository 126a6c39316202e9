// The independent check of a store's history: a plain read_committed Kafka consumer (not
// Scribe's reader) reads the whole events topic and verifies I1 for every stream. A stream
// that growth moved spans partitions: each partition keeps its part in order, and every
// change of partition sits between the old partition's seal and the new one's open marker.
import { expect } from 'vitest';
import { KafkaAdmin, KafkaConsumer, type KafkaConnection } from '../../src/kafka/index.js';

export interface StreamHistory {
  /** Versions in version order (a correct history holds 0..n-1). */
  readonly versions: number[];
  readonly ids: string[];
  /** The partitions the stream's history went through, oldest first. */
  readonly partitions: number[];
}

export interface LogReport {
  readonly streams: Map<string, StreamHistory>;
  readonly totalEvents: number;
  /** Violations of I1, in words; empty when every stream is exact. */
  readonly violations: string[];
  readonly idCounts: Map<string, number>;
  /** Hand-over markers found: seals and opens, by the partition holding them. */
  readonly markers: { kind: string; partition: number; offset: number; from: number; to: number }[];
}

const header = (headers: Record<string, string | Buffer>[] | undefined, name: string) => {
  for (const h of headers ?? []) if (h[name] !== undefined) return h[name]!.toString();
  return undefined;
};

interface Located {
  readonly partition: number;
  readonly offset: number;
  readonly version: number;
  readonly id: string;
}

/** `through`: the brokers, or a whole connection (a secured broker). */
/**
 * The partitions' last stable offsets, once they reach the log ends: a commit returns before
 * the coordinator has written its markers into every partition of the transaction, so an
 * acknowledged append may lie past the last stable offset for a moment. A transaction really
 * left open (a frozen zombie's) keeps them apart: after a few seconds the stable ones are used.
 */
async function stableEnds(admin: KafkaAdmin, topic: string, partitions: number[]): Promise<Map<number, number>> {
  for (const deadline = Date.now() + 5_000; ; ) {
    const stable = await admin.endOffsets(topic, partitions, 'read_committed');
    const ends = await admin.endOffsets(topic, partitions, 'read_uncommitted');
    if (Date.now() > deadline || partitions.every((p) => stable.get(p) === ends.get(p))) return stable;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function readEventsTopic(through: string[] | KafkaConnection, topic: string): Promise<LogReport> {
  const connection: KafkaConnection = Array.isArray(through) ? { brokers: through } : through;
  const admin = KafkaAdmin.connect(connection);
  const info = await admin.describeTopic(topic);
  const partitions = Array.from({ length: info!.partitions }, (_, p) => p);
  const ends = await stableEnds(admin, topic, partitions);
  admin.disconnect();
  const consumer = await KafkaConsumer.connect({ ...connection, isolation: 'read_committed' });
  consumer.assign(partitions.map((partition) => ({ topic, partition, offset: 0 })));
  const located = new Map<string, Located[]>();
  const idCounts = new Map<string, number>();
  const markers: LogReport['markers'] = [];
  let totalEvents = 0;
  const deadline = Date.now() + 120_000;
  // An empty partition never reports a position; there is nothing to wait for.
  const done = () =>
    consumer.positions(partitions.map((partition) => ({ topic, partition }))).every((p) => (ends.get(p.partition) ?? 0) === 0 || p.offset >= (ends.get(p.partition) ?? 0));
  while (!done()) {
    if (Date.now() > deadline) throw new Error('the independent reader did not reach the end of the events topic');
    for (const message of await consumer.consume(5000, 100)) {
      const control = header(message.headers, 'scribe.control');
      if (control !== undefined) {
        const body = JSON.parse(message.value!.toString()) as { from: number; to: number };
        markers.push({ kind: control, partition: message.partition, offset: message.offset, from: body.from, to: body.to });
        continue;
      }
      const streamId = header(message.headers, 'scribe.stream')!;
      const id = header(message.headers, 'scribe.id')!;
      const events = located.get(streamId) ?? [];
      events.push({ partition: message.partition, offset: message.offset, version: Number(header(message.headers, 'scribe.version')), id });
      located.set(streamId, events);
      idCounts.set(id, (idCounts.get(id) ?? 0) + 1);
      totalEvents++;
    }
  }
  await consumer.disconnect();
  const violations: string[] = [];
  const streams = new Map<string, StreamHistory>();
  for (const [streamId, events] of located) {
    // In version order the history must be 0..n-1; each partition keeps its part in offset
    // order; where the history changes partition, the old one was sealed after its last
    // event there and the new one opened before its first.
    const history = [...events].sort((a, b) => a.version - b.version);
    history.forEach((event, i) => {
      if (event.version !== i) violations.push(`${streamId}: event ${i} of its history (partition ${event.partition}, offset ${event.offset}) carries version ${event.version}`);
      const previous = history[i - 1];
      if (!previous) return;
      if (previous.partition === event.partition) {
        if (previous.offset > event.offset) violations.push(`${streamId}: version ${event.version} precedes version ${previous.version} in partition ${event.partition}`);
        return;
      }
      const [from, to] = [previous.partition, event.partition];
      const sealed = markers.some((m) => m.kind === 'seal' && m.partition === from && m.to === to && m.offset > previous.offset);
      const opened = markers.some((m) => m.kind === 'open' && m.partition === to && m.from === from && m.offset < event.offset);
      if (!sealed) violations.push(`${streamId}: version ${previous.version} in partition ${from} is not followed by a seal for partition ${to}`);
      if (!opened) violations.push(`${streamId}: version ${event.version} in partition ${to} does not follow an open from partition ${from}`);
    });
    const partitions = history.map((e) => e.partition).filter((p, i, all) => i === 0 || all[i - 1] !== p);
    streams.set(streamId, { versions: history.map((e) => e.version), ids: history.map((e) => e.id), partitions });
  }
  for (const [id, count] of idCounts) if (count > 1) violations.push(`event id ${id} stored ${count} times`);
  return { streams, totalEvents, violations, idCounts, markers };
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
