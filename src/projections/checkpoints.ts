// Projection checkpoints in PostgreSQL, committed in the batch's own transaction. Claiming a
// partition raises its epoch; a batch's checkpoint moves only while the row still has the
// epoch this runner claimed, so a runner that lost a partition (frozen, cut off) cannot
// commit a batch after the new holder's: its transaction is rolled back, read model included.
import type { Pool, PoolClient } from 'pg';
import { CheckpointLostError, type Batch, type CheckpointStore } from '../store/checkpoints.js';
import type { Position } from '../streams/event.js';
import { checkpointLostCode, type Tables } from './schema.js';
import { checkOut } from './connection.js';

export class PostgresCheckpoints implements CheckpointStore {
  /** The epoch of each partition this runner claimed. */
  private readonly epochs = new Map<number, number>();

  constructor(
    private readonly pool: Pool,
    private readonly tables: Tables,
    private readonly projection: string,
    private readonly owner: string,
    private readonly claimTimeoutMs: number,
  ) {}

  async claim(partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    const client = await checkOut(this.pool);
    try {
      // A row locked by a frozen runner's open transaction waits for the server to end it
      // (idle_in_transaction_session_timeout); the claim gives up after claimTimeoutMs and is tried again.
      await client.query(`SET statement_timeout = ${Math.floor(this.claimTimeoutMs)}`);
      const { rows } = await client.query<{ partition: number; next_offset: string; epoch: string }>(
        // A new row holds no checkpoint yet (-1): the partition starts at the subscription's `from`.
        `INSERT INTO ${this.tables.checkpoints} AS c (projection, partition, next_offset, owner)
           SELECT $1, p, -1, $3 FROM unnest($2::int[]) AS p
         ON CONFLICT (projection, partition) DO UPDATE SET epoch = c.epoch + 1, owner = EXCLUDED.owner, updated_at = now()
         RETURNING partition, next_offset, epoch`,
        [this.projection, partitions, this.owner],
      );
      await client.query('SET statement_timeout = 0');
      const next = new Map<number, number>();
      for (const row of rows) {
        this.epochs.set(row.partition, Number(row.epoch));
        next.set(row.partition, Number(row.next_offset));
      }
      return next;
    } finally {
      client.release();
    }
  }

  release(partitions: readonly number[]): void {
    for (const partition of partitions) this.epochs.delete(partition);
  }

  async commit(): Promise<void> {
    // Committed with the batch (advance).
  }

  async next(partition: number): Promise<number> {
    const { rows } = await this.pool.query<{ next_offset: string }>(`SELECT next_offset FROM ${this.tables.checkpoints} WHERE projection = $1 AND partition = $2`, [this.projection, partition]);
    return rows[0] ? Number(rows[0].next_offset) : -1;
  }

  /** Partitions this runner holds whose epoch has changed since it claimed them (a rebuild, another runner). */
  async superseded(): Promise<number[]> {
    if (this.epochs.size === 0) return [];
    const { rows } = await this.pool.query<{ partition: number; epoch: string }>(`SELECT partition, epoch FROM ${this.tables.checkpoints} WHERE projection = $1 AND partition = ANY($2::int[])`, [
      this.projection,
      [...this.epochs.keys()],
    ]);
    return rows.filter((row) => this.epochs.has(row.partition) && this.epochs.get(row.partition) !== Number(row.epoch)).map((row) => row.partition);
  }

  /**
   * Ends the batch's transaction in one round trip: moves each partition's checkpoint past
   * the batch if this runner's claim still holds, then COMMIT. A claim lost since (the epoch
   * moved on) raises in the server before COMMIT, so nothing of the batch is committed; that,
   * or a failure of the server, is CheckpointLostError (the caller rolls back).
   */
  async advanceAndCommit(tx: PoolClient, batch: Batch): Promise<void> {
    if (batch.checkpoint.length === 0) return this.ownCommit(tx, 'COMMIT', []);
    const partitions = batch.checkpoint.map((p: Position) => p.partition);
    const unclaimed = partitions.filter((p) => !this.epochs.has(p));
    if (unclaimed.length > 0) throw new CheckpointLostError(unclaimed, 'not claimed by this runner');
    const latest = new Map<number, Date>();
    for (const event of batch.events) latest.set(event.position.partition, event.timestamp);
    // A simple query (no parameters) can carry COMMIT in the same round trip: every value is
    // a number this runner made, a timestamp, or the projection's name escaped by pg.
    const rows = batch.checkpoint.map((p) => {
      const at = latest.get(p.partition);
      return `(${p.partition}, ${BigInt(p.offset) + 1n}::bigint, ${this.epochs.get(p.partition)!}::bigint, ${at ? `'${at.toISOString()}'` : 'NULL'}::timestamptz)`;
    });
    const sql = `WITH v (partition, next, epoch, at) AS (VALUES ${rows.join(', ')}),
      moved AS (
        UPDATE ${this.tables.checkpoints} AS c
           SET next_offset = v.next, last_event_at = COALESCE(v.at, c.last_event_at), updated_at = now()
          FROM v
         WHERE c.projection = ${tx.escapeLiteral(this.projection)} AND c.partition = v.partition AND c.epoch = v.epoch
        RETURNING c.partition)
      SELECT ${this.tables.checkpointLost}(array_agg(v.partition)) FROM v WHERE v.partition NOT IN (SELECT partition FROM moved) HAVING count(*) > 0;
      COMMIT`;
    return this.ownCommit(tx, sql, partitions);
  }

  private async ownCommit(tx: PoolClient, sql: string, partitions: number[]): Promise<void> {
    try {
      await tx.query(sql);
    } catch (error) {
      const { code, detail } = error as { code?: string; detail?: string };
      if (code === checkpointLostCode) {
        const lost = (detail ?? '').split(',').filter((p) => p !== '').map(Number);
        for (const partition of lost) this.epochs.delete(partition);
        throw new CheckpointLostError(lost, 'claimed by another runner since (its epoch moved on)', { cause: error });
      }
      // The connection is gone (the server ended a transaction left idle too long, say): the
      // outcome of COMMIT is unknown, and claiming again reads whatever the database holds.
      throw new CheckpointLostError(partitions, `PostgreSQL failed on the checkpoint: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}
