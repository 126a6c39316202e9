// Kafka plumbing: the only folder that imports the Kafka client library.
export { KafkaAdmin, type TopicInfo, type TopicSpec } from './admin.js';
export { brokersFromEnvironment, validateBrokers, type KafkaConnection } from './config.js';
export { KafkaConsumer, type ConsumerOptions, type KafkaMessage, type PartitionOffset, type RebalanceListener } from './consumer.js';
export { KafkaOperationError, kafkaError } from './errors.js';
export { fetchMetadata, type ClusterMetadata } from './metadata.js';
export { parkedClients } from './native-client.js';
export { KafkaProducer, type DeliveredRecord, type OutgoingRecord, type ProducerOptions } from './producer.js';
