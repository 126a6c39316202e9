// How tests, the demo and benchmarks find a broker: KAFKA_BROKERS if set (else bootstrap.servers
// of KAFKA_CONFIG_FILE), else the running `default` cluster, else a cluster of their own that
// they stop when done.
import { brokersFromEnvironment, securityFromEnvironment } from '../kafka/index.js';
import { LocalKafkaCluster } from './cluster.js';

export interface KafkaForRun {
  readonly brokers: string[];
  /** The cluster this run started, if it started one; `release` stops it. */
  readonly cluster: LocalKafkaCluster | undefined;
  release(): Promise<void>;
}

export async function connectToKafka(options: { name: string; nodes?: number; log?: (line: string) => void }): Promise<KafkaForRun> {
  // The store reads the same two variables: the brokers it is given must be the file's, or a
  // secured client would be sent to a plain local cluster.
  const fromEnvironment = brokersFromEnvironment() ?? securityFromEnvironment()?.brokers;
  if (fromEnvironment) return { brokers: fromEnvironment, cluster: undefined, release: async () => undefined };
  const running = LocalKafkaCluster.find('default');
  if (running && (options.nodes ?? 1) === running.brokers.length) {
    return { brokers: running.brokers, cluster: undefined, release: async () => undefined };
  }
  // A cluster of this name left by a crashed run is ours to replace.
  await LocalKafkaCluster.stopByName(options.name);
  const cluster = await LocalKafkaCluster.start({ name: options.name, nodes: options.nodes ?? 1, ...(options.log ? { log: options.log } : {}) });
  return { brokers: cluster.brokers, cluster, release: () => cluster.stop() };
}
