// A projection: a named handler that turns batches of events into writes to read-model
// tables, inside the PostgreSQL transaction that also moves its checkpoint.
import type { PoolClient } from 'pg';
import { describeValue, InvalidArgumentError } from '../errors.js';
import type { Batch } from '../store/checkpoints.js';
import type { ProjectionSource, RunnableProjection } from '../store/projection-source.js';
import { validateName, validateOptions } from '../store/validation.js';
import { ProjectionRunner, type ProjectOptions } from './runner.js';

export interface ProjectionDefinition {
  /** Names the projection: its checkpoints, its Kafka group and its parked events. */
  readonly name: string;
  /**
   * The read model's tables (schema-qualified where needed): a rebuild empties them before it
   * replays the log. A table the handler writes and that is not listed keeps its rows.
   */
  readonly tables?: readonly string[];
  /** Creates the read model's tables if needed; runs when a runner starts, in a transaction. */
  readonly init?: (tx: PoolClient) => Promise<void>;
  /**
   * Applies a batch's events with `tx`. Do not commit or roll it back: the runner commits the
   * writes and the checkpoint together. After a failure the batch's events are handed over
   * again one at a time (the checkpoint of such a batch is empty).
   */
  readonly handle: (batch: Batch, tx: PoolClient) => Promise<void> | void;
}

/**
 * A checked projection. `store.project(projection, { pool, ... })` runs it (as
 * `ProjectionRunner.start({ store, projection, pool, ... })` does): the store needs no `pg`,
 * the projection brings its runner.
 */
export type Projection = Readonly<Required<Omit<ProjectionDefinition, 'init'>> & Pick<ProjectionDefinition, 'init'>> & RunnableProjection<ProjectOptions, ProjectionRunner>;

/** A table name: identifiers, optionally schema-qualified, optionally double-quoted. */
const tableName = /^("[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)(\.("[^"]+"|[A-Za-z_][A-Za-z0-9_$]*))?$/;

/** Checks a projection's definition and returns it frozen. */
export function projection(definition: ProjectionDefinition): Projection {
  const given = validateOptions(definition, 'definition');
  validateName(given.name, 'definition.name', 100);
  if (typeof given.handle !== 'function') throw new InvalidArgumentError('definition.handle', `must be a function (batch, tx), got ${describeValue(given.handle)}`);
  if (given.init !== undefined && typeof given.init !== 'function') throw new InvalidArgumentError('definition.init', `must be a function (tx) or undefined, got ${describeValue(given.init)}`);
  const tables = given.tables ?? [];
  if (!Array.isArray(tables)) throw new InvalidArgumentError('definition.tables', `must be a list of table names, got ${describeValue(tables)}`);
  tables.forEach((table: unknown, i) => {
    if (typeof table !== 'string' || !tableName.test(table)) throw new InvalidArgumentError(`definition.tables[${i}]`, `must be a table name (schema.table), got ${describeValue(table)}`);
  });
  const checked: Projection = Object.freeze({
    name: given.name,
    tables: Object.freeze([...(tables as string[])]),
    handle: given.handle as Projection['handle'],
    ...(given.init === undefined ? {} : { init: given.init as ProjectionDefinition['init'] }),
    run(store: ProjectionSource, options: ProjectOptions): Promise<ProjectionRunner> {
      validateOptions(options);
      return ProjectionRunner.start({ ...options, store, projection: checked });
    },
  });
  return checked;
}
