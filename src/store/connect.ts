// `EventStore.connect(...)`: the Kafka store behind the contract's name, so that user code
// types its stores as `EventStore` and connects with the same word.
import type { EventStore as StoreContract } from '../contract/event-store.js';
import type { ConnectOptions } from './connect-options.js';
import { KafkaEventStore } from './event-store.js';

export type EventStore = StoreContract;

export const EventStore = {
  /** Connects to (and creates, if needed) the store on Kafka. */
  connect(options: ConnectOptions): Promise<KafkaEventStore> {
    return KafkaEventStore.connect(options);
  },
} as const;
