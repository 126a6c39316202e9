// PostgreSQL connection settings for projections, the CLI and the tests: DATABASE_URL, or the
// PG* variables, over the defaults of this project's machines (127.0.0.1:5432, user postgres).
// `pg` is an optional peer dependency: it is loaded only when a pool is asked for.
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { InvalidArgumentError } from '../errors.js';
import { PostgresUnavailableError } from './errors.js';

export function postgresSettings(env: NodeJS.ProcessEnv = process.env): PoolConfig {
  if (env.DATABASE_URL) return { connectionString: env.DATABASE_URL };
  return {
    host: env.PGHOST ?? '127.0.0.1',
    port: Number(env.PGPORT ?? 5432),
    user: env.PGUSER ?? 'postgres',
    database: env.PGDATABASE ?? 'postgres',
    ...(env.PGPASSWORD === undefined ? {} : { password: env.PGPASSWORD }),
  };
}

/** Where the settings point, for messages (never the password). */
export function describeSettings(settings: PoolConfig): string {
  if (settings.connectionString) {
    try {
      const url = new URL(settings.connectionString);
      return `${url.hostname}:${url.port || 5432}${url.pathname} (DATABASE_URL)`;
    } catch {
      return 'DATABASE_URL (unparsable)';
    }
  }
  return `${settings.host}:${settings.port}/${settings.database} as ${settings.user}`;
}

/** A pool that has answered a first query; an unreachable server is PostgresUnavailableError naming where. */
export async function openPool(settings: PoolConfig = postgresSettings()): Promise<Pool> {
  let pg: typeof import('pg');
  try {
    pg = (await import('pg')).default as unknown as typeof import('pg');
  } catch (error) {
    throw new InvalidArgumentError('pg', `the package "pg" is needed for projections: npm install pg (${error instanceof Error ? error.message : String(error)})`);
  }
  const pool = new pg.Pool({ connectionTimeoutMillis: 5_000, ...settings });
  // An idle client that loses its server must not crash the process: the next query reports it.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new PostgresUnavailableError(describeSettings(settings), { cause: error });
  }
  return pool;
}

/**
 * A client of the pool that survives its server going away while checked out: a checked-out
 * client has no error listener of the pool's, and its 'error' event would crash the process.
 * The failing query reports the failure instead. `release(true)` destroys a broken one.
 */
export async function checkOut(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  const ignore = () => undefined;
  client.on('error', ignore);
  const release = client.release.bind(client);
  client.release = (destroy?: boolean | Error) => {
    client.off('error', ignore);
    release(destroy);
  };
  return client;
}

/** Runs `work` in one transaction on a checked-out client: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  const tx = await checkOut(pool);
  try {
    await tx.query('BEGIN');
    const result = await work(tx);
    await tx.query('COMMIT');
    return result;
  } catch (error) {
    await tx.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    tx.release();
  }
}
