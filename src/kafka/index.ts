// Kafka plumbing: the only folder that imports the Kafka client library.
export { KafkaAdmin, type GroupInfo, type GroupMember, type TopicInfo, type TopicSpec } from './admin.js';
export { brokersFromEnvironment, validateBrokers, type KafkaConnection } from './config.js';
export { KafkaConsumer, type ConsumerOptions, type KafkaMessage, type PartitionOffset, type RebalanceListener } from './consumer.js';
export { KafkaOperationError, kafkaError, kafkaErrorCodes } from './errors.js';
export { fetchMetadata, type ClusterMetadata } from './metadata.js';
export { parkedClients } from './native-client.js';
export { KafkaProducer, type DeliveredRecord, type OutgoingRecord, type ProducerOptions } from './producer.js';
export { AuthenticationError, AuthorizationError, TlsError, type AclResourceType, type TlsFailure } from './errors.js';
export { maskSecrets, validateKafkaSecurity, type KafkaSecurity, type KafkaSecurityOptions, type OAuthBearerToken, type OAuthBearerTokenProvider, type SaslOptions, type TlsOptions } from './security.js';
export { securityFromEnvironment, securityFromPropertiesFile, securityVariables } from './security-sources.js';
export { checkGroupAccess, createAcls, deleteAcls, describeAcls, type Acl } from './acls.js';
