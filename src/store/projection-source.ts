// What `store.project(...)` runs and what it runs against. The store knows no database: a
// projection (from `scribe/postgres`, say) brings its own runner, and runs it on the store's
// batch subscriptions and lag, which the Kafka store and the in-memory store both offer.
import { describeValue, InvalidArgumentError } from '../errors.js';
import type { Position } from '../streams/event.js';
import type { BatchHandler, BatchSubscribeOptions } from './batch-subscription.js';
import type { PartitionLag } from './lag.js';

/** A running batch subscription, whichever store it reads. */
export interface RunningBatches {
  /** Resolves when stopped; rejects with the handler's error, or the TimeoutError of a `stop()` that gave up on it. */
  readonly done: Promise<void>;
  /** The partitions this reader holds now. */
  readonly partitions: number[];
  /** The position of the last record handled in each partition this reader holds. */
  readonly lastPositions: Position[];
  /** Claims these partitions again and reads them from what the checkpoint store then holds. */
  reclaim(partitions: readonly number[]): void;
  stop(): Promise<void>;
}

/** What a projection's runner needs of a store. */
export interface ProjectionSource {
  /** The store's name: a projection's checkpoints are offsets in this store's log only. */
  readonly name: string;
  readonly partitions: number;
  subscribeBatches(options: BatchSubscribeOptions, handler: BatchHandler): Promise<RunningBatches>;
  lag(checkpoint: readonly Position[]): Promise<PartitionLag[]>;
}

/** A projection as `store.project` sees it: a name, and how to start running it on a store. */
export interface RunnableProjection<Options, Running extends RunningProjection> {
  readonly name: string;
  run(source: ProjectionSource, options: Options): Promise<Running>;
}

/** A projection running on a store. */
export interface RunningProjection {
  readonly name: string;
  /** Resolves when stopped; rejects when the projection's failure policy stopped it. */
  readonly done: Promise<void>;
  /** The partitions this process applies now (others may be shared with other processes). */
  readonly partitions: number[];
  stop(): Promise<void>;
  /** Where the projection stands (its shape is the projection kind's: positions, lag, state). */
  status(): Promise<unknown>;
}

/** `store.project` on either store: checks that it was given a projection, then runs it. */
export function runProjection<Options, Running extends RunningProjection>(source: ProjectionSource, projection: RunnableProjection<Options, Running>, options: Options): Promise<Running> {
  if (typeof projection !== 'object' || projection === null || typeof (projection as { run?: unknown }).run !== 'function') {
    throw new InvalidArgumentError('projection', `must be a projection, e.g. projection({ name, handle }) from scribe/postgres, got ${describeValue(projection)}`);
  }
  return projection.run(source, options);
}
