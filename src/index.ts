// Scribe's public surface: everything a user imports from 'scribe'.
export { EventStore, type AppendOptions, type ConnectOptions, type ReadStreamOptions } from './store/event-store.js';
export { Subscription, type EventHandler, type SubscribeOptions, type SubscriptionStart } from './store/subscription.js';
export type { AppendResult, EventData, JsonValue, Metadata, Position, RecordedEvent } from './streams/event.js';
export { matchesExpectedVersion, type ExpectedVersion } from './streams/expected-version.js';
export {
  AppendAbortedError,
  AppendOutcomeUnknownError,
  EventIdConflictError,
  InvalidEventError,
  OwnershipChangedError,
  StoreClosedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from './streams/errors.js';
export { InvalidArgumentError, ScribeError, TimeoutError } from './errors.js';
export { KafkaOperationError } from './kafka/index.js';
export { partitionForKey } from './partitioning/murmur2.js';
