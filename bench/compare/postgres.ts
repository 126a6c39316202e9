// Emmett on PostgreSQL, the store Scribe is compared with: a fresh database per run (created
// and dropped through `pg`), Emmett's event store on a pool of our size, and the server facts
// that belong next to its figures (version, durability settings).
import { dumbo, endPool, type SQLExecutor } from '@event-driven-io/dumbo';
import { getPostgreSQLEventStore, type PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import pg from 'pg';

/** Where the comparison finds PostgreSQL unless --pg-url says otherwise (trust auth, as on CI). */
export const defaultPostgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface PostgresFacts {
  readonly serverVersion: string;
  /** Durability settings that decide what a commit costs: fsync and synchronous_commit. */
  readonly fsync: string;
  readonly synchronousCommit: string;
  readonly sharedBuffers: string;
  readonly maxConnections: number;
}

/** The URL of `database` on the same server as `serverUrl`. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs `body` with a client on the server's maintenance database; fails with a clear message when the server is not there. */
export async function withServer<T>(serverUrl: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`PostgreSQL is not reachable at ${redacted(serverUrl)} (${reason}): the comparison with Emmett needs a PostgreSQL server there (trust auth for user postgres), or --pg-url`, { cause: error });
  }
  try {
    return await body(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function postgresFacts(serverUrl: string): Promise<PostgresFacts> {
  return withServer(serverUrl, async (client) => {
    const setting = async (name: string) => (await client.query<{ setting: string }>('select current_setting($1) as setting', [name])).rows[0]!.setting;
    return {
      serverVersion: await setting('server_version'),
      fsync: await setting('fsync'),
      synchronousCommit: await setting('synchronous_commit'),
      sharedBuffers: await setting('shared_buffers'),
      maxConnections: Number(await setting('max_connections')),
    };
  });
}

/** A database of this run's own, e.g. scribe_bench_20261127t110500z_writes; dropped by `drop`. */
export class FreshDatabase {
  private constructor(
    readonly serverUrl: string,
    readonly name: string,
  ) {}

  static async create(serverUrl: string, name: string): Promise<FreshDatabase> {
    if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`database name "${name}" must be lower-case letters, digits and underscores`);
    // A database of this name left by a crashed run is ours to replace.
    await withServer(serverUrl, async (client) => {
      await client.query(`drop database if exists ${name} with (force)`);
      await client.query(`create database ${name}`);
    });
    return new FreshDatabase(serverUrl, name);
  }

  get url(): string {
    return databaseUrl(this.serverUrl, this.name);
  }

  async drop(): Promise<void> {
    await withServer(this.serverUrl, (client) => client.query(`drop database if exists ${this.name} with (force)`));
  }
}

export interface EmmettStore {
  readonly store: PostgresEventStore;
  /** Emmett's SQL executor on the same pool, for its lower-level readers (the global log's batch puller). */
  readonly execute: SQLExecutor;
  close(): Promise<void>;
}

/**
 * Emmett's PostgreSQL event store on a pool of `poolSize` connections (pg's default is 10;
 * the comparison gives Emmett as many connections as it has concurrent writers), its schema
 * migrated and its connections open before the clock starts.
 */
export async function connectEmmett(url: string, poolSize: number): Promise<EmmettStore> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle connection the server closes (the database dropped at the end of a failed run) must
  // not crash the process; queries in flight still fail on their own.
  pool.on('error', () => undefined);
  const store = getPostgreSQLEventStore(url, { connectionOptions: { pool } });
  await store.schema.migrate();
  // Every connection of the pool open before the clock starts, as Scribe's producers are connected and primed.
  await Promise.all(Array.from({ length: poolSize }, () => pool.query('select pg_sleep(0.01)')));
  return {
    store,
    execute: dumbo({ connectionString: url, pool }).execute,
    async close() {
      await store.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      // The schema migration runs on a pool of Emmett's own (dumbo's, cached by URL), which
      // stays open otherwise; dropping the database would then kill its idle connection.
      await endPool({ connectionString: url, force: true }).catch(() => undefined);
    },
  };
}

function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
