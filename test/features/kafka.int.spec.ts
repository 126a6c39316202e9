// The contract on the Kafka store, against the real broker. `another` connects a second
// client with `writer: false`, so those checks also cross processes' owner protocol.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { EventStore, type KafkaEventStore } from '../../src/index.js';
import { owningAll } from '../support/ownership.js';
import { eventStoreContract } from './event-store-contract.js';

const brokers = inject('brokers');
const names = new WeakMap<object, string>();

eventStoreContract('Kafka', {
  open: async () => {
    const store = `contract-${randomUUID().slice(0, 8)}`;
    const opened = await EventStore.connect({ brokers, store, partitions: 3, dataDir: `.scribe/test/${randomUUID()}` });
    await owningAll(opened);
    names.set(opened, store);
    return opened;
  },
  another: async (of, options) => {
    const store = names.get(of)!;
    const client: KafkaEventStore = await EventStore.connect({ brokers, store, writer: false, dataDir: `.scribe/test/${randomUUID()}`, ...options });
    names.set(client, store);
    return client;
  },
});
