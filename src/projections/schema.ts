// The tables Scribe keeps beside a projection's read model, in their own PostgreSQL schema:
// the projections, their checkpoints (one row per partition, with the claim's epoch) and
// their parked events.
import type { PoolClient } from 'pg';
import { InvalidArgumentError } from '../errors.js';

export const defaultSchema = 'scribe';

/** The schema's tables, quoted. */
export interface Tables {
  readonly schema: string;
  readonly projections: string;
  readonly checkpoints: string;
  readonly parked: string;
  /** The function a batch's commit calls when its claim was lost: it raises `checkpointLostCode`. */
  readonly checkpointLost: string;
}

/** The SQLSTATE of a batch whose claim was lost (its class SC is no standard one); the detail lists the partitions. */
export const checkpointLostCode = 'SC001';

export function tablesIn(schema: string = defaultSchema, argument = 'options.schema'): Tables {
  if (typeof schema !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new InvalidArgumentError(argument, `must be a PostgreSQL schema name (letters, digits, _), got ${JSON.stringify(schema)}`);
  }
  const q = `"${schema}"`;
  return { schema, projections: `${q}.projections`, checkpoints: `${q}.projection_checkpoints`, parked: `${q}.parked_events`, checkpointLost: `${q}.checkpoint_lost` };
}

/** Creates the schema and tables if missing; runners starting together take turns. */
export async function ensureTables(tx: PoolClient, tables: Tables): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`scribe.projections.${tables.schema}`]);
  await tx.query(`CREATE SCHEMA IF NOT EXISTS "${tables.schema}"`);
  await tx.query(`CREATE TABLE IF NOT EXISTS ${tables.projections} (
    name text PRIMARY KEY,
    store text NOT NULL,
    tables text[] NOT NULL DEFAULT '{}',
    state text NOT NULL DEFAULT 'running',
    error text,
    rebuilds integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now())`);
  await tx.query(`CREATE TABLE IF NOT EXISTS ${tables.checkpoints} (
    projection text NOT NULL,
    partition integer NOT NULL,
    next_offset bigint NOT NULL DEFAULT 0,
    epoch bigint NOT NULL DEFAULT 1,
    owner text,
    last_event_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, partition))`);
  await tx.query(`CREATE TABLE IF NOT EXISTS ${tables.parked} (
    id bigserial PRIMARY KEY,
    projection text NOT NULL,
    partition integer NOT NULL,
    "offset" bigint NOT NULL,
    stream_id text NOT NULL,
    version integer NOT NULL,
    event_id text NOT NULL,
    type text NOT NULL,
    event jsonb NOT NULL,
    error text NOT NULL,
    attempts integer NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now(),
    replay_requested boolean NOT NULL DEFAULT false)`);
  await tx.query(`CREATE OR REPLACE FUNCTION ${tables.checkpointLost}(lost integer[]) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'checkpoint of partitions % claimed by another runner since', lost USING ERRCODE = '${checkpointLostCode}', DETAIL = array_to_string(lost, ',');
    END $$`);
}
