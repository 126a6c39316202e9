// Starts the broker the integration tests share (unless KAFKA_BROKERS names one) and stops it
// at the end, also when tests fail.
import type { TestProject } from 'vitest/node';
import { connectToKafka, type KafkaForRun } from '../src/local-kafka/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    brokers: string[];
  }
}

let kafka: KafkaForRun | undefined;

export async function setup(project: TestProject): Promise<void> {
  kafka = await connectToKafka({ name: 'test', log: (line) => process.stderr.write(`[kafka] ${line}\n`) });
  project.provide('brokers', kafka.brokers);
}

export async function teardown(): Promise<void> {
  await kafka?.release();
}
