// `scribe/testing`: what users' unit tests import. The in-memory store keeps the Kafka store's
// rules and errors without a broker; the decider specification tests deciders with no store.
export { InMemoryEventStore, type InMemoryStoreOptions } from './in-memory-event-store.js';
export { DeciderSpecification, type DeciderGiven, type DeciderOutcome, type RefusalCheck } from './decider-specification.js';
