// What a process asks of a partition's owner (append events, run a command, seal a shard)
// and what the owner answers, whether the owner is this process or another one; and the one
// way to reach an owner (`Owner`), so the store never forks on where the owner runs.
import { performance } from 'node:perf_hooks';
import type { PendingAppend, RemoteOrigin } from '../appends/pending-append.js';
import type { ScribeError } from '../errors.js';
import type { StoreEvent, TraceCarrier } from '../instrumentation/store-events.js';
import type { EncodedEvent } from '../streams/encoded-event.js';
import type { AppendResult, Metadata } from '../streams/event.js';
import type { ExpectedVersion } from '../streams/expected-version.js';

export const ownerRequestKinds = ['append', 'command', 'seal'] as const;
export type OwnerRequestKind = (typeof ownerRequestKinds)[number];

/** Events to append to a stream, checked against its version at the owner. */
export interface AppendRequest {
  readonly kind: 'append';
  readonly streamId: string;
  readonly partitionKey: string;
  readonly expectedVersion: ExpectedVersion;
  readonly events: readonly EncodedEvent[];
  /** The stream's state as of the append's last event, stored with it. */
  readonly snapshot?: { readonly snapshotVersion: number; readonly state: Buffer };
  /** The requester's trace context (W3C), carried to a remote owner. */
  readonly trace?: TraceCarrier;
}

/** A command for a decider registered at the owner, decided there against the stream's latest state. */
export interface CommandRequest {
  readonly kind: 'command';
  readonly streamId: string;
  readonly partitionKey: string;
  readonly decider: string;
  /** Makes the command idempotent: its events' ids derive from it. */
  readonly commandId: string;
  /** The command as JSON (checked to be JSON by the requester). */
  readonly payload: string;
  /** The requester's trace context (W3C), carried to a remote owner. */
  readonly trace?: TraceCarrier;
}

/** `grow` asks the owner of the request's partition to seal the shard moving to partition `to`. */
export interface SealRequest {
  readonly kind: 'seal';
  readonly generation: number;
  readonly to: number;
}

export type OwnerRequest = AppendRequest | CommandRequest | SealRequest;

/** Who asked and until when: what a request carries when it travels through the appends topic. */
export interface Envelope {
  readonly requester: string;
  readonly requestId: string;
  /** Epoch ms after which the owner must not apply the request: the requester has given up. */
  readonly deadline: number;
}

export type RemoteRequest = OwnerRequest & Envelope;

/**
 * The owner's answer. Success carries the position of the last record written (for a seal,
 * its marker; `nextExpectedVersion` -1). A failure carries the error itself, any ScribeError.
 */
export type OwnerReply =
  | { readonly ok: true; readonly nextExpectedVersion: number; readonly partition: number; readonly offset: string }
  | { readonly ok: false; readonly error: ScribeError };

/** An event as a decider returned it (the aggregates' DomainEvent, which this layer does not import). */
export interface DecidedEvent {
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: Metadata;
}

/** A command's result: its events when the owner is this process; a remote owner's are read from the log. */
export interface CommandResult extends AppendResult {
  readonly events?: readonly DecidedEvent[];
}

/**
 * The owner of one partition, as the store reaches it: this process's writer, or another
 * process through `<store>.appends`. Both answer with the same results and the same errors.
 */
export interface Owner {
  /** Where the owner runs, as instrumentation reports it. */
  readonly where: 'local' | 'remote';
  append(request: AppendRequest, timeoutMs: number): Promise<AppendResult>;
  execute(request: CommandRequest, timeoutMs: number): Promise<CommandResult>;
  seal(request: SealRequest, timeoutMs: number): Promise<void>;
}

/** An append request as its partition's writer queues it; `remote` when it came through the appends topic. */
export function pendingAppendOf(request: AppendRequest, answer: Pick<PendingAppend, 'resolve' | 'reject'>, remote?: RemoteOrigin): PendingAppend {
  return {
    streamId: request.streamId,
    partitionKey: request.partitionKey,
    expectedVersion: request.expectedVersion,
    events: request.events,
    ...(request.snapshot ? { snapshot: request.snapshot } : {}),
    ...(remote ? { remote } : {}),
    resolve: answer.resolve,
    reject: answer.reject,
  };
}

/**
 * The answer to a request read from the appends topic: its requester learns the outcome from
 * the reply committed with the events; this process reports it as a `request-served` event.
 */
export function servedAnswer(request: RemoteRequest, partition: number, instrument: ((event: StoreEvent) => void) | undefined): Pick<PendingAppend, 'resolve' | 'reject'> {
  if (!instrument || request.kind === 'seal') return { resolve: () => undefined, reject: () => undefined };
  const began = performance.now();
  const served = (outcome: string, offset?: string) =>
    instrument({
      type: 'request-served',
      partition,
      kind: request.kind,
      streamId: request.streamId,
      outcome,
      ...(offset === undefined ? {} : { offset }),
      durationMs: Math.round((performance.now() - began) * 1000) / 1000,
      ...(request.trace ? { trace: request.trace } : {}),
    });
  return {
    resolve: (result) => served('ok', result.position.offset),
    // A decider's own refusal is not a ScribeError: it travels as COMMAND_REJECTED.
    reject: (error) => served((error as Partial<ScribeError> | undefined)?.code ?? 'COMMAND_REJECTED'),
  };
}
