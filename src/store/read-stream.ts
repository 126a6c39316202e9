// A stream's events page by page, decoded and upcast: how every backend serves `readStream`.
// Pages keep memory bounded for long streams.
import type { StreamHistory } from '../aggregates/aggregate-state.js';
import type { EventReader } from '../schemas/event-schemas.js';
import { StreamNotFoundError } from '../streams/errors.js';
import type { RecordedEvent } from '../streams/event.js';
import type { ReadArguments } from './operation-arguments.js';

const readPageSize = 1_000;

export async function* readStreamPages(
  history: StreamHistory & { head(streamId: string): number },
  read: EventReader,
  streamId: string,
  { direction, maxCount, fromVersion }: ReadArguments,
): AsyncGenerator<RecordedEvent> {
  const head = history.head(streamId);
  if (head < 0) throw new StreamNotFoundError(streamId);
  let next = fromVersion ?? (direction === 'forwards' ? 0 : head);
  let remaining = maxCount;
  while (remaining > 0) {
    const page = await history.read(streamId, next, direction, Math.min(remaining, readPageSize));
    for (const stored of page) yield* read(stored);
    if (page.length < Math.min(remaining, readPageSize)) return;
    remaining -= page.length;
    next = page[page.length - 1]!.version + (direction === 'forwards' ? 1 : -1);
    if (next < 0) return;
  }
}
