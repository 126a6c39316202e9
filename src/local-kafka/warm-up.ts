// Proves a fresh cluster serves what Scribe needs (a transaction and a consumer group) and
// makes the broker create __transaction_state and __consumer_offsets before any test runs.
import { KafkaAdmin, KafkaConsumer, KafkaProducer, type KafkaConnection } from '../kafka/index.js';

const topic = '__scribe_warmup';

export async function warmUp(through: KafkaConnection, replicationFactor: number, timeoutMs = 90_000): Promise<void> {
  const connection = { ...through, clientId: 'scribe-warmup' };
  const admin = KafkaAdmin.connect(connection);
  try {
    await admin.createTopic({ name: topic, partitions: 1, replicationFactor });
  } finally {
    await admin.disconnect();
  }

  const producer = await KafkaProducer.connect({ ...connection, transactionalId: 'scribe-warmup' });
  const marker = `${Date.now()}-${Math.random()}`;
  try {
    await producer.initTransactions(timeoutMs);
    await producer.beginTransaction();
    await producer.send({ topic, key: 'warm-up', value: Buffer.from(marker) });
    await producer.commitTransaction(timeoutMs);
  } finally {
    await producer.disconnect();
  }

  const consumer = await KafkaConsumer.connect({ ...connection, groupId: 'scribe-warmup' });
  try {
    consumer.subscribe([topic]);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const messages = await consumer.consume(100, 500);
      const last = messages.find((m) => m.value?.toString() === marker);
      if (last) {
        await consumer.commit([{ topic, partition: last.partition, offset: last.offset + 1 }], 10_000);
        return;
      }
      if (Date.now() > deadline) throw new Error('warm-up: the consumer group did not receive the committed record');
    }
  } finally {
    await consumer.disconnect();
  }
}
