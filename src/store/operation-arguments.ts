// The arguments of the contract's operations, checked the same way by every backend: a call
// refused here names the argument and writes nothing.
import { describeValue, InvalidArgumentError } from '../errors.js';
import { readDirections, type AppendOptions, type ReadDirection, type SubscriptionStart } from '../contract/event-store.js';
import { EventSchemas } from '../schemas/event-schemas.js';
import type { BatchSettings } from './batch-subscription.js';
import type { CheckpointStore } from './checkpoints.js';
import type { EncodedEvent } from '../streams/encoded-event.js';
import type { Position } from '../streams/event.js';
import { validateExpectedVersion, type ExpectedVersion } from '../streams/expected-version.js';
import { encodeEvents, guarded, integerOption, maxTimeoutMs, oneOf, validateCommand, validateName, validateOptions, validateStreamId, type EventEncoding } from './validation.js';

/** What every backend does unless told otherwise. */
export const operationDefaults = {
  maxEventBytes: 1_000_000 - 4_096,
  /** Stream states an owner keeps in memory for commands (LRU). */
  maxCommandStates: 10_000,
  maxRetries: 20,
  backoff: { initialMs: 5, maxMs: 500 },
};

const expectedVersionRequired = "is required: the version the stream is at, 'no_stream', 'stream_exists', or 'any' to opt out";

/** A command id becomes the prefix of its events' ids (`<commandId>/<n>`). */
const maxCommandIdBytes = 120;

export interface AppendArguments {
  readonly expectedVersion: ExpectedVersion;
  readonly partitionKey: string;
  /** Encoded, and so checked in full, before the append joins anyone else's batch. */
  readonly events: EncodedEvent[];
}

export function appendArguments(streamId: unknown, events: unknown, options: unknown, maxEventBytes: number, encoding: EventEncoding): AppendArguments {
  validateStreamId(streamId);
  if (options === undefined) throw new InvalidArgumentError('expectedVersion', expectedVersionRequired);
  const { expectedVersion, partitionKey } = validateOptions(options) as Partial<AppendOptions>;
  if (expectedVersion === undefined) throw new InvalidArgumentError('expectedVersion', expectedVersionRequired);
  validateExpectedVersion(expectedVersion);
  if (partitionKey !== undefined) validateStreamId(partitionKey, 'options.partitionKey');
  return { expectedVersion, partitionKey: partitionKey ?? streamId, events: encodeEvents(events, maxEventBytes, encoding) };
}

export interface ReadArguments {
  readonly direction: ReadDirection;
  readonly maxCount: number;
  readonly fromVersion: number | undefined;
  readonly partitionKey: string;
}

export function readArguments(streamId: unknown, options: unknown): ReadArguments {
  validateStreamId(streamId);
  const given = validateOptions(options);
  const direction = oneOf(given.direction, 'options.direction', readDirections, 'forwards');
  const maxCount = integerOption(given.maxCount, 'options.maxCount', Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER);
  const fromVersion = given.fromVersion === undefined ? undefined : integerOption(given.fromVersion, 'options.fromVersion', 0, 0, Number.MAX_SAFE_INTEGER);
  if (given.partitionKey !== undefined) validateStreamId(given.partitionKey, 'options.partitionKey');
  return { direction, maxCount, fromVersion, partitionKey: (given.partitionKey as string | undefined) ?? streamId };
}

/** The partition key of `load`'s options, when one is given. */
export function loadArguments(streamId: unknown, options: unknown): { readonly partitionKey: string | undefined } {
  validateStreamId(streamId);
  const { partitionKey } = validateOptions(options);
  if (partitionKey !== undefined) validateStreamId(partitionKey, 'options.partitionKey');
  return { partitionKey: partitionKey as string | undefined };
}

export interface HandleArguments {
  readonly maxRetries: number;
  readonly initialMs: number;
  readonly maxMs: number;
  readonly partitionKey: string | undefined;
}

export function handleArguments(streamId: unknown, options: unknown): HandleArguments {
  validateStreamId(streamId);
  const given = validateOptions(options);
  const maxRetries = integerOption(given.maxRetries, 'options.maxRetries', operationDefaults.maxRetries, 0, 1_000_000);
  const backoff = validateOptions(given.backoff, 'options.backoff');
  const initialMs = integerOption(backoff.initialMs, 'options.backoff.initialMs', operationDefaults.backoff.initialMs, 0, 60_000);
  const maxMs = integerOption(backoff.maxMs, 'options.backoff.maxMs', Math.max(initialMs, operationDefaults.backoff.maxMs), 0, 600_000);
  if (maxMs < initialMs) throw new InvalidArgumentError('options.backoff.maxMs', `${maxMs} is below options.backoff.initialMs ${initialMs}`);
  if (given.partitionKey !== undefined) validateStreamId(given.partitionKey, 'options.partitionKey');
  return { maxRetries, initialMs, maxMs, partitionKey: given.partitionKey as string | undefined };
}

export interface ExecuteArguments {
  /** The command as the owner's decider sees it: a JSON copy of what the caller passed. */
  readonly payload: string;
  readonly commandId: string | undefined;
  readonly partitionKey: string;
}

export function executeArguments(name: unknown, streamId: unknown, command: unknown, options: unknown, maxCommandBytes: number): ExecuteArguments {
  validateName(name, 'name');
  validateStreamId(streamId);
  const payload = validateCommand(command, maxCommandBytes);
  const { commandId, partitionKey } = validateOptions(options);
  if (commandId !== undefined) validateName(commandId, 'options.commandId', maxCommandIdBytes);
  if (partitionKey !== undefined) validateStreamId(partitionKey, 'options.partitionKey');
  return { payload, commandId: commandId as string | undefined, partitionKey: (partitionKey as string | undefined) ?? streamId };
}

export interface SubscribeArguments {
  readonly name: string | undefined;
  readonly from: SubscriptionStart;
  readonly stopTimeoutMs: number;
}

export function subscribeArguments(options: unknown, handler: unknown, partitions: number): SubscribeArguments {
  const given = validateOptions(options);
  if (typeof handler !== 'function') throw new InvalidArgumentError('handler', `must be a function, got ${describeValue(handler)}`);
  if (given.name !== undefined) validateName(given.name, 'options.name', 200);
  const stopTimeoutMs = integerOption(given.stopTimeoutMs, 'options.stopTimeoutMs', defaultStopTimeoutMs, 1, maxTimeoutMs);
  return { name: given.name as string | undefined, from: validateSubscriptionStart(given.from, partitions), stopTimeoutMs };
}

/** The checkpoint `lag` measures: positions of the store's partitions (the rules of a subscription's `from`, said of this argument). */
export function lagArguments(checkpoint: unknown, partitions: number): readonly Position[] {
  let positions: SubscriptionStart;
  try {
    positions = validateSubscriptionStart(checkpoint ?? [], partitions);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new InvalidArgumentError(error.argument.replace('options.from', 'checkpoint'), error.message.slice(error.argument.length + 2));
    throw error;
  }
  if (!Array.isArray(positions)) throw new InvalidArgumentError('checkpoint', `must be a list of positions { partition, offset }, got ${describeValue(checkpoint)}`);
  return positions;
}

/** The `schemas` option: an EventSchemas that defines at least one type. */
export function schemasOption(value: unknown): EventSchemas | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof EventSchemas)) throw new InvalidArgumentError('schemas', `must be an EventSchemas (new EventSchemas().define(...)), got ${describeValue(value)}`);
  if (value.entries().length === 0) throw new InvalidArgumentError('schemas', 'defines no event type: every append would be refused');
  return value;
}

export const defaultStopTimeoutMs = 10_000;

export const batchDefaults = { maxBatchEvents: 500, maxBatchWaitMs: 100, stopTimeoutMs: 10_000, sessionTimeoutMs: 10_000 } as const;

export interface BatchSubscribeArguments {
  readonly settings: BatchSettings & { readonly checkpoints?: CheckpointStore };
  readonly from: SubscriptionStart;
}

/** The options of `subscribeBatches`, checked the same way by both stores. */
export function batchSubscribeArguments(options: unknown, handler: unknown, partitions: number, defaultLog: (line: string) => void): BatchSubscribeArguments {
  const given = validateOptions(options);
  if (typeof handler !== 'function') throw new InvalidArgumentError('handler', `must be a function, got ${describeValue(handler)}`);
  validateName(given.name, 'options.name', 200);
  const checkpoints = given.checkpoints;
  if (checkpoints !== undefined && (typeof checkpoints !== 'object' || checkpoints === null || !['claim', 'release', 'commit', 'next'].every((m) => typeof (checkpoints as Record<string, unknown>)[m] === 'function'))) {
    throw new InvalidArgumentError('options.checkpoints', `must be a checkpoint store (claim, release, commit, next), got ${describeValue(checkpoints)}`);
  }
  if (given.log !== undefined && typeof given.log !== 'function') throw new InvalidArgumentError('options.log', `must be a function (line) or undefined, got ${describeValue(given.log)}`);
  return {
    settings: {
      name: given.name,
      maxBatchEvents: integerOption(given.maxBatchEvents, 'options.maxBatchEvents', batchDefaults.maxBatchEvents, 1, 100_000),
      maxBatchWaitMs: integerOption(given.maxBatchWaitMs, 'options.maxBatchWaitMs', batchDefaults.maxBatchWaitMs, 0, 600_000),
      stopTimeoutMs: integerOption(given.stopTimeoutMs, 'options.stopTimeoutMs', batchDefaults.stopTimeoutMs, 1, maxTimeoutMs),
      sessionTimeoutMs: integerOption(given.sessionTimeoutMs, 'options.sessionTimeoutMs', batchDefaults.sessionTimeoutMs, 1_000, 3_600_000),
      ...(checkpoints === undefined ? {} : { checkpoints: checkpoints as CheckpointStore }),
      log: (given.log as ((line: string) => void) | undefined) ?? defaultLog,
    },
    from: validateSubscriptionStart(given.from, partitions),
  };
}

export const subscriptionStarts = ['start', 'end'] as const;

/** Offsets are 64-bit: a decimal string from 0 to 2^63 - 1. */
const offsetPattern = /^(0|[1-9][0-9]{0,18})$/;
const maxOffset = 2n ** 63n - 1n;

/** Checks `from` against the store's partitions and names the entry at fault. */
export function validateSubscriptionStart(from: unknown, partitions: number): SubscriptionStart {
  return guarded('options.from', () => checkSubscriptionStart(from, partitions));
}

function checkSubscriptionStart(from: unknown, partitions: number): SubscriptionStart {
  if (from === undefined) return 'start';
  if (typeof from === 'string' && (subscriptionStarts as readonly string[]).includes(from)) return from as SubscriptionStart;
  if (!Array.isArray(from)) throw new InvalidArgumentError('options.from', `must be 'start', 'end' or a list of positions { partition, offset }, got ${describeValue(from)}`);
  if (from.length > partitions) throw new InvalidArgumentError('options.from', `has ${from.length} positions; the store has ${partitions} partitions`);
  const seen = new Set<number>();
  const positions: Position[] = [];
  for (let i = 0; i < from.length; i++) {
    const argument = `options.from[${i}]`;
    if (!Object.hasOwn(from, i)) throw new InvalidArgumentError(argument, 'is missing (a sparse array)');
    const position: unknown = from[i];
    if (typeof position !== 'object' || position === null || Array.isArray(position)) throw new InvalidArgumentError(argument, `must be a position { partition, offset }, got ${describeValue(position)}`);
    const { partition, offset } = position as Record<string, unknown>;
    if (typeof partition !== 'number' || !Number.isSafeInteger(partition) || partition < 0 || partition >= partitions) {
      throw new InvalidArgumentError(`${argument}.partition`, `must be a partition of the store, an integer from 0 to ${partitions - 1}, got ${describeValue(partition)}`);
    }
    if (seen.has(partition)) throw new InvalidArgumentError(`${argument}.partition`, `partition ${partition} appears twice`);
    seen.add(partition);
    if (typeof offset !== 'string' || !offsetPattern.test(offset) || BigInt(offset) > maxOffset) {
      throw new InvalidArgumentError(`${argument}.offset`, `must be an offset as a decimal string from "0" to "${maxOffset}" (the position of the last event handled), got ${describeValue(offset)}`);
    }
    positions.push({ partition, offset });
  }
  return positions;
}


