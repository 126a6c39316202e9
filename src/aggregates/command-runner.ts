// Commands at the owner: the deciders registered in this process, the states of recently
// used streams (an LRU), and the step that turns a command into a decision taken inside the
// partition writer's batch, so that commands on one stream follow each other without retries.
import { LRUCache } from 'lru-cache';
import type { EncodedEvent } from '../records/event-record.js';
import { describeValue, InvalidArgumentError, ScribeError } from '../errors.js';
import { CommandRejectedError, DeciderNotRegisteredError } from '../streams/errors.js';
import type { AppendResult } from '../streams/event.js';
import { commandEventId, type CommandDecision } from '../appends/append-batch.js';
import type { AppendQueue, PendingAppend, RemoteOrigin } from '../appends/pending-append.js';
import { catchUpSync, evolveWith, fromSnapshot, loadAggregate, snapshotIfDue, type AggregateState, type ReadEvents, type StreamHistory } from './aggregate-state.js';
import type { Decider, DomainEvent } from './decider.js';

export type AnyDecider = Decider<unknown, unknown, DomainEvent>;

/** What `execute` answers: the stream's new version and the events the command appended. */
export interface ExecuteResult<Event extends DomainEvent = DomainEvent> extends AppendResult {
  readonly events: readonly Event[];
}

export interface CommandToRun {
  readonly decider: string;
  readonly commandId: string;
  readonly streamId: string;
  readonly partitionKey: string;
  readonly command: unknown;
  readonly remote?: RemoteOrigin;
  /** The requester's trace context (W3C), put into the metadata of the events it decides. */
  readonly trace?: Readonly<Record<string, string>>;
}

export class CommandRunner {
  private readonly deciders = new Map<string, AnyDecider>();
  private readonly states: LRUCache<string, AggregateState<unknown>>;
  /** Per stream, the command being prepared: commands are handed to the writer in arrival order. */
  private readonly preparing = new Map<string, Promise<void>>();

  constructor(
    private readonly read: ReadEvents,
    private readonly index: StreamHistory,
    private readonly encode: (events: readonly DomainEvent[], ids: readonly string[], trace?: Readonly<Record<string, string>>) => EncodedEvent[],
    maxStates: number,
  ) {
    this.states = new LRUCache({ max: maxStates });
  }

  /** Registers once per name: the same decider again is a no-op, another one is refused. */
  register(name: string, decider: AnyDecider): void {
    const registered = this.deciders.get(name);
    if (registered === decider) return;
    if (registered) throw new InvalidArgumentError('name', `a decider "${name}" is registered already; each name takes one decider`);
    this.deciders.set(name, decider);
  }

  /** Runs the command in `writer`'s next batch; settles with the result or the decider's refusal. */
  run(command: CommandToRun, writer: AppendQueue, answer: { resolve(result: ExecuteResult): void; reject(error: unknown): void }): void {
    const decider = this.deciders.get(command.decider);
    if (!decider) {
      // A remote request still needs its reply, which only the writer's transaction gives.
      const refusal = new DeciderNotRegisteredError(command.decider);
      const refuse = () => {
        throw refusal;
      };
      if (command.remote) writer.enqueue(commandAppend(command, refuse, () => undefined, answer.reject));
      else answer.reject(refusal);
      return;
    }
    const key = stateKey(command.decider, command.streamId);
    const previous = this.preparing.get(key) ?? Promise.resolve();
    const prepared = previous.then(async () => {
      if (!this.states.has(key)) this.states.set(key, await loadAggregate(this.read, this.index, decider, command.streamId));
      writer.enqueue(this.pending(command, decider, key, answer));
    });
    const settled = prepared.catch((error: unknown) => answer.reject(error));
    this.preparing.set(key, settled);
    void settled.finally(() => {
      if (this.preparing.get(key) === settled) this.preparing.delete(key);
    });
  }

  private pending(command: CommandToRun, decider: AnyDecider, key: string, answer: { resolve(result: ExecuteResult): void; reject(error: unknown): void }): PendingAppend {
    let decided: { state: AggregateState<unknown>; events: readonly DomainEvent[] } | undefined;
    const decide: CommandDecision['decide'] = (current, batch) => {
      decided = undefined;
      // The state this batch left the stream in, else the committed one, brought to `current`.
      const known = (batch.decisions.get(key) as AggregateState<unknown> | undefined) ?? this.states.get(key) ?? fromSnapshot(decider, undefined);
      const base = known.version === current ? known : catchUpSync(this.read, (s, v) => batch.event(s, v), decider, command.streamId, known, current);
      const events = decideOrRefuse(decider, command.command, base.state, command.streamId);
      // Encoded (and so checked in full) before anything folds them into the state.
      const ids = Array.from({ length: events.length }, (_, i) => commandEventId(command.commandId, i));
      const encoded = this.encode(events, ids, command.trace);
      const { snapshot, state } = snapshotIfDue(decider, evolveWith(decider, base, events));
      batch.decisions.set(key, state);
      decided = { state, events };
      return { events: encoded, ...(snapshot ? { snapshot } : {}) };
    };
    const resolve = (result: AppendResult) => {
      if (decided && decided.state.version === result.nextExpectedVersion) {
        this.states.set(key, decided.state);
        answer.resolve({ ...result, events: decided.events });
      } else {
        // A retried command answered with its first result: its events are in the index.
        answer.resolve({ ...result, events: this.appliedEvents(command.commandId) });
      }
    };
    return commandAppend(command, decide, resolve, answer.reject);
  }

  private appliedEvents(commandId: string): DomainEvent[] {
    const events: DomainEvent[] = [];
    for (let i = 0; ; i++) {
      const location = this.index.locate(commandEventId(commandId, i));
      const stored = location && this.index.event(location.streamId, location.version);
      if (!stored) return events;
      for (const { type, data, metadata } of this.read(stored)) events.push({ type, data, ...(Object.keys(metadata).length > 0 ? { metadata } : {}) });
    }
  }

}

/**
 * Runs `decide`. Its refusal is its own error, unchanged, when it throws an Error; anything
 * else it throws (null, undefined, 0, a string) becomes CommandRejectedError, so that a
 * refusal can never be mistaken for a success. What it returns must be an array.
 */
export function decideOrRefuse<State>(decider: Decider<State, unknown, DomainEvent>, command: unknown, state: State, streamId: string): readonly DomainEvent[] {
  let events: unknown;
  try {
    events = decider.decide(command, state);
  } catch (refusal) {
    if (refusal instanceof Error) throw refusal;
    throw new CommandRejectedError(streamId, 'Error', undefined, `the decider threw ${describeValue(refusal)} instead of an Error`);
  }
  validateDecision(events);
  return events as readonly DomainEvent[];
}

function commandAppend(command: CommandToRun, decide: CommandDecision['decide'], resolve: (result: AppendResult) => void, reject: (error: unknown) => void): PendingAppend {
  return {
    streamId: command.streamId,
    partitionKey: command.partitionKey,
    expectedVersion: 'any',
    ...(command.remote ? { remote: command.remote } : {}),
    events: { commandId: command.commandId, decide },
    resolve,
    reject,
  };
}

function stateKey(decider: string, streamId: string): string {
  return `${decider}\u0000${streamId}`;
}

/** What `decide` returns must be an array of events. */
export function validateDecision(events: unknown): asserts events is readonly unknown[] {
  if (!Array.isArray(events)) throw new InvalidArgumentError('decider.decide', `must return an array of events, returned ${describeValue(events)}`);
}

/**
 * What `execute` answers when the decider refuses a command, wherever it ran: a thrown Scribe
 * error stands as it is; anything else becomes CommandRejectedError carrying the decider's
 * error's name, code and message, with the error itself as `cause` (in the owner's process).
 */
export function commandRefusal(error: unknown, streamId: string): ScribeError {
  if (error instanceof ScribeError) return error;
  const refusal = error instanceof Error ? error : new Error(String(error));
  const code = (refusal as { code?: unknown }).code;
  return new CommandRejectedError(streamId, refusal.name, typeof code === 'string' ? code : undefined, refusal.message, { cause: error });
}
