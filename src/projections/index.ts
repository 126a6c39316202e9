// Scribe's PostgreSQL projections: what a user imports from 'scribe/postgres' (needs `pg`).
export { projection, type Projection, type ProjectionDefinition } from './projection.js';
export { ProjectionRunner, failureActions, type FailureAction, type FailurePolicy, type ProjectOptions, type ProjectionRunnerOptions } from './runner.js';
export {
  parkedEvents,
  projectionNames,
  projectionStatus,
  projectionStates,
  rebuildProjection,
  replayParked,
  type ParkedEvent,
  type ProjectionAdminOptions,
  type ProjectionPartitionStatus,
  type ProjectionState,
  type ProjectionStatus,
} from './admin.js';
export { PostgresCheckpoints } from './checkpoints.js';
export { openPool, postgresSettings } from './connection.js';
export { PostgresUnavailableError, ProjectionFailedError, ProjectionNotFoundError } from './errors.js';
export { defaultSchema } from './schema.js';
