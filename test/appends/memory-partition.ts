// A partition held in memory for the append rules' tests: the view they read, and the commit
// of what they decide (offsets in write order, as one Kafka transaction would give them).
import { decideBatch, type AppendIntent, type EventLocation, type PartitionView } from '../../src/appends/append-batch.js';
import type { EncodedEvent, StoredEvent } from '../../src/streams/encoded-event.js';
import type { AppendResult } from '../../src/streams/event.js';

export const partition = 3;

/** An event to append: only the id matters to the rules. */
export function event(id: string): EncodedEvent {
  return { id, type: 'Happened', data: Buffer.from(id), metadata: undefined, contentType: 'application/json' };
}

export function events(...ids: string[]): EncodedEvent[] {
  return ids.map(event);
}

/** What became of an intent once its batch committed. */
export type Settled = { readonly ok: true; readonly result: AppendResult } | { readonly ok: false; readonly error: unknown };

export class MemoryPartition implements PartitionView {
  readonly log: StoredEvent[] = [];
  private nextOffset = 100;

  head(streamId: string): number {
    return this.log.filter((e) => e.streamId === streamId).length - 1;
  }

  locate(eventId: string): EventLocation | undefined {
    const found = this.log.find((e) => e.id === eventId);
    return found && { streamId: found.streamId, version: found.version, partition: found.partition, offset: found.offset };
  }

  event(streamId: string, version: number): StoredEvent | undefined {
    return this.log.find((e) => e.streamId === streamId && e.version === version);
  }

  /** Decides the batch and commits its writes; answers each intent as a writer would. */
  run(intents: readonly AppendIntent[]): Settled[] {
    const decisions = decideBatch(this, partition, intents, 0);
    const settled: Settled[] = decisions.map((decision) => {
      switch (decision.kind) {
        case 'write': {
          decision.events.forEach((e, i) => this.log.push({ ...e, streamId: decision.streamId, version: decision.firstVersion + i, partition, offset: this.nextOffset++, timestamp: 0 }));
          const last = this.log[this.log.length - 1]!;
          return { ok: true, result: { nextExpectedVersion: last.version, position: { partition, offset: String(last.offset) } } };
        }
        case 'answer':
          return { ok: true, result: decision.result };
        case 'refuse':
          return { ok: false, error: decision.error };
        case 'follow':
          return undefined as unknown as Settled; // filled in below, once the followed write has its offsets
      }
    });
    decisions.forEach((decision, i) => {
      if (decision.kind === 'follow') settled[i] = settled[decision.of]!;
    });
    // A marker's offset between transactions, as Kafka leaves one.
    this.nextOffset++;
    return settled;
  }
}
