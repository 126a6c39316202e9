// The contract on the in-memory store (`scribe/testing`): no broker, milliseconds.
import { InMemoryEventStore } from '../../src/testing/index.js';
import { eventStoreContract } from './event-store-contract.js';

eventStoreContract('in memory', {
  open: async () => new InMemoryEventStore({ partitions: 3 }),
  another: async (store, options) => (store as InMemoryEventStore).another(options),
});
