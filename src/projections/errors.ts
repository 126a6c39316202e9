// The errors of projections, each with a stable code.
import { ScribeError } from '../errors.js';
import type { Position } from '../streams/event.js';

/** PostgreSQL could not be reached with the settings given (DATABASE_URL, PG* or the defaults). */
export class PostgresUnavailableError extends ScribeError {
  readonly code = 'POSTGRES_UNAVAILABLE';
  override readonly retriable = true;
  constructor(where: string, options?: { cause?: unknown }) {
    const reason = options?.cause instanceof Error ? options.cause.message : String(options?.cause ?? 'no answer');
    super(`PostgreSQL at ${where} is unreachable (${reason}); set DATABASE_URL or PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE`, options);
  }
}

/** The projection's handler failed on an event after every attempt, and its failure policy is 'stop'. */
export class ProjectionFailedError extends ScribeError {
  readonly code = 'PROJECTION_FAILED';
  constructor(
    readonly projection: string,
    readonly position: Position,
    readonly attempts: number,
    options: { cause: unknown },
  ) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`projection ${projection} stopped: the event at partition ${position.partition} offset ${position.offset} failed ${attempts} times: ${reason}`, options);
  }
}

/** No projection of that name has run against this database (schema). */
export class ProjectionNotFoundError extends ScribeError {
  readonly code = 'PROJECTION_NOT_FOUND';
  constructor(readonly projection: string, schema: string) {
    super(`no projection "${projection}" in schema ${schema} (a runner creates it when it first starts)`);
  }
}
