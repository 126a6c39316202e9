// The in-memory store's log: partitions of stored events with offsets, each stream's events,
// where every event id is, the latest snapshots. It is the view the append rules decide
// against, and the history `load` folds.
import type { StreamHistory } from '../aggregates/aggregate-state.js';
import type { EventLocation, PartitionView, PendingSnapshot } from '../appends/append-batch.js';
import type { StoredSnapshot } from '../records/snapshot-record.js';
import type { EncodedEvent, StoredEvent } from '../streams/encoded-event.js';

export class InMemoryLog implements PartitionView, StreamHistory {
  private readonly partitionEvents: StoredEvent[][];
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly ids = new Map<string, EventLocation>();
  private readonly snapshots = new Map<string, StoredSnapshot>();
  private readonly waiting = new Set<() => void>();

  constructor(readonly partitions: number) {
    this.partitionEvents = Array.from({ length: partitions }, () => []);
  }

  head(streamId: string): number {
    return (this.streams.get(streamId)?.length ?? 0) - 1;
  }

  locate(eventId: string): EventLocation | undefined {
    return this.ids.get(eventId);
  }

  event(streamId: string, version: number): StoredEvent | undefined {
    return this.streams.get(streamId)?.[version];
  }

  snapshot(streamId: string): StoredSnapshot | undefined {
    return this.snapshots.get(streamId);
  }

  async read(streamId: string, fromVersion: number, direction: 'forwards' | 'backwards', maxCount: number): Promise<StoredEvent[]> {
    const events = this.streams.get(streamId) ?? [];
    if (direction === 'forwards') return events.slice(fromVersion, fromVersion + maxCount);
    const from = Math.min(fromVersion, events.length - 1);
    return events.slice(Math.max(0, from - maxCount + 1), from + 1).reverse();
  }

  /** The events of `partition` from `offset` on. */
  from(partition: number, offset: number): readonly StoredEvent[] {
    return this.partitionEvents[partition]!.slice(offset);
  }

  /** The offset the next event of `partition` gets. */
  end(partition: number): number {
    return this.partitionEvents[partition]!.length;
  }

  /** Stores a decided write at the end of its partition; the last stored event comes back. */
  write(partition: number, streamId: string, firstVersion: number, events: readonly EncodedEvent[], snapshot: PendingSnapshot | undefined, now: number): StoredEvent {
    const log = this.partitionEvents[partition]!;
    const stream = this.streams.get(streamId) ?? [];
    this.streams.set(streamId, stream);
    let last: StoredEvent | undefined;
    events.forEach((event, i) => {
      last = { ...event, streamId, version: firstVersion + i, partition, offset: log.length, timestamp: now };
      log.push(last);
      stream.push(last);
      this.ids.set(event.id, { streamId, version: last.version, partition, offset: last.offset });
    });
    if (snapshot && last) {
      this.snapshots.set(streamId, { streamId, version: last.version, snapshotVersion: snapshot.snapshotVersion, state: snapshot.state, partition, offset: last.offset, timestamp: now });
    }
    for (const wake of [...this.waiting]) wake();
    return last!;
  }

  /** Resolves at the next write (or when `signal` is aborted). */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.waiting.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.waiting.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }
}
