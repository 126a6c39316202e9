// Promise-based Admin API: topics, partitions, offsets and groups, each call bounded.
import rdkafka, { type LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { baseConfig, type KafkaConnection } from './config.js';
import { kafkaError, kafkaErrorCodes, type CallResources } from './errors.js';
import { NativeClient } from './native-client.js';
import { securityWatch, type SecurityWatch } from './security-watch.js';
import { plainListenerCheck, type PlainListenerCheck } from './listener-probe.js';

const settlingCodes = new Set<number>([
  kafkaErrorCodes.ERR__NOENT,
  kafkaErrorCodes.ERR_UNKNOWN_TOPIC_OR_PART,
  kafkaErrorCodes.ERR_LEADER_NOT_AVAILABLE,
  kafkaErrorCodes.ERR_NOT_LEADER_FOR_PARTITION,
  kafkaErrorCodes.ERR__UNKNOWN_PARTITION,
  kafkaErrorCodes.ERR__UNKNOWN_TOPIC,
]);

const stateNames = new Map<number, string>(Object.entries(rdkafka.ConsumerGroupStates as unknown as Record<string, number>).map(([name, code]) => [code, name]));

/** The binding's operation enum is a plain name-to-number object (no reverse mapping). */
const operationNames = new Map<number, string>(Object.entries(rdkafka.AclOperationTypes as unknown as Record<string, number>).map(([name, code]) => [code, name]));

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly config?: Record<string, string>;
}

/** A consumer group as an operator sees it: its state and who holds which partitions. */
export interface GroupInfo {
  readonly groupId: string;
  /** STABLE, EMPTY, PREPARING_REBALANCE, ... (Kafka's names). */
  readonly state: string;
  readonly members: readonly GroupMember[];
}

export interface GroupMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly host: string;
  readonly partitions: readonly { readonly topic: string; readonly partition: number }[];
}

export interface TopicInfo {
  readonly name: string;
  readonly partitions: number;
  /** Kafka's unique id of this incarnation of the topic. */
  readonly topicId: string;
}

export class KafkaAdmin {
  private readonly native: NativeClient;

  private constructor(
    private readonly client: rdkafka.IAdminClient,
    private readonly timeoutMs: number,
    security: SecurityWatch | undefined,
    /** A client without TLS: its first calls are checked against a TLS listener (the first client a connect or the CLI makes). */
    private readonly listener: PlainListenerCheck | undefined,
  ) {
    this.native = new NativeClient('admin client', security);
  }

  static connect(connection: KafkaConnection, timeoutMs = 15_000): KafkaAdmin {
    const security = securityWatch('admin client', connection.security);
    const client = rdkafka.AdminClient.create(baseConfig(connection, 'admin') as rdkafka.GlobalConfig, security?.handlers() as never);
    return new KafkaAdmin(client, timeoutMs, security, plainListenerCheck('admin client', connection.brokers, connection.security));
  }

  /** Creates the topic; a topic that already exists is left as it is. Returns whether it was created. */
  createTopic(spec: TopicSpec): Promise<boolean> {
    return this.call<boolean>('createTopic', (done) =>
      this.client.createTopic(
        { topic: spec.name, num_partitions: spec.partitions, replication_factor: spec.replicationFactor, config: spec.config ?? {} },
        this.timeoutMs,
        (error) => {
          if (error && error.code === kafkaErrorCodes.ERR_TOPIC_ALREADY_EXISTS) done(null, false);
          else done(error, true);
        },
      ),
      { TOPIC: spec.name },
    );
  }

  createPartitions(topic: string, total: number): Promise<void> {
    return this.call<void>('createPartitions', (done) => this.client.createPartitions(topic, total, this.timeoutMs, (error) => done(error, undefined)), { TOPIC: topic });
  }

  deleteTopic(topic: string): Promise<void> {
    return this.call<void>('deleteTopic', (done) => this.client.deleteTopic(topic, this.timeoutMs, (error) => done(error, undefined)));
  }

  listTopics(): Promise<string[]> {
    return this.call<string[]>('listTopics', (done) => this.client.listTopics({ timeout: this.timeoutMs }, done));
  }

  /** The topic as the cluster describes it; waits while a topic created a moment ago is still settling. */
  async describeTopic(topic: string): Promise<TopicInfo> {
    const description = await this.retryWhileSettling(async () => {
      const [found] = await this.call<rdkafka.TopicDescription[]>('describeTopics', (done) => this.client.describeTopics([topic], { timeout: this.timeoutMs }, done));
      if (!found || found.error) throw kafkaError('describeTopics', found?.error ?? { message: `topic ${topic} not described`, code: kafkaErrorCodes.ERR__NOENT, errno: 0, origin: 'scribe' }, { TOPIC: topic });
      return found;
    });
    return { name: description.name, partitions: description.partitions.length, topicId: topicIdOf(description.topicId) };
  }

  /**
   * The operations the principal may do on each topic (KIP-430), e.g. READ, WRITE; a topic is
   * missing from the map when the broker has no authorizer (it answers none). A topic the
   * principal may not even describe fails with AuthorizationError.
   */
  async authorizedOperations(topics: string[]): Promise<Map<string, Set<string>>> {
    const described = await this.retryWhileSettling(async () => {
      const answer = await this.call<rdkafka.TopicDescription[]>('describeTopics', (done) =>
        this.client.describeTopics(topics, { timeout: this.timeoutMs, includeAuthorizedOperations: true }, done),
      );
      const failed = answer.find((topic) => topic.error);
      if (failed?.error) throw kafkaError('describeTopics', failed.error, { TOPIC: failed.name });
      return answer;
    });
    const result = new Map<string, Set<string>>();
    for (const topic of described) {
      const operations = topic.authorizedOperations;
      if (!operations || operations.length === 0) continue;
      result.set(topic.name, new Set(operations.map((operation) => operationNames.get(operation) ?? String(operation))));
    }
    return result;
  }

  /**
   * End offsets of the partitions. With `read_committed` this is the last stable offset:
   * an open transaction holds it back (design brief, "Known hard parts").
   */
  async endOffsets(topic: string, partitions: number[], isolation: 'read_committed' | 'read_uncommitted' = 'read_uncommitted'): Promise<Map<number, number>> {
    const results = await this.retryWhileSettling(async () => {
      const listed = await this.listOffsets(topic, partitions, isolation).catch(async (error: unknown) => {
        await this.refreshMetadata(topic);
        throw error;
      });
      const failed = listed.find((r) => r.error || r.offset < 0);
      if (failed) await this.refreshMetadata(topic);
      if (failed) throw kafkaError('listOffsets', failed.error ?? { message: `no offset for partition ${failed.partition} yet`, code: kafkaErrorCodes.ERR__NOENT, errno: 0, origin: 'scribe' });
      return listed;
    });
    return new Map(results.map((r) => [r.partition, r.offset]));
  }

  /**
   * Partitions added since this client last read the topic's metadata are unknown to it until
   * it reads them again, and the admin client has no periodic refresh: describing the topic is
   * that read.
   */
  private async refreshMetadata(topic: string): Promise<void> {
    await this.call('describeTopics', (done) => this.client.describeTopics([topic], { timeout: this.timeoutMs }, done)).catch(() => undefined);
  }

  private listOffsets(topic: string, partitions: number[], isolation: 'read_committed' | 'read_uncommitted'): Promise<rdkafka.ListOffsetsResult[]> {
    return this.call<rdkafka.ListOffsetsResult[]>('listOffsets', (done) =>
      this.client.listOffsets(
        partitions.map((partition) => ({ topic, partition, offset: rdkafka.OffsetSpec.LATEST })),
        { timeout: this.timeoutMs, isolationLevel: isolation === 'read_committed' ? rdkafka.IsolationLevel.READ_COMMITTED : rdkafka.IsolationLevel.READ_UNCOMMITTED },
        done,
      ),
    );
  }

  /**
   * Retries a read while the cluster is still settling: a topic created a moment ago, or a
   * partition whose leader is moving, answers "unknown" for a short while.
   */
  private async retryWhileSettling<T>(read: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await read();
      } catch (error) {
        const code = (error as { kafkaCode?: number }).kafkaCode;
        const settling = (error as { retriable?: boolean }).retriable === true || (code !== undefined && settlingCodes.has(code));
        if (!settling || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(500, 20 * 2 ** attempt)));
      }
    }
  }

  /**
   * The partitions of `topic` that members of the consumer group hold, once the group is
   * stable; undefined while it rebalances.
   */
  async assignedPartitions(groupId: string, topic: string): Promise<Set<number> | undefined> {
    const described = await this.call<rdkafka.GroupDescriptions>('describeGroups', (done) => this.client.describeGroups([groupId], { timeout: this.timeoutMs }, done));
    const group = described.groups[0];
    if (!group || group.error || group.state !== rdkafka.ConsumerGroupStates.STABLE) return undefined;
    const assigned = new Set<number>();
    for (const member of group.members) {
      for (const tp of member.assignment.topicPartitions) if (tp.topic === topic) assigned.add(tp.partition);
    }
    return assigned;
  }

  /** The ids of the cluster's consumer groups. */
  async listGroups(): Promise<string[]> {
    const listed = await this.call<{ groups: rdkafka.GroupOverview[] }>('listGroups', (done) => this.client.listGroups({ timeout: this.timeoutMs }, done));
    return listed.groups.map((group) => group.groupId);
  }

  /** The group's state and members with their assigned partitions (a group nobody joined is EMPTY or DEAD, with no members). */
  async describeGroup(groupId: string): Promise<GroupInfo> {
    const described = await this.call<rdkafka.GroupDescriptions>('describeGroups', (done) => this.client.describeGroups([groupId], { timeout: this.timeoutMs }, done), { GROUP: groupId });
    const group = described.groups[0];
    if (group?.error) throw kafkaError('describeGroups', group.error, { GROUP: groupId });
    return {
      groupId,
      state: stateNames.get(group?.state ?? 0) ?? 'UNKNOWN',
      members: (group?.members ?? []).map((member) => ({
        memberId: member.memberId,
        clientId: member.clientId,
        // The broker writes the host as an InetAddress: `/127.0.0.1`.
        host: member.clientHost.replace(/^\//, ''),
        partitions: (member.assignment?.topicPartitions ?? []).map((tp) => ({ topic: tp.topic, partition: tp.partition })),
      })),
    };
  }

  /** The group's committed offsets in `topic` (the next offset to read), by partition; partitions without one are absent. */
  async committedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    const [result] = await this.call<rdkafka.GroupResults[]>('listConsumerGroupOffsets', (done) => this.client.listConsumerGroupOffsets([{ groupId }], { timeout: this.timeoutMs }, done), { GROUP: groupId });
    if (result?.error) throw kafkaError('listConsumerGroupOffsets', result.error, { GROUP: groupId });
    return new Map((result?.partitions ?? []).filter((p) => p.topic === topic && p.offset >= 0).map((p) => [p.partition, p.offset]));
  }

  /** The first offset still in the log of each partition (after retention, deleteRecords or compaction of a whole segment). */
  async startOffsets(topic: string, partitions: number[]): Promise<Map<number, number>> {
    const listed = await this.call<rdkafka.ListOffsetsResult[]>('listOffsets', (done) =>
      this.client.listOffsets(partitions.map((partition) => ({ topic, partition, offset: rdkafka.OffsetSpec.EARLIEST })), { timeout: this.timeoutMs }, done),
    );
    const failed = listed.find((r) => r.error);
    if (failed?.error) throw kafkaError('listOffsets', failed.error, { TOPIC: topic });
    return new Map(listed.map((r) => [r.partition, r.offset]));
  }

  /** Moves the log start of each partition to `offset`: the records before it are deleted. */
  deleteRecordsBefore(topic: string, offsets: Map<number, number>): Promise<void> {
    return this.call<void>('deleteRecords', (done) =>
      this.client.deleteRecords(
        [...offsets].map(([partition, offset]) => ({ topic, partition, offset })),
        { timeout: this.timeoutMs },
        (error) => done(error, undefined),
      ),
    );
  }

  /**
   * Destroys the client once no call on it runs: the binding destroys an admin client on the
   * event loop's own thread, where a call still running would deadlock it. Resolves within
   * about `graceMs`; a call that hangs longer leaves the client parked until it returns.
   */
  async disconnect(graceMs = 5_000): Promise<void> {
    await this.native.close(async () => this.client.disconnect(), graceMs, graceMs);
  }

  private call<T>(operation: string, start: (done: (error: LibrdKafkaError | null | undefined, value: T) => void) => void, resources?: CallResources): Promise<T> {
    const call = this.native.call<T>(operation, this.timeoutMs + 2_000, (done) => start((error, value) => done(error, value)), [], resources);
    return this.listener ? this.listener.race(call) : call;
  }
}

/** The library's declarations name it `base64str`; at run time (1.10) it is `base64`. */
function topicIdOf(id: rdkafka.Uuid): string {
  const runtime = id as rdkafka.Uuid & { base64?: string };
  const value = runtime.base64 ?? runtime.base64str;
  if (!value) throw new Error('the broker returned no topic id');
  return value;
}
