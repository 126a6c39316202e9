// `scribe kafka ...`: run a local Kafka for development, tests and demos.
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { LocalKafkaCluster } from '../local-kafka/index.js';
import { newPassword } from '../local-kafka/secure-cluster.js';
import { clusterNameFlag, clusterSizeFlag, integerFlag, nodeActionArgument, nodeActions } from './arguments.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

export function kafkaCommands(program: Command): void {
  const kafka = program.command('kafka').description('run a local Apache Kafka (KRaft, from Maven Central) on 127.0.0.1');

  kafka
    .command('start')
    .description('start a cluster and wait until transactions and consumer groups work; prints the bootstrap address')
    .option('--nodes <n>', '1, or 3 for fault tests (replication 3, min.insync.replicas 2)', '1')
    .option('--name <name>', 'clusters of different names run side by side', 'default')
    .option('--secure', 'SASL_SSL with SCRAM-SHA-512 on localhost (a CA and certificate made with OpenSSL) and ACLs; writes the admin\'s client properties')
    .option('--json', 'print the bootstrap address and client settings as JSON (the password masked: it is in the properties file)')
    .action(async (options: { nodes: string; name: string; secure?: boolean; json?: boolean }) => {
      const name = clusterNameFlag(options.name);
      const cluster = await LocalKafkaCluster.start({ nodes: clusterSizeFlag(options.nodes), name, log, ...(options.secure ? { secure: true } : {}) });
      const secure = cluster.secure;
      const properties = secure ? cluster.writeAdminProperties() : undefined;
      if (options.json) {
        const settings = secure
          ? { 'bootstrap.servers': cluster.bootstrap, 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-512', 'sasl.username': secure.admin.name, 'sasl.password': '***', 'ssl.ca.location': secure.caFile }
          : { 'bootstrap.servers': cluster.bootstrap };
        process.stdout.write(`${JSON.stringify({ name, bootstrap: cluster.bootstrap, secure: secure !== undefined, ...(properties ? { propertiesFile: properties } : {}), settings }, null, 2)}\n`);
      } else process.stdout.write(`${cluster.bootstrap}\n`);
      log(`export KAFKA_BROKERS=${cluster.bootstrap}`);
      if (properties && secure) {
        log(`export KAFKA_CONFIG_FILE=${properties}   # SASL_SSL, SCRAM-SHA-512 as the super user "${secure.admin.name}", CA ${secure.caFile}`);
        log(`scribe kafka user <name> --name ${name}   # an application's own user (its client properties file), then:`);
        log(`scribe acls --store <store> --principal User:<name> --role writer --apply --config ${properties}`);
      }
    });

  kafka
    .command('stop')
    .description('stop what `start` started (by recorded pid) and remove its data')
    .option('--name <name>', 'which cluster', 'default')
    .action(async (options: { name: string }) => {
      const stopped = await LocalKafkaCluster.stopByName(clusterNameFlag(options.name));
      log(stopped ? `stopped cluster "${options.name}"` : `no cluster "${options.name}" was started`);
    });

  kafka
    .command('status')
    .description('print the bootstrap address and the pid of each node')
    .option('--name <name>', 'which cluster', 'default')
    .action((options: { name: string }) => {
      const cluster = LocalKafkaCluster.find(clusterNameFlag(options.name));
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

  kafka
    .command('user')
    .description('add a SCRAM-SHA-512 user with a fresh password to a secured cluster (--secure); writes its client properties, prints the file')
    .argument('<username>', "letters, digits, '.', '_' or '-'")
    .option('--name <name>', 'which cluster', 'default')
    .action(async (username: string, options: { name: string }) => {
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(username)) throw new InvalidArgumentError('<username>', `${JSON.stringify(username.slice(0, 70))} must be 1-64 letters, digits, '.', '_' or '-'`);
      if (username === 'admin') throw new InvalidArgumentError('<username>', '"admin" is the super user the cluster starts with');
      const name = clusterNameFlag(options.name);
      const cluster = LocalKafkaCluster.find(name);
      if (!cluster) throw new Error(`cluster "${name}" is not running`);
      if (!cluster.secure) throw new InvalidArgumentError('--name', `cluster "${name}" is not secured (start it with --secure)`);
      const user = { name: username, password: newPassword() };
      await cluster.addUser(user);
      const file = cluster.writeUserProperties(user);
      process.stdout.write(`${file}\n`);
      log(`user "${username}" added; it has no ACLs yet: grant a role with`);
      log(`  scribe acls --store <store> --principal User:${username} --role writer|reader|admin --apply --config ${cluster.writeAdminProperties()}`);
      log(`export KAFKA_CONFIG_FILE=${file}   # SASL_SSL, SCRAM-SHA-512 as "${username}" (the password is only in this file)`);
    });

  const actions: Record<(typeof nodeActions)[number], (c: LocalKafkaCluster, id: number) => unknown> = {
    stop: (c, id) => c.stopNode(id),
    kill: (c, id) => c.killNode(id),
    pause: (c, id) => c.pauseNode(id),
    resume: (c, id) => c.resumeNode(id),
    start: (c, id) => c.startNode(id),
  };
  kafka
    .command('node')
    .description('act on one node: stop (SIGTERM), kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT), start')
    .argument('<action>', nodeActions.join(' | '))
    .argument('<id>', 'node id (1..3)')
    .option('--name <name>', 'which cluster', 'default')
    .action(async (action: string, id: string, options: { name: string }) => {
      const act = actions[nodeActionArgument(action)];
      const nodeId = integerFlag(id, '<id>', 1, 3);
      const name = clusterNameFlag(options.name);
      const cluster = LocalKafkaCluster.find(name);
      if (!cluster) throw new Error(`cluster "${name}" is not running`);
      if (!cluster.nodeIds.includes(nodeId)) throw new InvalidArgumentError('<id>', `cluster "${name}" has nodes ${cluster.nodeIds.join(', ')}, not ${nodeId}`);
      await act(cluster, nodeId);
    });
}
