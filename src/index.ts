// Scribe's public surface: everything a user imports from 'scribe'.
export { EventStore } from './store/connect.js';
export { KafkaEventStore, type RoutingStatus } from './store/event-store.js';
export type {
  AppendOptions,
  EventHandler,
  ExecuteOptions,
  HandleOptions,
  HandleResult,
  LoadOptions,
  ReadDirection,
  ReadStreamOptions,
  SubscribeOptions,
  Subscription,
  SubscriptionStart,
} from './contract/event-store.js';
export type { ConnectOptions } from './store/connect-options.js';
export type { GrowOptions, GrowthProgress, GrowthResult } from './store/growth.js';
export type { ShardMove } from './partitioning/routing.js';
export type { Decider, DomainEvent, LoadedState } from './aggregates/decider.js';
export type { ExecuteResult } from './aggregates/command-runner.js';
export type { SnapshotContext, SnapshotPolicy } from './aggregates/snapshot-policy.js';
export { jsonStateCodec, type StateCodec } from './aggregates/state-codec.js';
export { EventSchemas, into, UpcastInto, type JsonSchema, type UnknownEventPolicy, type Upcaster, type VersionedEvent } from './schemas/event-schemas.js';
export { compatibilityLevels, IncompatibleSchemaError, SchemaRegistryUnavailableError, type Compatibility, type SchemaRegistryOptions } from './schemas/schema-registry.js';
export { BatchSubscription, type BatchHandler, type BatchSubscribeOptions } from './store/batch-subscription.js';
export { CheckpointLostError, KafkaGroupCheckpoints, type Batch, type CheckpointStore } from './store/checkpoints.js';
export type { PartitionLag } from './store/lag.js';
export type { ProjectionSource, RunnableProjection, RunningBatches, RunningProjection } from './store/projection-source.js';
export type { AppendResult, EventData, JsonValue, Metadata, Position, RecordedEvent } from './streams/event.js';
export { matchesExpectedVersion, type ExpectedVersion } from './streams/expected-version.js';
export {
  AppendAbortedError,
  AppendOutcomeUnknownError,
  AppendRefusedError,
  CommandRejectedError,
  DeciderNotRegisteredError,
  EventIdConflictError,
  InvalidEventError,
  OwnershipChangedError,
  StoreClosedError,
  StreamNotFoundError,
  UnknownEventError,
  WriterFailedError,
  WrongExpectedVersionError,
} from './streams/errors.js';
export { InvalidArgumentError, ScribeError, TimeoutError } from './errors.js';
export {
  AuthenticationError,
  AuthorizationError,
  KafkaOperationError,
  TlsError,
  type AclResourceType,
  type KafkaSecurityOptions,
  type OAuthBearerToken,
  type OAuthBearerTokenProvider,
  type SaslOptions,
  type TlsFailure,
  type TlsOptions,
} from './kafka/index.js';
export { aclsFor, roles, type AclEntry, type Role } from './store/access.js';
export type { AbortOutcome, AppendOutcome, StoreEvent, StoreEventType, StoreListener } from './instrumentation/store-events.js';
export type { KafkaClientStatistics, RequestKind, TraceCarrier } from './instrumentation/store-events.js';
export type { OperationEnd, OperationStart, OperationTrace, StoreTracer, StoreTracing } from './instrumentation/tracing.js';
export type { StoreHealth } from './contract/event-store.js';
export { errorCodes, type ErrorCode } from './owner-protocol/error-codec.js';
export { partitionForKey } from './partitioning/murmur2.js';
