// The comparison's own check of what it measured: every stream read back must hold exactly
// the events that were acknowledged, at consecutive positions, none twice. A fast run that
// lost or duplicated an event is a failure, not a result (issue 7, point 4).
import { runWindowed } from '../load.js';

/** Positions as each store numbers them: Scribe's versions start at 0, Emmett's stream positions at 1. */
export type FirstPosition = 0 | 1;

export class SelfCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelfCheckError';
  }
}

/** What one check found: the streams and events it read back. */
export interface SelfCheckSummary {
  readonly system: string;
  readonly workload: string;
  readonly streams: number;
  readonly events: number;
}

/** Throws unless `positions` (in read order) are first, first+1, ... with exactly `acknowledged` of them. */
export function checkHistory(streamId: string, positions: readonly number[], acknowledged: number, first: FirstPosition): void {
  for (let i = 0; i < positions.length; i++) {
    const expected = first + i;
    if (positions[i] !== expected) {
      const kind = positions[i]! < expected ? 'a duplicate' : 'a gap';
      throw new SelfCheckError(`${streamId}: ${kind} at read index ${i}: position ${positions[i]} where ${expected} was expected`);
    }
  }
  if (positions.length < acknowledged) throw new SelfCheckError(`${streamId}: ${positions.length} events read back, ${acknowledged} were acknowledged`);
  if (positions.length > acknowledged) throw new SelfCheckError(`${streamId}: ${positions.length} events read back, only ${acknowledged} were acknowledged`);
}

/**
 * Reads every stream of `acknowledged` back (a few at a time) and checks its history.
 * `readPositions` returns the stream's positions in the order the store gives them.
 */
export async function checkStreams(
  system: string,
  workload: string,
  acknowledged: ReadonlyMap<string, number>,
  first: FirstPosition,
  readPositions: (streamId: string) => Promise<number[]>,
): Promise<SelfCheckSummary> {
  const ids = [...acknowledged.keys()];
  let events = 0;
  await runWindowed({ total: ids.length, window: 16 }, async (i) => {
    const streamId = ids[i]!;
    const positions = await readPositions(streamId);
    checkHistory(`${system} ${workload} ${streamId}`, positions, acknowledged.get(streamId)!, first);
    events += positions.length;
  });
  return { system, workload, streams: ids.length, events };
}

/**
 * The same check for a reader that sees all streams interleaved (a subscription, a consumer):
 * fed one event at a time, it keeps each stream's next expected position.
 */
export class InterleavedHistory {
  private readonly next = new Map<string, number>();
  private count = 0;

  constructor(
    private readonly label: string,
    private readonly first: FirstPosition,
  ) {}

  get events(): number {
    return this.count;
  }

  get streams(): number {
    return this.next.size;
  }

  add(streamId: string, position: number): void {
    const expected = this.next.get(streamId) ?? this.first;
    if (position !== expected) {
      throw new SelfCheckError(`${this.label} ${streamId}: ${position < expected ? 'a duplicate' : 'a gap'}: position ${position} where ${expected} was expected`);
    }
    this.next.set(streamId, expected + 1);
    this.count++;
  }

  /** Throws unless exactly `acknowledged` events were seen, in `streams` streams (unless a reader of a prefix of the log leaves it out). */
  expect(acknowledged: number, streams: number | undefined): void {
    if (this.count !== acknowledged) throw new SelfCheckError(`${this.label}: ${this.count} events read, ${acknowledged} were stored`);
    if (streams !== undefined && this.next.size !== streams) throw new SelfCheckError(`${this.label}: events of ${this.next.size} streams read, ${streams} were written`);
  }
}
