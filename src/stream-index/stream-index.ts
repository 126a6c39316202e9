// The local index of a store's events, per process: the events by position, each stream's
// versions pointing at them, event ids for idempotent retries, and per partition the offset
// up to which the index holds the log.
// A cache of Kafka with a checkpoint, never the source of truth: a missing, corrupt or
// foreign index is deleted and rebuilt from the events topic.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { StoredEvent } from '../records/event-record.js';

/** Bumped whenever the layout below changes: an index of another format is rebuilt. */
const formatVersion = 2;

/**
 * LMDB maps its file into the process, and every page a write touches stays resident (and
 * counts in RSS) until the kernel reclaims it. Events are therefore keyed by position, so
 * that appending touches only the last pages of `log`; the randomly keyed tables (`streams`,
 * `ids`) hold small entries. A fixed, large map size (address space, not disk) avoids the
 * remaps that would map the same pages several times over.
 */
const mapSize = 2 ** 38;

type Position = [partition: number, offset: number];

export interface EventLocation {
  readonly streamId: string;
  readonly version: number;
  readonly partition: number;
  readonly offset: number;
}

interface IndexIdentity {
  readonly format: number;
  /** Kafka's id of the events topic: a re-created topic invalidates the index. */
  readonly topicId: string;
}

export class StreamIndex {
  private constructor(
    private readonly root: RootDatabase,
    private readonly log: Database<StoredEvent, Position>,
    private readonly streams: Database<Position, [string, number]>,
    private readonly ids: Database<EventLocation, string>,
    private readonly checkpoints: Database<number, number>,
    readonly rebuilt: boolean,
  ) {}

  /**
   * Opens the index in `dir`, or starts it afresh when it is missing, unreadable, of another
   * format, or was built from another incarnation of the events topic.
   */
  static open(dir: string, topicId: string): StreamIndex {
    const identityFile = join(dir, 'identity.json');
    const expected: IndexIdentity = { format: formatVersion, topicId };
    let rebuilt = false;
    if (!sameIdentity(identityFile, expected) || !readableInAnotherProcess(join(dir, 'lmdb'))) {
      rmSync(dir, { recursive: true, force: true });
      rebuilt = true;
    }
    mkdirSync(dir, { recursive: true });
    try {
      return StreamIndex.openAt(dir, identityFile, expected, rebuilt);
    } catch {
      // A corrupt environment: Kafka has everything, start again.
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      return StreamIndex.openAt(dir, identityFile, expected, true);
    }
  }

  private static openAt(dir: string, identityFile: string, identity: IndexIdentity, rebuilt: boolean): StreamIndex {
    const root = open({ path: join(dir, 'lmdb'), compression: false, mapSize });
    const log = root.openDB<StoredEvent, Position>({ name: 'log' });
    const streams = root.openDB<Position, [string, number]>({ name: 'streams' });
    const ids = root.openDB<EventLocation, string>({ name: 'ids' });
    const checkpoints = root.openDB<number, number>({ name: 'checkpoints' });
    // Touch the environment so that a corrupt file fails here, not on first use.
    checkpoints.get(0);
    writeFileSync(identityFile, JSON.stringify(identity));
    return new StreamIndex(root, log, streams, ids, checkpoints, rebuilt);
  }

  /** The first offset of the partition that the index does not hold yet. */
  checkpoint(partition: number): number {
    return this.checkpoints.get(partition) ?? 0;
  }

  /** The version of the stream's last indexed event, or -1. */
  head(streamId: string): number {
    for (const key of this.streams.getKeys({ start: [streamId, Number.MAX_SAFE_INTEGER], end: [streamId, -1], reverse: true, limit: 1 })) {
      return key[1];
    }
    return -1;
  }

  locate(eventId: string): EventLocation | undefined {
    return this.ids.get(eventId);
  }

  /**
   * Up to `maxCount` events of a stream in version order; cost is O(events returned). Read
   * eagerly, so that no read transaction stays open across the caller's awaits.
   */
  read(streamId: string, fromVersion: number, direction: 'forwards' | 'backwards', maxCount: number): StoredEvent[] {
    const range =
      direction === 'forwards'
        ? this.streams.getRange({ start: [streamId, fromVersion], end: [streamId, Number.MAX_SAFE_INTEGER], limit: maxCount })
        : this.streams.getRange({ start: [streamId, fromVersion], end: [streamId, -1], reverse: true, limit: maxCount });
    return Array.from(range, ({ value }) => {
      const event = this.log.get(value);
      if (!event) throw new Error(`index damaged: no event at partition ${value[0]} offset ${value[1]}`);
      return event;
    });
  }

  /**
   * Adds the events (all from `partition`, in offset order) and moves the checkpoint to
   * `nextOffset`, atomically. Applying what is already there changes nothing, so the owner
   * and the follower may both apply the same range.
   */
  async apply(partition: number, events: readonly StoredEvent[], nextOffset: number): Promise<void> {
    await this.root.transaction(() => {
      for (const event of events) {
        this.log.put([event.partition, event.offset], event);
        this.streams.put([event.streamId, event.version], [event.partition, event.offset]);
        this.ids.put(event.id, { streamId: event.streamId, version: event.version, partition: event.partition, offset: event.offset });
      }
      if (nextOffset > (this.checkpoints.get(partition) ?? 0)) this.checkpoints.put(partition, nextOffset);
    });
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}

/**
 * LMDB maps its file into memory and trusts it: a damaged file crashes the process (SIGSEGV)
 * rather than throwing. So an existing index is first opened and read by a short-lived child
 * process; only if that survives does this process map it.
 */
function readableInAnotherProcess(path: string): boolean {
  if (!existsSync(path)) return true;
  const lmdb = createRequire(import.meta.url).resolve('lmdb');
  const probe = `
    const { open } = require(${JSON.stringify(lmdb)});
    const root = open({ path: ${JSON.stringify(path)}, compression: false, readOnly: true });
    for (const name of ['checkpoints', 'ids', 'streams', 'log']) {
      const db = root.openDB({ name });
      let n = 0;
      for (const entry of db.getRange({ limit: 1000 })) n += entry.key === undefined ? 0 : 1;
      for (const entry of db.getRange({ reverse: true, limit: 1000 })) n += entry.key === undefined ? 0 : 1;
    }
    root.close().then(() => process.exit(0));`;
  const result = spawnSync(process.execPath, ['-e', probe], { timeout: 30_000, stdio: 'ignore' });
  return result.status === 0;
}

function sameIdentity(file: string, expected: IndexIdentity): boolean {
  if (!existsSync(file)) return false;
  try {
    const found = JSON.parse(readFileSync(file, 'utf8')) as IndexIdentity;
    return found.format === expected.format && found.topicId === expected.topicId;
  } catch {
    return false;
  }
}
