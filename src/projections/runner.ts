// Runs a projection: reads the store in batches (partitions shared with the other runners of
// the same projection), applies each batch and moves its checkpoint in one PostgreSQL
// transaction, applies the failure policy, and replays parked events on request.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { describeValue, InvalidArgumentError } from '../errors.js';
import type { SubscriptionStart } from '../contract/event-store.js';
import type { ProjectionSource, RunningBatches, RunningProjection } from '../store/projection-source.js';
import { CheckpointLostError, type Batch } from '../store/checkpoints.js';
import { integerOption, messageOf, oneOf, validateOptions } from '../store/validation.js';
import type { RecordedEvent } from '../streams/event.js';
import { PostgresCheckpoints } from './checkpoints.js';
import { checkOut, inTransaction } from './connection.js';
import { projectionStatus, type ProjectionStatus } from './admin.js';
import { ProjectionFailedError } from './errors.js';
import type { Projection } from './projection.js';
import { ensureTables, tablesIn, type Tables } from './schema.js';

export const failureActions = ['park', 'stop'] as const;
export type FailureAction = (typeof failureActions)[number];

export interface FailurePolicy {
  /** Attempts at an event that fails, one at a time, before `then` (default 3). */
  readonly maxAttempts?: number;
  /** Waits between attempts: doubling from `initialMs`, capped at `maxMs` (default 100 ms and 5 s). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** 'park' (default): the event goes to the parked events with its error and the projection goes on; 'stop': the runner stops with ProjectionFailedError. */
  readonly then?: FailureAction;
}

/** How a projection runs: everything but the store and the projection (what `store.project(projection, options)` takes). */
export type ProjectOptions = Omit<ProjectionRunnerOptions, 'store' | 'projection'>;

export interface ProjectionRunnerOptions {
  /** The store whose events it applies: the Kafka store, or the in-memory store of `scribe/testing`. */
  readonly store: ProjectionSource;
  /** The read model's database; the runner takes a client per batch and gives it back. */
  readonly pool: Pool;
  readonly projection: Projection;
  /** The PostgreSQL schema of Scribe's own tables: checkpoints, parked events (default 'scribe'). */
  readonly schema?: string;
  /**
   * Where a partition starts while the projection has no checkpoint for it (as `subscribe`'s
   * `from`; default 'start'). A rebuild forgets the checkpoints: the replay starts here too.
   */
  readonly from?: SubscriptionStart;
  /** A batch holds at most this many events (default 500). */
  readonly maxBatchEvents?: number;
  /** A batch is applied at most this long after its first event was read (default 100 ms). */
  readonly maxBatchWaitMs?: number;
  readonly onError?: FailurePolicy;
  /**
   * A batch transaction left idle this long (its runner frozen or cut off) is ended by the
   * server, which frees its locks for the partition's next holder (default 30 s).
   */
  readonly transactionIdleTimeoutMs?: number;
  /** How long a frozen runner keeps its partitions before another takes them over (default 10 s). */
  readonly sessionTimeoutMs?: number;
  /** How often the runner looks for parked events to replay and checkpoints moved by a rebuild (default 1 s). */
  readonly pollIntervalMs?: number;
  readonly stopTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

interface Settings {
  readonly maxAttempts: number;
  readonly initialMs: number;
  readonly maxMs: number;
  readonly then: FailureAction;
  readonly idleTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly log: (line: string) => void;
}

/** Statements of the runner's own (not the handler's): their failure loses the batch, not the event. */
async function own(tx: PoolClient, sql: string, values?: unknown[]): Promise<void> {
  try {
    await tx.query(sql, values);
  } catch (error) {
    throw new CheckpointLostError([], `PostgreSQL failed on "${sql.split(/\s+/).slice(0, 3).join(' ')}": ${messageOf(error)}`, { cause: error });
  }
}

export class ProjectionRunner implements RunningProjection {
  private subscription!: RunningBatches;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private stopped = false;

  private constructor(
    private readonly store: ProjectionSource,
    private readonly pool: Pool,
    private readonly projection: Projection,
    private readonly tables: Tables,
    private readonly checkpoints: PostgresCheckpoints,
    private readonly settings: Settings,
  ) {}

  /** Creates Scribe's tables and the read model's (init) if needed, then starts reading. */
  static async start(options: ProjectionRunnerOptions): Promise<ProjectionRunner> {
    const given = validateOptions(options);
    const { store, pool, projection } = given as unknown as ProjectionRunnerOptions;
    if (typeof store !== 'object' || store === null || typeof (store as ProjectionSource).subscribeBatches !== 'function') throw new InvalidArgumentError('options.store', `must be an EventStore, got ${describeValue(store)}`);
    if (typeof pool !== 'object' || pool === null || typeof (pool as Pool).connect !== 'function') throw new InvalidArgumentError('options.pool', `must be a pg Pool, got ${describeValue(pool)}`);
    if (typeof projection !== 'object' || projection === null || !Object.isFrozen(projection) || typeof projection.handle !== 'function') {
      throw new InvalidArgumentError('options.projection', `must be made by projection({ name, handle }), got ${describeValue(projection)}`);
    }
    const tables = tablesIn(given.schema as string | undefined);
    const policy = validateOptions(given.onError, 'options.onError');
    const backoff = validateOptions(policy.backoff, 'options.onError.backoff');
    const initialMs = integerOption(backoff.initialMs, 'options.onError.backoff.initialMs', 100, 0, 60_000);
    const log = (given.log as ((line: string) => void) | undefined) ?? (() => undefined);
    const settings: Settings = {
      maxAttempts: integerOption(policy.maxAttempts, 'options.onError.maxAttempts', 3, 1, 1_000),
      initialMs,
      maxMs: integerOption(backoff.maxMs, 'options.onError.backoff.maxMs', Math.max(initialMs, 5_000), initialMs, 600_000),
      then: oneOf(policy.then, 'options.onError.then', failureActions, 'park'),
      idleTimeoutMs: integerOption(given.transactionIdleTimeoutMs, 'options.transactionIdleTimeoutMs', 30_000, 100, 3_600_000),
      pollIntervalMs: integerOption(given.pollIntervalMs, 'options.pollIntervalMs', 1_000, 10, 3_600_000),
      log,
    };
    await inTransaction(pool, async (client) => {
      await ensureTables(client, tables);
      const { rows } = await client.query<{ store: string }>(
        `INSERT INTO ${tables.projections} AS p (name, store, tables) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET tables = EXCLUDED.tables, updated_at = now() RETURNING p.store`,
        [projection.name, store.name, projection.tables],
      );
      // Its checkpoints are offsets in one store's log: they mean nothing in another's.
      if (rows[0]?.store !== store.name) {
        throw new InvalidArgumentError('options.projection', `projection "${projection.name}" in schema ${tables.schema} keeps the read model of store "${rows[0]?.store}", not "${store.name}": give it another name or schema`);
      }
      if (projection.init) await projection.init(client);
    });
    const owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    const checkpoints = new PostgresCheckpoints(pool, tables, projection.name, owner, settings.idleTimeoutMs * 2);
    const runner = new ProjectionRunner(store, pool, projection, tables, checkpoints, settings);
    runner.subscription = await store.subscribeBatches(
      {
        name: `projection.${projection.name}`,
        checkpoints,
        log,
        ...(given.from === undefined ? {} : { from: given.from as SubscriptionStart }),
        ...(given.maxBatchEvents === undefined ? {} : { maxBatchEvents: given.maxBatchEvents as number }),
        ...(given.maxBatchWaitMs === undefined ? {} : { maxBatchWaitMs: given.maxBatchWaitMs as number }),
        ...(given.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: given.sessionTimeoutMs as number }),
        ...(given.stopTimeoutMs === undefined ? {} : { stopTimeoutMs: given.stopTimeoutMs as number }),
      },
      (batch) => runner.apply(batch),
    );
    runner.timer = setInterval(() => void runner.poll(), settings.pollIntervalMs);
    void runner.subscription.done.catch((error: unknown) => runner.failed(error)).finally(() => clearInterval(runner.timer));
    return runner;
  }

  /** Resolves when the runner has stopped; rejects with ProjectionFailedError when the failure policy stopped it. */
  get done(): Promise<void> {
    return this.subscription.done;
  }

  get name(): string {
    return this.projection.name;
  }

  /** Where the projection stands, across all its runners: per partition its position, lag and holder; parked events; state. */
  status(): Promise<ProjectionStatus> {
    return projectionStatus(this.store, this.pool, this.projection.name, { schema: this.tables.schema });
  }

  /** The partitions this runner holds now. */
  get partitions(): number[] {
    return this.subscription.partitions;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.subscription.stop();
    while (this.polling) await new Promise((r) => setTimeout(r, 10));
  }

  /** One transaction: the handler's writes, parked events, the checkpoint. */
  private async apply(batch: Batch): Promise<void> {
    let tx: PoolClient;
    try {
      tx = await checkOut(this.pool);
    } catch (error) {
      throw new CheckpointLostError([], `PostgreSQL unreachable: ${messageOf(error)}`, { cause: error });
    }
    let broken = false;
    try {
      await this.begin(tx);
      let failed = false;
      try {
        await this.projection.handle(batch, tx);
      } catch {
        failed = true;
      }
      if (failed) {
        await own(tx, 'ROLLBACK');
        await this.begin(tx);
        for (const event of batch.events) await this.applyAlone(tx, event);
      }
      await this.checkpoints.advanceAndCommit(tx, batch);
    } catch (error) {
      await tx.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      tx.release(broken);
    }
  }

  private async begin(tx: PoolClient): Promise<void> {
    // One round trip: a frozen runner's transaction is ended by the server after the timeout.
    await own(tx, `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${this.settings.idleTimeoutMs}`);
  }

  /** An event of a failed batch, alone: attempts with backoff, then parked (in the same transaction) or the runner stops. */
  private async applyAlone(tx: PoolClient, event: RecordedEvent): Promise<void> {
    const { maxAttempts, initialMs, maxMs } = this.settings;
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      await own(tx, 'SAVEPOINT scribe_event');
      try {
        await this.projection.handle({ events: [event], checkpoint: [] }, tx);
        await own(tx, 'RELEASE SAVEPOINT scribe_event');
        return;
      } catch (error) {
        if (error instanceof CheckpointLostError) throw error;
        lastError = error;
        await own(tx, 'ROLLBACK TO SAVEPOINT scribe_event');
        if (attempt < maxAttempts) await new Promise((r) => setTimeout(r, Math.min(maxMs, initialMs * 2 ** (attempt - 1))));
      }
    }
    if (this.settings.then === 'stop') throw new ProjectionFailedError(this.projection.name, event.position, maxAttempts, { cause: lastError });
    this.settings.log(`projection ${this.projection.name}: parked the event at ${event.position.partition}/${event.position.offset} (${event.type} of ${event.streamId}): ${messageOf(lastError)}`);
    await own(
      tx,
      `INSERT INTO ${this.tables.parked} (projection, partition, "offset", stream_id, version, event_id, type, event, error, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [this.projection.name, event.position.partition, event.position.offset, event.streamId, event.version, event.id, event.type, JSON.stringify(event), messageOf(lastError), maxAttempts],
    );
  }

  /** Records why the runner stopped, for `scribe projections status`. */
  private async failed(error: unknown): Promise<void> {
    if (!(error instanceof ProjectionFailedError)) return;
    await this.pool.query(`UPDATE ${this.tables.projections} SET state = 'failed', error = $2, updated_at = now() WHERE name = $1`, [this.projection.name, error.message]).catch(() => undefined);
  }

  /** Between batches: re-reads partitions whose checkpoint was moved by a rebuild, and replays parked events asked for. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const moved = await this.checkpoints.superseded();
      if (moved.length > 0) {
        this.settings.log(`projection ${this.projection.name}: partitions ${moved.join(',')} were claimed since (a rebuild?); reading them again`);
        this.subscription.reclaim(moved);
      }
      await this.replayParked();
    } catch (error) {
      this.settings.log(`projection ${this.projection.name}: ${messageOf(error)}`);
    } finally {
      this.polling = false;
    }
  }

  /**
   * Applies the parked events asked for in their original order (by partition, then offset),
   * one runner at a time. An event that fails again keeps the later parked events of its
   * stream parked too (they would be applied ahead of it), each saying why.
   */
  private async replayParked(): Promise<void> {
    const asked = await this.pool.query(`SELECT 1 FROM ${this.tables.parked} WHERE projection = $1 AND replay_requested LIMIT 1`, [this.projection.name]);
    if (asked.rowCount === 0) return;
    await inTransaction(this.pool, async (tx) => {
      // Two runners replaying at once could apply a stream's later parked event first.
      const { rows: turn } = await tx.query<{ mine: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS mine', [`scribe.replay.${this.tables.schema}.${this.projection.name}`]);
      if (!turn[0]?.mine) return;
      const { rows } = await tx.query<{ id: string; event: RecordedEvent & { timestamp: string } }>(
        `SELECT id, event FROM ${this.tables.parked} WHERE projection = $1 AND replay_requested ORDER BY partition, "offset", id LIMIT 100 FOR UPDATE`,
        [this.projection.name],
      );
      const failed = new Map<string, string>();
      for (const row of rows) {
        const event: RecordedEvent = { ...row.event, timestamp: new Date(row.event.timestamp) };
        const before = failed.get(event.streamId);
        if (before !== undefined) {
          await tx.query(`UPDATE ${this.tables.parked} SET replay_requested = false, error = $2 WHERE id = $1`, [row.id, `not replayed: the earlier parked event ${before} of its stream failed again`]);
          continue;
        }
        await tx.query('SAVEPOINT scribe_replay');
        try {
          await this.projection.handle({ events: [event], checkpoint: [] }, tx);
          await tx.query('RELEASE SAVEPOINT scribe_replay');
          await tx.query(`DELETE FROM ${this.tables.parked} WHERE id = $1`, [row.id]);
          this.settings.log(`projection ${this.projection.name}: replayed parked event ${row.id}`);
        } catch (error) {
          await tx.query('ROLLBACK TO SAVEPOINT scribe_replay');
          failed.set(event.streamId, row.id);
          await tx.query(`UPDATE ${this.tables.parked} SET replay_requested = false, error = $2, attempts = attempts + 1 WHERE id = $1`, [row.id, messageOf(error)]);
        }
      }
    });
  }
}
