// Online growth of a live store (docs/decisions/0005-online-growth.md): add partitions to
// the store's topics, start a generation in the routing log, then hand every moving shard
// over: its old owner seals it, its new owner opens it. Resumable: running it again with
// the same target finishes what a crash left.
import pLimit from 'p-limit';
import { InvalidArgumentError, TimeoutError } from '../errors.js';
import type { KafkaAdmin } from '../kafka/index.js';
import type { RoutingLog } from '../partitioning/routing-log.js';
import { movesBetween, type ShardMove } from '../partitioning/routing.js';
import { encodeGeneration } from '../partitioning/routing-record.js';
import type { StoreTopics } from './topics.js';
import { functionOption, integerOption, maxTimeoutMs, validateOptions } from './validation.js';

export interface GrowthProgress {
  readonly generation: number;
  readonly partitions: number;
  /** Shard moves done (opened at their new partition) out of `total`. */
  readonly moved: number;
  readonly total: number;
  /** The move that just completed; `pauseMs`: how long its shard took no appends. */
  readonly completed?: { readonly from: number; readonly to: number; readonly pauseMs: number };
}

export interface GrowOptions {
  /** Called when growth starts and after every completed shard move. */
  readonly onProgress?: (progress: GrowthProgress) => void;
  /** Bound on each shard's hand-over (default 60 s). */
  readonly moveTimeoutMs?: number;
  /** Hand-overs in flight at once (default 4). */
  readonly concurrency?: number;
}

export interface GrowthResult {
  readonly generation: number;
  readonly partitions: number;
  readonly moves: readonly ShardMove[];
}

export interface GrowthContext {
  readonly admin: KafkaAdmin;
  readonly topics: StoreTopics;
  /** The writer group, whose members own the partitions. */
  readonly writerGroup: string;
  readonly routing: RoutingLog;
  /** Asks the owner of `from` to seal the shard that moves to `to`, retrying ownership changes. */
  seal(generation: number, from: number, to: number): Promise<unknown>;
}

/** Largest partition count `grow` accepts. */
const maxPartitions = 10_000;

export async function growStore(context: GrowthContext, partitions: number, given: GrowOptions = {}): Promise<GrowthResult> {
  integerOption(partitions, 'partitions', 0, 1, maxPartitions);
  const raw = validateOptions(given);
  const options: GrowOptions = {
    concurrency: integerOption(raw.concurrency, 'options.concurrency', 4, 1, 64),
    moveTimeoutMs: integerOption(raw.moveTimeoutMs, 'options.moveTimeoutMs', 60_000, 1, maxTimeoutMs),
    ...(raw.onProgress === undefined ? {} : { onProgress: functionOption<GrowOptions['onProgress']>(raw.onProgress, 'options.onProgress')! }),
  };
  const { routing, admin, topics } = context;
  await routing.caughtUp();
  const table = routing.table;
  if (table.pendingMoves().length > 0) {
    if (partitions !== table.partitions) {
      throw new InvalidArgumentError('partitions', `the growth to ${table.partitions} partitions is not finished; run it again with ${table.partitions} first`);
    }
  } else if (partitions < table.partitions) {
    throw new InvalidArgumentError('partitions', `a store never shrinks: it has ${table.partitions} partitions`);
  } else if (partitions > table.partitions) {
    try {
      movesBetween(table.partitions, partitions);
    } catch (error) {
      throw new InvalidArgumentError('partitions', (error as Error).message);
    }
    // The events topic last: connect checks that the others have at least as many partitions.
    for (const topic of [topics.appends, topics.snapshots, topics.events]) {
      if ((await admin.describeTopic(topic)).partitions < partitions) await admin.createPartitions(topic, partitions);
    }
    await routing.write([encodeGeneration(table.generation + 1, partitions)]);
    await routing.caughtUp();
  }

  // A shard sealed before its new partition has an owner would wait for one: let the writer
  // group hand out the new partitions first (a second or so), so a move only waits for the open.
  await ownersOfAll(context, partitions, Math.min(timeoutOf(options), 30_000));

  const generation = table.generation;
  const planned = table.plannedMoves();
  const total = planned.length;
  const timeoutMs = timeoutOf(options);
  let moved = total - table.pendingMoves().length;
  options.onProgress?.({ generation, partitions, moved, total });
  const limit = pLimit(options.concurrency ?? 4);
  await Promise.all(
    table.pendingMoves().map(({ from, to, state }) =>
      limit(async () => {
        if (state === 'planned') await context.seal(generation, from, to);
        const opened = await routing.waitForMove(generation, from, to, 'open', timeoutMs);
        if (!opened) throw new TimeoutError(`opening shard ${from}->${to} at partition ${to} (is a writer process running?)`, timeoutMs);
        moved++;
        options.onProgress?.({ generation, partitions, moved, total, completed: { from, to, pauseMs: (opened.openedTime ?? opened.sealedTime) - opened.sealedTime } });
      }),
    ),
  );
  return { generation, partitions, moves: table.currentMoves() };
}

function timeoutOf(options: GrowOptions): number {
  return options.moveTimeoutMs ?? 60_000;
}

/** Waits until the writer group holds every partition, or the time is up (the moves then wait for owners themselves). */
async function ownersOfAll(context: GrowthContext, partitions: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const assigned = await context.admin.assignedPartitions(context.writerGroup, context.topics.appends).catch(() => undefined);
    if (assigned && assigned.size >= partitions) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
