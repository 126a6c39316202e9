// Looking after projections from outside their runners: status with lag, rebuild (truncate
// and replay), parked events listed and sent back for replay.
import type { Pool } from 'pg';
import { InvalidArgumentError } from '../errors.js';
import type { ProjectionSource } from '../store/projection-source.js';
import type { PartitionLag } from '../store/lag.js';
import { validateName, validateOptions } from '../store/validation.js';
import { inTransaction } from './connection.js';
import { ProjectionNotFoundError } from './errors.js';
import { tablesIn, type Tables } from './schema.js';

export interface ProjectionAdminOptions {
  /** The schema of Scribe's projection tables (default 'scribe'). */
  readonly schema?: string;
}

export const projectionStates = ['live', 'catching-up', 'failed'] as const;
export type ProjectionState = (typeof projectionStates)[number];

export interface ProjectionPartitionStatus extends PartitionLag {
  /** The runner holding the partition's claim (host/pid/id), if any ever did. */
  readonly owner?: string;
  readonly epoch?: number;
  /** When its checkpoint last moved. */
  readonly updatedAt?: Date;
}

export interface ProjectionStatus {
  readonly name: string;
  /** The store whose events it applies. */
  readonly store: string;
  /** 'failed' once a runner stopped by its failure policy; else 'catching-up' while any partition lags, or 'live'. */
  readonly state: ProjectionState;
  readonly error?: string;
  readonly rebuilds: number;
  readonly parked: number;
  readonly tables: readonly string[];
  readonly partitions: readonly ProjectionPartitionStatus[];
}

export interface ParkedEvent {
  readonly id: string;
  readonly partition: number;
  readonly offset: string;
  readonly streamId: string;
  readonly version: number;
  readonly eventId: string;
  readonly type: string;
  readonly error: string;
  readonly attempts: number;
  readonly parkedAt: Date;
  readonly replayRequested: boolean;
  /** The event as the handler saw it (after upcasting). */
  readonly event: unknown;
}

function tablesOf(options: ProjectionAdminOptions | undefined): Tables {
  const given = validateOptions(options);
  return tablesIn(given.schema as string | undefined);
}

async function projectionRow(pool: Pool, tables: Tables, name: string): Promise<{ store: string; tables: string[]; state: string; error: string | null; rebuilds: number }> {
  const exists = await pool.query<{ found: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS found`, [tables.projections]);
  if (!exists.rows[0]?.found) throw new ProjectionNotFoundError(name, tables.schema);
  const { rows } = await pool.query<{ store: string; tables: string[]; state: string; error: string | null; rebuilds: number }>(`SELECT store, tables, state, error, rebuilds FROM ${tables.projections} WHERE name = $1`, [name]);
  if (!rows[0]) throw new ProjectionNotFoundError(name, tables.schema);
  return rows[0];
}

/** The names of the projections kept in this database (schema). */
export async function projectionNames(pool: Pool, options?: ProjectionAdminOptions): Promise<string[]> {
  const tables = tablesOf(options);
  const exists = await pool.query<{ found: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS found`, [tables.projections]);
  if (!exists.rows[0]?.found) return [];
  return (await pool.query<{ name: string }>(`SELECT name FROM ${tables.projections} ORDER BY name`)).rows.map((r) => r.name);
}

/** Where the projection stands: per partition its position, its lag in records and seconds, and its holder. */
export async function projectionStatus(store: Pick<ProjectionSource, 'name' | 'partitions' | 'lag'>, pool: Pool, name: string, options?: ProjectionAdminOptions): Promise<ProjectionStatus> {
  validateName(name, 'name', 100);
  const tables = tablesOf(options);
  const row = await projectionRow(pool, tables, name);
  if (row.store !== store.name) throw new InvalidArgumentError('store', `projection "${name}" keeps the read model of store "${row.store}", not "${store.name}"`);
  const { rows } = await pool.query<{ partition: number; next_offset: string; epoch: string; owner: string | null; updated_at: Date }>(
    `SELECT partition, next_offset, epoch, owner, updated_at FROM ${tables.checkpoints} WHERE projection = $1 ORDER BY partition`,
    [name],
  );
  const parked = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${tables.parked} WHERE projection = $1`, [name]);
  const checkpoint = rows.filter((r) => Number(r.next_offset) > 0 && r.partition < store.partitions).map((r) => ({ partition: r.partition, offset: String(Number(r.next_offset) - 1) }));
  const lag = await store.lag(checkpoint);
  const byPartition = new Map(rows.map((r) => [r.partition, r]));
  const partitions = lag.map((l) => {
    const r = byPartition.get(l.partition);
    return { ...l, ...(r?.owner ? { owner: r.owner } : {}), ...(r ? { epoch: Number(r.epoch), updatedAt: r.updated_at } : {}) };
  });
  const state: ProjectionState = row.state === 'failed' ? 'failed' : partitions.some((p) => p.events > 0) ? 'catching-up' : 'live';
  return { name, store: row.store, state, ...(row.error ? { error: row.error } : {}), rebuilds: row.rebuilds, parked: Number(parked.rows[0]?.n ?? 0), tables: row.tables, partitions };
}

/**
 * Rebuilds the read model from the log: in one transaction, empties the projection's tables,
 * forgets every checkpoint under a new epoch (runners start again from their `from`, by
 * default the log's first event) and drops its parked events.
 * Running runners lose their claims (their next batch is rolled back) and replay from the
 * start; until they catch up the read model shows the log's beginning.
 */
export async function rebuildProjection(pool: Pool, name: string, options?: ProjectionAdminOptions): Promise<void> {
  validateName(name, 'name', 100);
  const tables = tablesOf(options);
  await projectionRow(pool, tables, name);
  await inTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ tables: string[] }>(`SELECT tables FROM ${tables.projections} WHERE name = $1 FOR UPDATE`, [name]);
    const readModel = rows[0]?.tables ?? [];
    // The read model first, then the checkpoints: the order a batch takes its locks in, so a
    // running batch finishes (or waits) instead of deadlocking with the rebuild.
    if (readModel.length > 0) await tx.query(`LOCK TABLE ${readModel.join(', ')} IN ACCESS EXCLUSIVE MODE`);
    await tx.query(`UPDATE ${tables.checkpoints} SET next_offset = -1, epoch = epoch + 1, owner = NULL, last_event_at = NULL, updated_at = now() WHERE projection = $1`, [name]);
    if (readModel.length > 0) await tx.query(`TRUNCATE ${readModel.join(', ')}`);
    await tx.query(`DELETE FROM ${tables.parked} WHERE projection = $1`, [name]);
    await tx.query(`UPDATE ${tables.projections} SET rebuilds = rebuilds + 1, state = 'running', error = NULL, updated_at = now() WHERE name = $1`, [name]);
  });
}

/** The projection's parked events, oldest first. */
export async function parkedEvents(pool: Pool, name: string, options?: ProjectionAdminOptions): Promise<ParkedEvent[]> {
  validateName(name, 'name', 100);
  const tables = tablesOf(options);
  await projectionRow(pool, tables, name);
  const { rows } = await pool.query<{
    id: string;
    partition: number;
    offset: string;
    stream_id: string;
    version: number;
    event_id: string;
    type: string;
    error: string;
    attempts: number;
    parked_at: Date;
    replay_requested: boolean;
    event: unknown;
  }>(`SELECT * FROM ${tables.parked} WHERE projection = $1 ORDER BY id`, [name]);
  return rows.map((r) => ({
    id: r.id,
    partition: r.partition,
    offset: r.offset,
    streamId: r.stream_id,
    version: r.version,
    eventId: r.event_id,
    type: r.type,
    error: r.error,
    attempts: r.attempts,
    parkedAt: r.parked_at,
    replayRequested: r.replay_requested,
    event: r.event,
  }));
}

/**
 * Asks the projection's runners to apply parked events again (all of them, or those ids): one
 * that succeeds leaves the parked events, one that fails stays with its new error. Returns how
 * many were marked.
 */
export async function replayParked(pool: Pool, name: string, ids?: readonly string[], options?: ProjectionAdminOptions): Promise<number> {
  validateName(name, 'name', 100);
  if (ids !== undefined && (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string' && /^[0-9]{1,18}$/.test(id)))) {
    throw new InvalidArgumentError('ids', 'must be a list of parked event ids (decimal strings)');
  }
  const tables = tablesOf(options);
  await projectionRow(pool, tables, name);
  const result =
    ids === undefined
      ? await pool.query(`UPDATE ${tables.parked} SET replay_requested = true WHERE projection = $1`, [name])
      : await pool.query(`UPDATE ${tables.parked} SET replay_requested = true WHERE projection = $1 AND id = ANY($2::bigint[])`, [name, ids]);
  return result.rowCount ?? 0;
}
