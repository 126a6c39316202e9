// The local index of a store's events, per process: the events by position, each stream's
// versions pointing at them and its head, event ids for idempotent retries, and per
// partition the offset up to which the index holds the log. A cache of Kafka with a
// checkpoint, never the source of truth: a missing, corrupt or foreign index is deleted and
// rebuilt from the events topic.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { ClassicLevel } from 'classic-level';
import type { StoredEvent } from '../records/event-record.js';
import type { StoredSnapshot } from '../records/snapshot-record.js';

/** Bumped whenever the layout below changes: an index of another format is rebuilt. */
const formatVersion = 4;

/**
 * LevelDB rather than a memory-mapped store: an index of a million streams must not become
 * a million streams' worth of resident memory (docs/decisions/0002-write-path.md). Its
 * block cache and write buffer bound what it keeps in memory.
 */
const levelOptions = { keyEncoding: 'view', valueEncoding: 'view', cacheSize: 16 << 20, writeBufferSize: 8 << 20 } as const;

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

type Db = ClassicLevel<Uint8Array, Uint8Array>;

export class StreamIndex {
  /** Applies run one at a time: a stream's head is read, compared and written within one. */
  private applying: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: Db,
    private readonly checkpoints: Map<number, number>,
    private readonly snapshotCheckpoints: Map<number, number>,
    readonly rebuilt: boolean,
  ) {}

  /**
   * Opens the index in `dir`, or starts it afresh when it is missing, unreadable, of another
   * format, or was built from another incarnation of the events topic.
   */
  static async open(dir: string, topicId: string): Promise<StreamIndex> {
    const identityFile = join(dir, 'identity.json');
    const expected: IndexIdentity = { format: formatVersion, topicId };
    if (sameIdentity(identityFile, expected)) {
      try {
        return await StreamIndex.openAt(dir, identityFile, expected, false);
      } catch (error) {
        // Another store uses it: never delete what it is using.
        if (isLocked(error)) throw new InvalidArgumentError('dataDir', `${JSON.stringify(dirname(dir))} is in use by another store (its index is locked)`);
        // Unreadable: Kafka has everything, start again.
      }
    } else await StreamIndex.ensureNotInUse(dir, 'dataDir');
    rmSync(dir, { recursive: true, force: true });
    return StreamIndex.openAt(dir, identityFile, expected, true);
  }

  /** Throws InvalidArgumentError naming `argument` when another store (in this process or another) has the index in `dir` open. */
  static async ensureNotInUse(dir: string, argument: string): Promise<void> {
    if (!existsSync(join(dir, 'level', 'LOCK'))) return;
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'level'), { ...levelOptions, createIfMissing: false });
    try {
      await db.open();
    } catch (error) {
      if (isLocked(error)) throw new InvalidArgumentError(argument, `${JSON.stringify(dirname(dir))} is in use by another store (its index is locked)`);
      // Unreadable for another reason: `open` rebuilds it.
    } finally {
      await db.close().catch(() => undefined);
    }
  }

  private static async openAt(dir: string, identityFile: string, identity: IndexIdentity, rebuilt: boolean): Promise<StreamIndex> {
    mkdirSync(dir, { recursive: true });
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'level'), levelOptions);
    try {
      await db.open();
      const checkpoints = await readCheckpoints(db, prefix.checkpoint);
      const snapshotCheckpoints = await readCheckpoints(db, prefix.snapshotCheckpoint);
      writeFileSync(identityFile, JSON.stringify(identity));
      return new StreamIndex(db, checkpoints, snapshotCheckpoints, rebuilt);
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
  }

  /** The first offset of the partition that the index does not hold yet. */
  checkpoint(partition: number): number {
    return this.checkpoints.get(partition) ?? 0;
  }

  /** The first offset of the partition's snapshots that the index does not hold yet. */
  snapshotCheckpoint(partition: number): number {
    return this.snapshotCheckpoints.get(partition) ?? 0;
  }

  /** The stream's latest snapshot known here, if any. */
  snapshot(streamId: string): StoredSnapshot | undefined {
    const value = this.db.getSync(snapshotKey(streamId));
    return value === undefined ? undefined : decodeWithDescription<StoredSnapshot>(value, 'state');
  }

  /** The version of the stream's last indexed event, or -1. */
  head(streamId: string): number {
    const value = this.db.getSync(headKey(streamId));
    return value === undefined ? -1 : readVersion(value);
  }

  locate(eventId: string): EventLocation | undefined {
    const value = this.db.getSync(idKey(eventId));
    return value === undefined ? undefined : (JSON.parse(Buffer.from(value).toString('utf8')) as EventLocation);
  }

  /** One event of a stream, read synchronously (for deciders catching up inside a batch). */
  event(streamId: string, version: number): StoredEvent | undefined {
    const pointer = this.db.getSync(streamKey(streamId, version));
    if (pointer === undefined) return undefined;
    const value = this.db.getSync(concat(prefix.event, pointer));
    return value === undefined ? undefined : decodeEvent(value);
  }

  /** Up to `maxCount` events of a stream in version order; cost is O(events returned). */
  async read(streamId: string, fromVersion: number, direction: 'forwards' | 'backwards', maxCount: number): Promise<StoredEvent[]> {
    const range =
      direction === 'forwards'
        ? { gte: streamKey(streamId, fromVersion), lte: streamKey(streamId, Number.MAX_SAFE_INTEGER), limit: maxCount }
        : { gte: streamKey(streamId, 0), lte: streamKey(streamId, fromVersion), reverse: true, limit: maxCount };
    const pointers = await this.db.values(range).all();
    if (pointers.length === 0) return [];
    const events = await this.db.getMany(pointers.map((pointer) => concat(prefix.event, pointer)));
    return events.map((value, i) => {
      if (value === undefined) throw new Error(`index damaged: no event for pointer ${Buffer.from(pointers[i]!).toString('hex')}`);
      return decodeEvent(value);
    });
  }

  /**
   * Adds the events (all from `partition`, in offset order) and the snapshots written with
   * them, and moves the checkpoint to
   * `nextOffset`, atomically. Applying what is already there changes nothing, so the owner
   * and the follower may both apply the same range.
   */
  apply(partition: number, events: readonly StoredEvent[], nextOffset: number, snapshots: readonly StoredSnapshot[] = []): Promise<void> {
    return this.serialised(() => this.write(partition, events, nextOffset, snapshots));
  }

  /** Adds snapshots read from the snapshots topic and moves that topic's checkpoint. */
  applySnapshots(partition: number, snapshots: readonly StoredSnapshot[], nextOffset: number): Promise<void> {
    return this.serialised(async () => {
      const batch = this.db.batch();
      this.putSnapshots(batch, snapshots);
      const checkpoint = Math.max(nextOffset, this.snapshotCheckpoint(partition));
      batch.put(partitionKey(prefix.snapshotCheckpoint, partition), versionBytes(checkpoint));
      await batch.write();
      this.snapshotCheckpoints.set(partition, checkpoint);
    });
  }

  private serialised(write: () => Promise<void>): Promise<void> {
    const run = this.applying.then(write);
    this.applying = run.catch(() => undefined);
    return run;
  }

  private putSnapshots(batch: ReturnType<Db['batch']>, snapshots: readonly StoredSnapshot[]): void {
    const latest = new Map<string, StoredSnapshot>();
    for (const snapshot of snapshots) {
      const known = latest.get(snapshot.streamId) ?? this.snapshot(snapshot.streamId);
      // Only ever forwards: an older snapshot read again later must not replace a newer one.
      if (!known || snapshot.version >= known.version) latest.set(snapshot.streamId, snapshot);
    }
    for (const snapshot of latest.values()) {
      const { state, ...description } = snapshot;
      batch.put(snapshotKey(snapshot.streamId), encodeWithDescription(description, state));
    }
  }

  private async write(partition: number, events: readonly StoredEvent[], nextOffset: number, snapshots: readonly StoredSnapshot[]): Promise<void> {
    const batch = this.db.batch();
    const heads = new Map<string, number>();
    for (const event of events) {
      const position = positionBytes(event.partition, event.offset);
      batch.put(concat(prefix.event, position), encodeEvent(event));
      batch.put(streamKey(event.streamId, event.version), position);
      batch.put(idKey(event.id), Buffer.from(JSON.stringify({ streamId: event.streamId, version: event.version, partition: event.partition, offset: event.offset })));
      heads.set(event.streamId, Math.max(event.version, heads.get(event.streamId) ?? -1));
    }
    // A head never moves back, also when an older range is applied again.
    for (const [streamId, version] of heads) if (version > this.head(streamId)) batch.put(headKey(streamId), versionBytes(version));
    this.putSnapshots(batch, snapshots);
    const checkpoint = Math.max(nextOffset, this.checkpoint(partition));
    batch.put(partitionKey(prefix.checkpoint, partition), versionBytes(checkpoint));
    await batch.write();
    this.checkpoints.set(partition, checkpoint);
  }

  async close(): Promise<void> {
    await this.applying;
    await this.db.close();
  }
}

// Keys: a one-byte table prefix, then big-endian numbers so that byte order is numeric order.
const prefix = {
  event: Buffer.from('e'),
  stream: Buffer.from('s'),
  head: Buffer.from('h'),
  id: Buffer.from('i'),
  checkpoint: Buffer.from('c'),
  snapshot: Buffer.from('n'),
  snapshotCheckpoint: Buffer.from('k'),
};

async function readCheckpoints(db: Db, table: Buffer): Promise<Map<number, number>> {
  const checkpoints = new Map<number, number>();
  for await (const [key, value] of db.iterator({ gte: table, lt: after(table) })) {
    checkpoints.set(Buffer.from(key).readUInt32BE(1), readVersion(value));
  }
  return checkpoints;
}

function concat(...parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}

function after(bytes: Buffer): Buffer {
  return Buffer.from([bytes[0]! + 1]);
}

function versionBytes(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
}

function readVersion(bytes: Uint8Array): number {
  return Number(Buffer.from(bytes).readBigUInt64BE(0));
}

function positionBytes(partition: number, offset: number): Buffer {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(partition, 0);
  bytes.writeBigUInt64BE(BigInt(offset), 4);
  return bytes;
}

/** The stream id is length-prefixed, so that no id is a prefix of another's keys. */
function streamKey(streamId: string, version: number): Buffer {
  const id = Buffer.from(streamId, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(id.length);
  return concat(prefix.stream, length, id, versionBytes(version));
}

function headKey(streamId: string): Buffer {
  return concat(prefix.head, Buffer.from(streamId, 'utf8'));
}

function idKey(eventId: string): Buffer {
  return concat(prefix.id, Buffer.from(eventId, 'utf8'));
}

function snapshotKey(streamId: string): Buffer {
  return concat(prefix.snapshot, Buffer.from(streamId, 'utf8'));
}

function partitionKey(table: Buffer, partition: number): Buffer {
  const bytes = Buffer.alloc(5);
  table.copy(bytes);
  bytes.writeUInt32BE(partition, 1);
  return bytes;
}

/** An event or snapshot as one value: the length of its JSON description, the description, then its bytes. */
function encodeWithDescription(description: object, payload: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(description));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return concat(length, json, payload);
}

function decodeWithDescription<T>(value: Uint8Array, payloadField: string): T {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const length = bytes.readUInt32BE(0);
  const description = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8')) as object;
  return { ...description, [payloadField]: Buffer.from(bytes.subarray(4 + length)) } as T;
}

function encodeEvent(event: StoredEvent): Buffer {
  const { data, ...description } = event;
  return encodeWithDescription(description, data);
}

function decodeEvent(value: Uint8Array): StoredEvent {
  return decodeWithDescription<StoredEvent>(value, 'data');
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

/** LevelDB's "the database is open elsewhere" (classic-level: LEVEL_LOCKED, as the cause of LEVEL_DATABASE_NOT_OPEN). */
function isLocked(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === 'LEVEL_LOCKED') return true;
    if (/\block\b/i.test(String((e as { message?: unknown }).message))) return true;
  }
  return false;
}
