// How a partition writer gets its transactional producer: injected, so that a test can put a
// fault between the writer and Kafka without touching the Kafka client's classes.
import { kafkaErrorCodes } from '../kafka/errors.js';
import { KafkaOperationError, KafkaProducer, type ProducerOptions } from '../kafka/index.js';

/** What a partition writer uses of its producer. */
export type TransactionalProducer = Pick<
  KafkaProducer,
  'initTransactions' | 'beginTransaction' | 'send' | 'sendOffsetsToTransaction' | 'commitTransaction' | 'abortTransaction' | 'disconnect'
>;

/** Creates (and connects) a writer's producer; called again for each re-initialisation. */
export type ProducerFactory = (options: ProducerOptions) => Promise<TransactionalProducer>;

export const connectProducer: ProducerFactory = (options) => KafkaProducer.connect(options);

/**
 * Fences every earlier producer of the transactional id. The coordinator answers
 * CONCURRENT_TRANSACTIONS while it is still completing the previous owner's transaction
 * (writing its markers): wait and ask again, within `timeoutMs`.
 */
export async function initTransactions(producer: TransactionalProducer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      await producer.initTransactions(Math.max(1_000, deadline - Date.now()));
      return;
    } catch (error) {
      const retriable = error instanceof KafkaOperationError && (error.retriable || error.kafkaCode === kafkaErrorCodes.ERR_CONCURRENT_TRANSACTIONS);
      if (!retriable || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, 20 * 2 ** attempt)));
    }
  }
}

/**
 * The connect option (not part of the public ConnectOptions) through which a test hands a
 * store its writers' producer factory. A symbol, so no user can name it by accident.
 */
export const producerFactoryOption: unique symbol = Symbol('scribe.producerFactory');
