// The local index is a cache of Kafka with a checkpoint: a restarted process reuses it and
// reads only what is new; a missing or corrupt index is rebuilt from Kafka.
import { randomUUID } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { EventStore, type RecordedEvent } from '../../src/index.js';
import { KafkaAdmin } from '../../src/kafka/index.js';

const brokers = inject('brokers');

async function versions(store: EventStore, streamId: string): Promise<number[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out.map((e) => e.version);
}

async function connect(name: string, dataDir: string, lines: string[] = []): Promise<EventStore> {
  return EventStore.connect({ brokers, store: name, partitions: 1, dataDir, log: (line) => lines.push(line) });
}

describe('the local stream index', () => {
  it('is reused after a restart: the process reads only what was appended while it was down', async () => {
    const name = `restart-${randomUUID().slice(0, 8)}`;
    const dir = `.scribe/test/${name}/a`;
    const first = await connect(name, dir);
    for (let v = 0; v < 100; v++) await first.append('history', [{ type: 'E', data: { v } }], { expectedVersion: v - 1 < 0 ? 'no_stream' : v - 1 });
    await first.close();

    // Another process appends while the first is down.
    const other = await connect(name, `.scribe/test/${name}/b`);
    for (let v = 100; v < 150; v++) await other.append('history', [{ type: 'E', data: { v } }], { expectedVersion: v - 1 });
    await other.close();

    // Proof that the restart does not re-read the partition: the first 100 events are deleted
    // from Kafka; only an index that kept them can still serve them.
    const admin = KafkaAdmin.connect({ brokers });
    await admin.deleteRecordsBefore(`${name}.events`, new Map([[0, 100]]));
    admin.disconnect();

    const lines: string[] = [];
    const restarted = await connect(name, dir, lines);
    expect(lines.some((l) => l.includes('reused'))).toBe(true);
    expect(await versions(restarted, 'history')).toEqual([...Array(150).keys()]);
    await restarted.close();

    const fresh = await connect(name, `.scribe/test/${name}/fresh`);
    expect((await versions(fresh, 'history')).length).toBeLessThan(150);
    await fresh.close();
  });

  it('is rebuilt from Kafka when it is corrupt', async () => {
    const name = `corrupt-${randomUUID().slice(0, 8)}`;
    const dir = `.scribe/test/${name}`;
    const first = await connect(name, dir);
    for (let v = 0; v < 20; v++) await first.append('history', [{ type: 'E', data: { v } }], { expectedVersion: 'any' });
    await first.close();

    for (const file of readdirSync(join(dir, 'index', 'level'))) writeFileSync(join(dir, 'index', 'level', file), 'this is not a LevelDB file');
    const lines: string[] = [];
    const restarted = await connect(name, dir, lines);
    expect(lines.some((l) => l.includes('building it from Kafka'))).toBe(true);
    expect(await versions(restarted, 'history')).toEqual([...Array(20).keys()]);
    await restarted.close();
  });

  it('is rebuilt when it belongs to another incarnation of the events topic', async () => {
    const name = `reborn-${randomUUID().slice(0, 8)}`;
    const dir = `.scribe/test/${name}`;
    const first = await connect(name, dir);
    await first.append('old-stream', [{ type: 'E', data: {} }], { expectedVersion: 'no_stream' });
    await first.close();
    const admin = KafkaAdmin.connect({ brokers });
    for (const suffix of ['events', 'snapshots', 'appends', 'replies', 'routing']) await admin.deleteTopic(`${name}.${suffix}`);
    while ((await admin.listTopics()).some((t) => t.startsWith(`${name}.`))) await new Promise((r) => setTimeout(r, 100));
    admin.disconnect();

    const lines: string[] = [];
    const reborn = await connect(name, dir, lines);
    expect(lines.some((l) => l.includes('building it from Kafka'))).toBe(true);
    await expect(versions(reborn, 'old-stream')).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND' });
    await reborn.close();
  });
});
