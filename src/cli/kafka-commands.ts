// `scribe kafka ...`: run a local Kafka for development, tests and demos.
import type { Command } from 'commander';
import { LocalKafkaCluster } from '../local-kafka/index.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

export function kafkaCommands(program: Command): void {
  const kafka = program.command('kafka').description('run a local Apache Kafka (KRaft, from Maven Central) on 127.0.0.1');

  kafka
    .command('start')
    .description('start a cluster and wait until transactions and consumer groups work; prints the bootstrap address')
    .option('--nodes <n>', '1, or 3 for fault tests (replication 3, min.insync.replicas 2)', '1')
    .option('--name <name>', 'clusters of different names run side by side', 'default')
    .action(async (options: { nodes: string; name: string }) => {
      const cluster = await LocalKafkaCluster.start({ nodes: Number(options.nodes), name: options.name, log });
      process.stdout.write(`${cluster.bootstrap}\n`);
      log(`export KAFKA_BROKERS=${cluster.bootstrap}`);
    });

  kafka
    .command('stop')
    .description('stop what `start` started (by recorded pid) and remove its data')
    .option('--name <name>', 'which cluster', 'default')
    .action(async (options: { name: string }) => {
      const stopped = await LocalKafkaCluster.stopByName(options.name);
      log(stopped ? `stopped cluster "${options.name}"` : `no cluster "${options.name}" was started`);
    });

  kafka
    .command('status')
    .description('print the bootstrap address and the pid of each node')
    .option('--name <name>', 'which cluster', 'default')
    .action((options: { name: string }) => {
      const cluster = LocalKafkaCluster.find(options.name);
      if (!cluster) {
        log(`cluster "${options.name}" is not running`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${cluster.bootstrap}\n`);
      for (const id of cluster.nodeIds) {
        log(`node ${id}: ${cluster.isRunning(id) ? `running, pid ${cluster.pid(id)}` : 'stopped'}`);
      }
    });

  const actions = {
    stop: (c: LocalKafkaCluster, id: number) => c.stopNode(id),
    kill: (c: LocalKafkaCluster, id: number) => c.killNode(id),
    pause: (c: LocalKafkaCluster, id: number) => c.pauseNode(id),
    resume: (c: LocalKafkaCluster, id: number) => c.resumeNode(id),
    start: (c: LocalKafkaCluster, id: number) => c.startNode(id),
  } as const;
  kafka
    .command('node')
    .description('act on one node: stop (SIGTERM), kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT), start')
    .argument('<action>', Object.keys(actions).join(' | '))
    .argument('<id>', 'node id (1..3)')
    .option('--name <name>', 'which cluster', 'default')
    .action(async (action: string, id: string, options: { name: string }) => {
      const cluster = LocalKafkaCluster.find(options.name);
      if (!cluster) throw new Error(`cluster "${options.name}" is not running`);
      if (!(action in actions)) throw new Error(`unknown action "${action}"; use ${Object.keys(actions).join(', ')}`);
      await actions[action as keyof typeof actions](cluster, Number(id));
    });
}
