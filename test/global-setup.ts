// Starts the broker the integration tests share (unless KAFKA_BROKERS names one) and stops it
// at the end, also when tests fail. With SCRIBE_TEST_KAFKA=secure the broker is a secured one
// (SASL_SSL, SCRAM-SHA-512, its own CA, ACLs on) and specs that read `kafka` connect through it.
import type { TestProject } from 'vitest/node';
import type { KafkaSecurityOptions } from '../src/index.js';
import { connectToKafka, LocalKafkaCluster, type KafkaForRun } from '../src/local-kafka/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    brokers: string[];
    /** The `kafka` connect option of the shared broker: undefined for a plain one. */
    kafka: KafkaSecurityOptions | undefined;
  }
}

let kafka: KafkaForRun | undefined;

export async function setup(project: TestProject): Promise<void> {
  const log = (line: string) => process.stderr.write(`[kafka] ${line}\n`);
  if (process.env.SCRIBE_TEST_KAFKA === 'secure') {
    await LocalKafkaCluster.stopByName('test-secure');
    const cluster = await LocalKafkaCluster.start({ name: 'test-secure', secure: true, log });
    kafka = { brokers: cluster.brokers, cluster, release: () => cluster.stop() };
    project.provide('brokers', cluster.brokers);
    project.provide('kafka', cluster.clientSecurity());
    return;
  }
  kafka = await connectToKafka({ name: 'test', log });
  project.provide('brokers', kafka.brokers);
  project.provide('kafka', undefined);
}

export async function teardown(): Promise<void> {
  await kafka?.release();
}
