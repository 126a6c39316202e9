// `handle`, the same in every backend: load, decide, append at the loaded version; after a
// conflict, load and decide again (bounded, with jittered backoff).
import { evolveWith, snapshotIfDue, type AggregateState } from '../aggregates/aggregate-state.js';
import { decideOrRefuse } from '../aggregates/command-runner.js';
import type { Decider, DomainEvent } from '../aggregates/decider.js';
import type { PendingSnapshot } from '../appends/append-batch.js';
import type { HandleResult } from '../contract/event-store.js';
import type { EncodedEvent } from '../streams/encoded-event.js';
import { WrongExpectedVersionError } from '../streams/errors.js';
import type { AppendResult } from '../streams/event.js';
import type { ExpectedVersion } from '../streams/expected-version.js';
import type { HandleArguments } from './operation-arguments.js';

export interface HandleSteps<State> {
  load(): Promise<AggregateState<State>>;
  encode(events: readonly DomainEvent[]): EncodedEvent[];
  append(events: EncodedEvent[], expectedVersion: ExpectedVersion, snapshot: PendingSnapshot | undefined): Promise<AppendResult>;
}

export async function handleCommand<State, Command, Event extends DomainEvent>(
  steps: HandleSteps<State>,
  decider: Decider<State, Command, Event>,
  streamId: string,
  command: Command,
  { maxRetries, initialMs, maxMs }: HandleArguments,
): Promise<HandleResult<State, Event>> {
  const anyDecider = decider as Decider<State, unknown, DomainEvent>;
  for (let retries = 0; ; retries++) {
    const loaded = await steps.load();
    const events = decideOrRefuse(anyDecider, command, loaded.state, streamId) as readonly Event[];
    if (events.length === 0) return { state: loaded.state, nextExpectedVersion: loaded.version, events, retries };
    // Encoded (and so checked in full) before anything folds them into the state.
    const encoded = steps.encode(events);
    const { snapshot, state } = snapshotIfDue(anyDecider, evolveWith(anyDecider, loaded, events));
    try {
      const result = await steps.append(encoded, loaded.version < 0 ? 'no_stream' : loaded.version, snapshot);
      return { state: state.state, nextExpectedVersion: result.nextExpectedVersion, events, retries };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError) || retries >= maxRetries) throw error;
      const ceiling = Math.min(maxMs, initialMs * 2 ** retries);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
    }
  }
}
