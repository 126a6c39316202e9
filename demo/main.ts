// `npm run demo`: until the event store lands, a broker round trip told for a person: one
// transaction commits, one aborts, and a read_committed reader sees only the first.
import { randomUUID } from 'node:crypto';
import { KafkaAdmin, KafkaConsumer, KafkaProducer } from '../src/kafka/index.js';
import { connectToKafka } from '../src/local-kafka/index.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

const kafka = await connectToKafka({ name: 'demo', log: (line) => say(`  kafka: ${line}`) });
try {
  const topic = `demo-${randomUUID().slice(0, 8)}`;
  const admin = KafkaAdmin.connect({ brokers: kafka.brokers });
  await admin.createTopic({ name: topic, partitions: 1, replicationFactor: 1 });
  say(`Created topic ${topic} on ${kafka.brokers.join(',')}`);

  const producer = await KafkaProducer.connect({ brokers: kafka.brokers, transactionalId: `demo-${randomUUID()}` });
  await producer.initTransactions(30_000);
  await producer.beginTransaction();
  for (const amount of [10, 20, 30]) await producer.send({ topic, partition: 0, key: 'account-1', value: Buffer.from(JSON.stringify({ type: 'Deposited', amount })) });
  await producer.commitTransaction(30_000);
  say('Transaction 1: three deposits (10, 20, 30), committed');
  await producer.beginTransaction();
  await producer.send({ topic, partition: 0, key: 'account-1', value: Buffer.from(JSON.stringify({ type: 'Deposited', amount: 1_000_000 })) });
  await producer.abortTransaction(30_000);
  say('Transaction 2: one deposit of 1,000,000, aborted');
  await producer.disconnect();

  const end = (await admin.endOffsets(topic, [0])).get(0) ?? 0;
  admin.disconnect();
  const consumer = await KafkaConsumer.connect({ brokers: kafka.brokers, isolation: 'read_committed' });
  consumer.assign([{ topic, partition: 0, offset: 0 }]);
  const seen: string[] = [];
  while ((consumer.client.position([{ topic, partition: 0 }])[0]?.offset ?? 0) < end) {
    for (const message of await consumer.consume(100, 200)) seen.push(message.value?.toString() ?? '');
  }
  await consumer.disconnect();
  const total = seen.map((v) => (JSON.parse(v) as { amount: number }).amount).reduce((a, b) => a + b, 0);
  say(`A read_committed reader sees ${seen.length} events, balance ${total} (expected 3 events, balance 60)`);
  if (seen.length !== 3 || total !== 60) process.exitCode = 1;
} finally {
  await kafka.release();
}
