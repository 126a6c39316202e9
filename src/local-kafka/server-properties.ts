// The broker configuration of a local KRaft node: a combined broker+controller on
// loopback, tuned for a 2-core machine and for fast failure detection in fault tests.

export interface NodeAddress {
  readonly id: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  /** The SASL_SSL listener's port of a secured cluster. */
  readonly securePort?: number;
}

/** `overrides` replace or add lines (a secured cluster's listeners and authorizer). */
export function serverProperties(node: NodeAddress, all: readonly NodeAddress[], overrides: Record<string, string> = {}): string {
  const size = all.length;
  const replication = Math.min(3, size);
  const minIsr = Math.min(2, size);
  const lines: Record<string, string | number> = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    'controller.quorum.voters': all.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(','),
    listeners: `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${node.port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': node.dataDir,
    'auto.create.topics.enable': 'false',
    'num.partitions': 1,
    'default.replication.factor': replication,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': replication,
    'offsets.topic.num.partitions': size,
    'transaction.state.log.replication.factor': replication,
    // Without this a single node refuses every transaction (default 2).
    'transaction.state.log.min.isr': minIsr,
    'transaction.state.log.num.partitions': size,
    'share.coordinator.state.topic.replication.factor': replication,
    'share.coordinator.state.topic.min.isr': minIsr,
    'group.initial.rebalance.delay.ms': 0,
    'num.network.threads': 2,
    'num.io.threads': 2,
    'background.threads': 2,
    // The default takes 128 MB of heap up front.
    'log.cleaner.dedupe.buffer.size': 2 * 1024 * 1024,
    // Fault tests: notice a dead broker in seconds rather than the default 9 s.
    'broker.heartbeat.interval.ms': 500,
    'broker.session.timeout.ms': 3000,
    ...overrides,
  };
  return Object.entries(lines)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')
    .concat('\n');
}

export const log4j2Properties = `status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = warn
`;
