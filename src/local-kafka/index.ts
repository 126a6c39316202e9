// A real Kafka for tests, the demo and benchmarks: resolved from Maven Central, run as
// plain `java` processes in KRaft mode. Not part of the event store; never used by it.
export { LocalKafkaCluster, type StartOptions } from './cluster.js';
export { ensureKafkaJars, kafkaHome } from './home.js';
export { connectToKafka, type KafkaForRun } from './connect.js';
export { LocalSchemaRegistry } from './schema-registry.js';
