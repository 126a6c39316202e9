// A promise-based consumer over librdkafka: bounded batch polls, explicit assignment and
// seeking, and group membership with assignment callbacks.
import rdkafka, { type LibrdKafkaError, type Message, type TopicPartition } from '@confluentinc/kafka-javascript';
import { baseConfig, forwardStatistics, statisticsConfig, type KafkaConnection } from './config.js';
import { refreshTopicMetadata } from './metadata.js';
import { kafkaErrorCodes } from './errors.js';
import { NativeClient } from './native-client.js';
import { withTimeout } from '../errors.js';

/** How long a poll waits for a native consume (which itself returns at once unless the pool is busy). */
const consumeTimeoutMs = 10_000;
/** The longest timer Node accepts: the native consume is bounded by `poll`, not here. */
const maxTimeoutMs = 2_147_483_647;
import { securityWatch } from './security-watch.js';

export type { Message as KafkaMessage } from '@confluentinc/kafka-javascript';

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface RebalanceListener {
  /** Called after the partitions were assigned to this member. */
  assigned(partitions: TopicPartition[]): void;
  /** Called before the partitions are taken away from this member. */
  revoked(partitions: TopicPartition[]): void;
  /** A rebalance step failed (the consumer is closing, most often); the callback swallowed it. */
  failed?(error: unknown): void;
}

export interface ConsumerOptions extends KafkaConnection {
  /** Group to join with `subscribe`; a consumer that only uses `assign` may omit it. */
  readonly groupId?: string;
  /** Default `read_committed`: Scribe never shows records of an open or aborted transaction. */
  readonly isolation?: 'read_committed' | 'read_uncommitted';
  readonly sessionTimeoutMs?: number;
  readonly rebalance?: RebalanceListener;
  /** Where to start when the group has no committed offset. */
  readonly startFrom?: 'earliest' | 'latest';
  readonly overrides?: Record<string, string | number | boolean>;
}

/** Present at run time, missing from the library's type declarations. */
interface UndeclaredMethods {
  incrementalAssign(partitions: TopicPartition[] | { topic: string; partition: number; offset: number }[]): void;
  incrementalUnassign(partitions: TopicPartition[]): void;
  /** commitSync on a worker thread: the callback has the coordinator's answer. */
  commitCb(offsets: TopicPartition[], done: (error: LibrdKafkaError | null) => void): void;
}

function undeclared(client: rdkafka.KafkaConsumer): UndeclaredMethods {
  return client as unknown as UndeclaredMethods;
}

export class KafkaConsumer {
  /** The native consume still running, if any: its messages belong to the next poll. */
  private consuming: Promise<Message[]> | undefined;
  /** Polls waiting for it. */
  private waiting = 0;
  /** Messages of a consume that returned after every poll waiting for it gave up. */
  private readonly late: Message[] = [];
  /** At most one offset commit in flight: a later commit covers what an unfinished one held. */
  private committing: Promise<void> | undefined;

  private constructor(
    private readonly client: rdkafka.KafkaConsumer,
    private readonly native: NativeClient,
    private readonly arrivals: ArrivalSignal,
    /** The group joined with `subscribe`; undefined for an assign-only consumer. */
    private readonly groupId: string | undefined,
  ) {
    // Polls never wait inside librdkafka: a waiting poll would hold one of the few threads of
    // Node's pool for its whole wait (decision 0007). The arrival signal wakes the waiting poll.
    client.setDefaultConsumeTimeout(0);
  }

  static async connect(options: ConsumerOptions, timeoutMs = 30_000): Promise<KafkaConsumer> {
    const listener = options.rebalance;
    const config: Record<string, unknown> = {
      ...baseConfig(options, 'consumer'),
      // librdkafka requires a group id even for assign-only consumers; such a group never joins.
      'group.id': options.groupId ?? `scribe-reader-${process.pid}-${Math.random().toString(36).slice(2)}`,
      'isolation.level': options.isolation ?? 'read_committed',
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'enable.partition.eof': false,
      'session.timeout.ms': options.sessionTimeoutMs ?? 10_000,
      'heartbeat.interval.ms': Math.max(100, Math.floor((options.sessionTimeoutMs ?? 10_000) / 4)),
      'fetch.wait.max.ms': 50,
      ...statisticsConfig(options),
      ...options.overrides,
    };
    if (listener) {
      // librdkafka waits for the (incremental) assign or unassign from this callback, so the
      // listener runs before the partitions change hands. With the cooperative protocol the
      // lists hold only the partitions that move: the others keep their writers. The protocol
      // comes from the configuration: the binding stops reporting it once disconnected.
      const cooperative = String(options.overrides?.['partition.assignment.strategy'] ?? '').includes('cooperative');
      config.rebalance_cb = function (this: rdkafka.KafkaConsumer, error: LibrdKafkaError, assignment: TopicPartition[]) {
        // Nothing may throw out of here: it would be an uncaught exception in the binding's
        // dispatcher (seen during close, when assign answers "KafkaConsumer is disconnected").
        try {
          if (error.code === kafkaErrorCodes.ERR__ASSIGN_PARTITIONS) {
            if (cooperative) undeclared(this).incrementalAssign(assignment);
            else this.assign(assignment);
            listener.assigned(assignment);
          } else if (error.code === kafkaErrorCodes.ERR__REVOKE_PARTITIONS) {
            listener.revoked(assignment);
            if (cooperative) undeclared(this).incrementalUnassign(assignment);
            else this.unassign();
          }
        } catch (failure) {
          listener.failed?.(failure);
        }
      };
    }
    const arrivals = new ArrivalSignal();
    config.queue_non_empty_cb = arrivals.raise;
    const consumer = new rdkafka.KafkaConsumer(config as rdkafka.ConsumerGlobalConfig, {
      // A topic-level setting: librdkafka ignores it in the global config when a topic config is given.
      'auto.offset.reset': options.startFrom ?? 'earliest',
    });
    forwardStatistics(options, consumer);
    const name = `consumer ${String(config['client.id'])}${options.groupId ? ` of group ${options.groupId}` : ''}`;
    const security = securityWatch(name, options.security);
    security?.watch(consumer);
    const native = new NativeClient(name, security);
    try {
      await native.call<void>('consumer connect', timeoutMs + 2_000, (done) => consumer.connect({ timeout: timeoutMs }, (error) => done(error)));
    } catch (error) {
      void native.close(() => disconnectConsumer(consumer), 0, 10_000);
      throw error;
    }
    return new KafkaConsumer(consumer, native, arrivals, options.groupId);
  }

  subscribe(topics: string[]): void {
    this.native.sync('subscribe', () => this.client.subscribe(topics));
  }

  /** Reads exactly these partitions from these offsets, outside any group. */
  assign(partitions: PartitionOffset[]): void {
    this.native.sync('assign', () => this.client.assign(partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset }))));
  }

  /**
   * Adds partitions to a manual assignment, leaving the others undisturbed. Replacing the
   * whole assignment while partitions are still starting trips an assertion in librdkafka
   * (rd_kafka_assignment_partition_stopped), so followers grow and shrink incrementally.
   */
  addPartitions(partitions: PartitionOffset[]): void {
    this.native.sync('incrementalAssign', () =>
      undeclared(this.client).incrementalAssign(partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset }))),
    );
  }

  removePartitions(partitions: { topic: string; partition: number }[]): void {
    this.native.sync('incrementalUnassign', () => undeclared(this.client).incrementalUnassign(partitions));
  }

  /** The partitions assigned to this consumer now. */
  assignments(): { topic: string; partition: number }[] {
    return this.native.sync('assignments', () => this.client.assignments());
  }

  /** The next offset this consumer reads on each partition (negative when it has none yet). */
  positions(partitions: { topic: string; partition: number }[]): PartitionOffset[] {
    return this.native
      .sync('position', () => this.client.position(partitions))
      .map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset ?? -1 }));
  }

  /** Stops fetching these partitions until `resume`; records already fetched stay queued. */
  pause(partitions: { topic: string; partition: number }[]): void {
    this.native.sync('pause', () => this.client.pause(partitions));
  }

  resume(partitions: { topic: string; partition: number }[]): void {
    this.native.sync('resume', () => this.client.resume(partitions));
  }

  /** Reads the topic's metadata now, so that partitions added since can be assigned and fetched. */
  refreshMetadata(topic: string, timeoutMs = 5_000): Promise<void> {
    return refreshTopicMetadata(this.client, this.native, topic, timeoutMs);
  }

  /** Up to `max` records; waits at most `waitMs` when none is available. */
  async consume(max: number, waitMs: number): Promise<Message[]> {
    this.arrivals.clear();
    const ready = await this.poll(max);
    if (ready.length > 0) return ready;
    await this.arrivals.wait(waitMs);
    return this.poll(max);
  }

  /**
   * Takes what librdkafka has queued, without waiting. A consume that outlives its bound (the
   * pool's threads all busy with calls to a frozen broker) still returns its messages later,
   * and librdkafka has moved past them: they are kept for the next poll, never dropped.
   */
  private poll(max: number): Promise<Message[]> {
    if (this.late.length > 0) return Promise.resolve(this.late.splice(0));
    let running = this.consuming;
    if (!running) {
      const call = this.startConsume(max);
      running = call;
      this.consuming = call;
      // Registered before any waiter's: when nobody waits any more, the messages are kept.
      call.then(
        (messages) => {
          this.consuming = undefined;
          if (this.waiting === 0) this.late.push(...messages);
        },
        () => {
          this.consuming = undefined;
        },
      );
    }
    this.waiting++;
    return withTimeout('consume', consumeTimeoutMs, running).finally(() => {
      this.waiting--;
    });
  }

  /** One native consume, unbounded here: `poll` bounds the wait, not the call. */
  private startConsume(max: number): Promise<Message[]> {
    const polled = this.native.call<Message[]>('consume', maxTimeoutMs, (done) => this.client.consume(max, (error, messages) => done(error, messages)), [], this.groupId === undefined ? {} : { GROUP: this.groupId });
    if (this.groupId !== undefined) return polled;
    // An assign-only consumer never uses its (made-up) group, but librdkafka still looks up its
    // coordinator: on a secured cluster that group is outside the principal's ACLs, and the
    // refusal is no failure of the read.
    return polled.catch((error: unknown) => {
      if ((error as { kafkaCode?: number }).kafkaCode === kafkaErrorCodes.ERR_GROUP_AUTHORIZATION_FAILED) return [];
      throw error;
    });
  }


  /**
   * Lends the native handle to a producer's `sendOffsetsToTransaction`, which reads the group
   * metadata from it on a worker thread: the call is counted on this consumer too, so the
   * consumer is not destroyed under it.
   */
  withGroupMetadata<T>(use: (handle: rdkafka.KafkaConsumer, native: NativeClient) => Promise<T>): Promise<T> {
    return use(this.client, this.native);
  }

  /** Offsets of the group's last commit for these partitions (-1001 when none). */
  committed(partitions: TopicPartition[], timeoutMs: number): Promise<PartitionOffset[]> {
    return this.native.call<PartitionOffset[]>('committed', timeoutMs + 2_000, (done) =>
      this.client.committed(partitions, timeoutMs, (error, result) =>
        done(error, result?.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset }))),
      ),
    );
  }

  /** Moves the consumer's position on an assigned partition. */
  seek(position: PartitionOffset, timeoutMs: number): Promise<void> {
    return this.native.call<void>('seek', timeoutMs + 2_000, (done) =>
      this.client.seek({ topic: position.topic, partition: position.partition, offset: position.offset }, timeoutMs, (error) => done(error)),
    );
  }

  /**
   * Commits the group's offsets and waits for the coordinator's answer, off the event loop
   * (the binding's commitSync would block it for as long as the coordinator is away). While a
   * commit is still running, a later one is not started: it answers 'skipped' and the caller's
   * next commit, which covers it, goes through.
   */
  async commit(offsets: PartitionOffset[], timeoutMs: number): Promise<'committed' | 'skipped'> {
    if (this.committing) return 'skipped';
    const running = this.native.call<void>('commit', timeoutMs, (done) =>
      undeclared(this.client).commitCb(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })), (error) => done(error)),
    );
    this.committing = running.then(
      () => undefined,
      () => undefined,
    );
    void this.committing.finally(() => (this.committing = undefined));
    await running;
    return 'committed';
  }

  /**
   * Leaves the group (if any) and destroys the consumer once no call on it runs. Resolves
   * within about `timeoutMs` even when a call hangs (the consumer is then destroyed when it returns).
   */
  async disconnect(timeoutMs = 10_000): Promise<void> {
    await this.native.close(() => disconnectConsumer(this.client), timeoutMs, timeoutMs);
  }
}

/** A client whose connect failed was already disconnected by the binding. */
function disconnectConsumer(client: rdkafka.KafkaConsumer): Promise<void> {
  if (!client.isConnected()) return Promise.resolve();
  return new Promise<void>((resolve) => client.disconnect(() => resolve()));
}

/**
 * librdkafka's "queue no longer empty" callback (the binding's queue_non_empty_cb), turned into
 * a wait: raised from the event loop when records, errors or rebalance events arrive.
 */
class ArrivalSignal {
  private raised = false;
  private readonly waiters = new Set<() => void>();

  readonly raise = (): void => {
    this.raised = true;
    for (const wake of this.waiters) wake();
  };

  /** Forgets earlier arrivals: call before polling, so an arrival during the poll is not lost. */
  clear(): void {
    this.raised = false;
  }

  /** Resolves at the next arrival (at once if one came since `clear`), or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.raised) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }
}
