// Starts, controls and stops a real Kafka cluster of 1 or 3 KRaft nodes on loopback, as
// plain `java` processes whose pids are recorded, so a test can stop, kill, pause and
// restart each node on its own and `stop` never touches a process it did not start.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fetchMetadata, validateKafkaSecurity, type KafkaConnection } from '../kafka/index.js';
import type { KafkaSecurityOptions } from '../kafka/security.js';
import { ensureKafkaJars, kafkaHome, libDir } from './home.js';
import { clientSecurity, writeClientProperties, makeCertificates, newPassword, scramFormatArguments, secureHost, secureServerProperties, type ScramUser, type SecureState } from './secure-cluster.js';
import { log4j2Properties, serverProperties, type NodeAddress } from './server-properties.js';
import { warmUp } from './warm-up.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface NodeState extends NodeAddress {
  readonly configPath: string;
  pid: number | undefined;
}

export interface ClusterState {
  readonly name: string;
  readonly clusterId: string;
  readonly dir: string;
  readonly nodes: NodeState[];
  /** Present for a secured cluster (`start({ secure: true })`). */
  readonly secure?: SecureState;
  /** SCRAM users made at the first start, besides the admin. */
  readonly users?: ScramUser[];
}

export interface StartOptions {
  /** 1 (default) or 3. */
  readonly nodes?: number;
  /** Clusters of different names run side by side; the CLI's default is `default`. */
  readonly name?: string;
  readonly log?: (line: string) => void;
  /** JVM heap per node. */
  readonly heap?: string;
  /**
   * SASL_SSL with SCRAM-SHA-512 on `localhost` (a CA and certificate made with OpenSSL), ACLs
   * enforced by StandardAuthorizer; the super user `admin` has a fresh password.
   */
  readonly secure?: boolean;
  /** With `secure`: SCRAM users to make at the first start (more: `addUser`). */
  readonly users?: readonly ScramUser[];
  /** With `secure`: also accept unsigned OAUTHBEARER tokens (any principal!) to test token providers. */
  readonly unsecuredOAuthBearer?: boolean;
}

export class LocalKafkaCluster {
  private constructor(private readonly state: ClusterState) {}

  /** Formats fresh storage and starts every node; resolves when clients can use the cluster. */
  static async start(options: StartOptions = {}): Promise<LocalKafkaCluster> {
    const log = options.log ?? (() => undefined);
    const size = options.nodes ?? 1;
    if (size !== 1 && size !== 3) throw new Error(`a local cluster has 1 or 3 nodes, not ${size}`);
    const name = options.name ?? 'default';
    const existing = LocalKafkaCluster.find(name);
    if (existing) throw new Error(`cluster "${name}" is already running at ${existing.bootstrap}; stop it first`);

    await ensureKafkaJars(log);
    const dir = clusterDir(name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(kafkaHome(), 'log4j2.properties'), log4j2Properties);

    const perNode = options.secure ? 3 : 2;
    const ports = await freePorts(size * perNode);
    const addresses: NodeAddress[] = Array.from({ length: size }, (_, i) => ({
      id: i + 1,
      port: ports[perNode * i]!,
      controllerPort: ports[perNode * i + 1]!,
      dataDir: join(dir, `node-${i + 1}`, 'data'),
      ...(options.secure ? { securePort: ports[perNode * i + 2]! } : {}),
    }));
    let secure: SecureState | undefined;
    let keystoreFile = '';
    if (options.secure) {
      const certificates = await makeCertificates(join(dir, 'tls'));
      keystoreFile = certificates.keystoreFile;
      secure = { caFile: certificates.caFile, admin: { name: 'admin', password: newPassword() }, host: secureHost };
    }
    const nodes: NodeState[] = addresses.map((address) => {
      const nodeDir = join(dir, `node-${address.id}`);
      mkdirSync(nodeDir, { recursive: true });
      const configPath = join(nodeDir, 'server.properties');
      const overrides = secure ? secureServerProperties({ ...address, securePort: address.securePort! }, keystoreFile, secure.admin, options.unsecuredOAuthBearer === true) : {};
      writeFileSync(configPath, serverProperties(address, addresses, overrides), { mode: 0o600 });
      return { ...address, configPath, pid: undefined };
    });
    const cluster = new LocalKafkaCluster({ name, clusterId: newClusterId(), dir, nodes, ...(secure ? { secure, users: [...(options.users ?? [])] } : {}) });
    cluster.heap = options.heap ?? '512m';

    const started = Date.now();
    try {
      await Promise.all(nodes.map((node) => cluster.format(node)));
      for (const node of nodes) cluster.spawnNode(node);
      cluster.save();
      log(`waiting for ${size} node(s) at ${cluster.bootstrap}...`);
      await cluster.waitUntilReady(90_000);
      await warmUp(cluster.adminConnection, size);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    log(`Kafka ready at ${cluster.bootstrap} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return cluster;
  }

  /** The running cluster of that name, from its state file; undefined if none of its nodes runs. */
  static find(name = 'default'): LocalKafkaCluster | undefined {
    const file = join(clusterDir(name), 'cluster.json');
    if (!existsSync(file)) return undefined;
    const state = JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
    const cluster = new LocalKafkaCluster(state);
    return state.nodes.some((node) => cluster.isRunning(node.id)) ? cluster : undefined;
  }

  /** Stops the cluster of that name if its state file is there, running or not, and removes its data. */
  static async stopByName(name = 'default'): Promise<boolean> {
    const file = join(clusterDir(name), 'cluster.json');
    if (!existsSync(file)) return false;
    await new LocalKafkaCluster(JSON.parse(readFileSync(file, 'utf8')) as ClusterState).stop();
    return true;
  }

  private heap = '512m';

  get name(): string {
    return this.state.name;
  }

  /** Where clients connect: the SASL_SSL listeners of a secured cluster, else the plain ones. */
  get brokers(): string[] {
    return this.state.nodes.map((node) => (this.state.secure && node.securePort ? `${secureHost}:${node.securePort}` : `127.0.0.1:${node.port}`));
  }

  /** The TLS and SCRAM settings of a secured cluster; undefined for a plain one. */
  get secure(): SecureState | undefined {
    return this.state.secure;
  }

  /** The `kafka` connect option for a user of this secured cluster (the admin by default). */
  clientSecurity(user?: ScramUser): KafkaSecurityOptions | undefined {
    return this.state.secure && clientSecurity(this.state.secure, user ?? this.state.secure.admin);
  }

  /** A connection as the super user: what the cluster's own checks and tools use. */
  get adminConnection(): KafkaConnection {
    const security = validateKafkaSecurity(this.clientSecurity());
    return { brokers: this.brokers, clientId: 'scribe-local', ...(security ? { security } : {}) };
  }

  /** Writes the super user's client properties (`--config`, KAFKA_CONFIG_FILE) next to the cluster, its owner's only; returns the file. */
  writeAdminProperties(): string {
    const secure = this.state.secure;
    if (!secure) throw new Error(`cluster "${this.state.name}" is not secured`);
    const file = join(this.state.dir, 'client.properties');
    writeClientProperties(file, this.brokers, secure, secure.admin);
    return file;
  }

  /** Writes a user's client properties next to the cluster (`<user>.properties`, its owner's only); returns the file. */
  writeUserProperties(user: ScramUser): string {
    const secure = this.state.secure;
    if (!secure) throw new Error(`cluster "${this.state.name}" is not secured`);
    const file = join(this.state.dir, `${user.name}.properties`);
    writeClientProperties(file, this.brokers, secure, user);
    return file;
  }

  /** Adds (or changes the password of) a SCRAM-SHA-512 user of a secured cluster; it can log in at once. */
  async addUser(user: ScramUser): Promise<void> {
    const secure = this.state.secure;
    if (!secure) throw new Error(`cluster "${this.state.name}" is not secured`);
    const node = this.state.nodes.find((n) => this.isRunning(n.id)) ?? this.state.nodes[0]!;
    const commandConfig = join(this.state.dir, 'admin.properties');
    writeFileSync(
      commandConfig,
      `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${secure.admin.name}" password="${secure.admin.password}";\n`,
      { mode: 0o600 },
    );
    await run(
      'java',
      this.javaArgs(node, 'kafka.admin.ConfigCommand', [
        '--bootstrap-server', `127.0.0.1:${node.port}`, '--command-config', commandConfig,
        '--alter', '--add-config', `SCRAM-SHA-512=[iterations=8192,password=${user.password}]`, '--entity-type', 'users', '--entity-name', user.name,
      ]),
      { maxBuffer: 4 * 1024 * 1024 },
    );
  }

  get bootstrap(): string {
    return this.brokers.join(',');
  }

  get nodeIds(): number[] {
    return this.state.nodes.map((node) => node.id);
  }

  pid(nodeId: number): number | undefined {
    return this.node(nodeId).pid;
  }

  /** Clean shutdown (SIGTERM); resolves when the process has exited. */
  async stopNode(nodeId: number, timeoutMs = 30_000): Promise<void> {
    const node = this.node(nodeId);
    if (!this.isRunning(nodeId)) return;
    signal(node, 'SIGCONT');
    signal(node, 'SIGTERM');
    if (!(await this.waitForExit(node, timeoutMs))) {
      signal(node, 'SIGKILL');
      await this.waitForExit(node, 5_000);
    }
    node.pid = undefined;
    this.save();
  }

  /** Crash (SIGKILL): no clean shutdown, unflushed state is what it is. */
  async killNode(nodeId: number): Promise<void> {
    const node = this.node(nodeId);
    if (!this.isRunning(nodeId)) return;
    signal(node, 'SIGKILL');
    await this.waitForExit(node, 10_000);
    node.pid = undefined;
    this.save();
  }

  /** Freezes the node (SIGSTOP): it keeps its sockets but answers nothing. */
  pauseNode(nodeId: number): void {
    signal(this.node(nodeId), 'SIGSTOP');
  }

  resumeNode(nodeId: number): void {
    signal(this.node(nodeId), 'SIGCONT');
  }

  /** Starts a stopped or killed node again on its ports and data; resolves when all nodes are registered. */
  async startNode(nodeId: number, timeoutMs = 60_000): Promise<void> {
    if (this.isRunning(nodeId)) return;
    this.spawnNode(this.node(nodeId));
    this.save();
    await this.waitUntilReady(timeoutMs);
  }

  isRunning(nodeId: number): boolean {
    const node = this.node(nodeId);
    return node.pid !== undefined && isOurProcess(node.pid, node.configPath);
  }

  /** Stops every node (by recorded pid only) and removes the cluster's data. */
  async stop(): Promise<void> {
    await Promise.all(this.state.nodes.map((node) => this.stopNode(node.id, 20_000)));
    rmSync(this.state.dir, { recursive: true, force: true });
  }

  /** Resolves when every node answers a metadata call that lists all of them. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const expected = this.state.nodes.filter((n) => n.pid !== undefined).length;
    let lastError: unknown;
    while (Date.now() < deadline) {
      for (const node of this.state.nodes) {
        if (node.pid !== undefined && !this.isRunning(node.id)) {
          throw new Error(`Kafka node ${node.id} exited during start-up; see ${join(this.state.dir, `node-${node.id}`, 'server.log')}\n${tail(this.logPath(node))}`);
        }
      }
      try {
        const metadata = await fetchMetadata(this.adminConnection, 3_000);
        if (metadata.brokerIds.length >= expected) return;
        lastError = new Error(`${metadata.brokerIds.length} of ${expected} brokers registered`);
      } catch (error) {
        lastError = error;
      }
      await sleep(250);
    }
    throw new Error(`Kafka did not become ready within ${timeoutMs} ms: ${String(lastError)}`);
  }

  private node(nodeId: number): NodeState {
    const node = this.state.nodes.find((n) => n.id === nodeId);
    if (!node) throw new Error(`cluster "${this.state.name}" has no node ${nodeId}`);
    return node;
  }

  private logPath(node: NodeState): string {
    return join(this.state.dir, `node-${node.id}`, 'server.log');
  }

  private javaArgs(node: NodeState, mainClass: string, args: string[]): string[] {
    return [
      `-Xms256m`,
      `-Xmx${this.heap}`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(kafkaHome(), 'log4j2.properties')}`,
      `-Dkafka.logs.dir=${join(this.state.dir, `node-${node.id}`)}`,
      '-cp',
      `${libDir()}/*`,
      mainClass,
      ...args,
    ];
  }

  private async format(node: NodeState): Promise<void> {
    const users = this.state.secure ? scramFormatArguments([this.state.secure.admin, ...(this.state.users ?? [])]) : [];
    await run('java', this.javaArgs(node, 'kafka.tools.StorageTool', ['format', '-t', this.state.clusterId, '-c', node.configPath, ...users]), {
      maxBuffer: 4 * 1024 * 1024,
    });
  }

  private spawnNode(node: NodeState): void {
    const out = openSync(join(this.state.dir, `node-${node.id}`, 'stdout.log'), 'a');
    try {
      const child = spawn('java', this.javaArgs(node, 'kafka.Kafka', [node.configPath]), {
        detached: true,
        stdio: ['ignore', out, out],
      });
      child.unref();
      node.pid = child.pid;
    } finally {
      closeSync(out);
    }
  }

  private async waitForExit(node: NodeState, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (node.pid === undefined || !isOurProcess(node.pid, node.configPath)) return true;
      await sleep(100);
    }
    return false;
  }

  private save(): void {
    // Holds the admin's password of a secured cluster: its owner's only.
    writeFileSync(join(this.state.dir, 'cluster.json'), JSON.stringify(this.state, null, 2), { mode: 0o600 });
  }
}

export function clusterDir(name: string): string {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`cluster name "${name}" must be lower-case letters, digits and dashes`);
  return join(kafkaHome(), 'clusters', name);
}

function signal(node: NodeState, name: NodeJS.Signals): void {
  // Never signal a pid that was recycled by another program.
  if (node.pid !== undefined && isOurProcess(node.pid, node.configPath)) process.kill(node.pid, name);
}

/** True when the pid is alive (not a zombie) and runs the node with this config file. */
function isOurProcess(pid: number, configPath: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(configPath);
  } catch {
    return false;
  }
}

/** Kafka's cluster id format: 16 random bytes, base64url without padding, not starting with '-'. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
