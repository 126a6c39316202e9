// The composition root of a Kafka store: every part `connect` starts, in order, each with the
// way to stop it. When a step fails, everything started before it is stopped in reverse
// order, so a refused connect leaves no client, consumer, lock or timer behind.
import type { ProducerFactory } from '../writer/producer-factory.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, TimeoutError } from '../errors.js';
import { CommandRunner, validateDecision } from '../aggregates/command-runner.js';
import { Instrumentation } from '../instrumentation/instrumentation.js';
import { logListener } from '../instrumentation/log-lines.js';
import { summariseStatistics } from '../instrumentation/kafka-statistics.js';
import type { StoreEvent } from '../instrumentation/store-events.js';
import { withTraceContext, type StoreTracer } from '../instrumentation/tracing.js';
import { servedAnswer } from '../owner-protocol/messages.js';
import { WriterStates } from './writer-states.js';
import { KafkaAdmin, type KafkaConnection } from '../kafka/index.js';
import { WriterGroup, writerGroupId } from '../ownership/writer-group.js';
import { RoutingLog } from '../partitioning/routing-log.js';
import { eventReader, type EventReader } from '../schemas/event-schemas.js';
import { RegisteredSchemas } from '../schemas/schema-registry.js';
import { IndexFollower } from '../stream-index/follower.js';
import { StreamIndex } from '../stream-index/stream-index.js';
import { defaults, type ValidConnectOptions } from './connect-options.js';
import { RemoteAppends } from './remote-appends.js';
import { ensureTopics, topicNames, type StoreLayout } from './topics.js';
import { checkTopicAccess, checkWriterAccess } from './access.js';
import { encodeEvents, messageOf, type EventEncoding } from './validation.js';

/** The steps of `connect`, in order. */
export const connectSteps = ['schema-registry', 'data-dir', 'admin', 'topics', 'access', 'index', 'index-follower', 'routing-log', 'remote-appends', 'writer-group'] as const;
export type ConnectStep = (typeof connectSteps)[number];

/** What a connected Kafka store is made of. */
export interface StoreParts {
  readonly connection: KafkaConnection;
  readonly layout: StoreLayout;
  readonly admin: KafkaAdmin;
  readonly index: StreamIndex;
  readonly follower: IndexFollower;
  readonly routing: RoutingLog;
  readonly remote: RemoteAppends;
  readonly writers: WriterGroup | undefined;
  readonly commands: CommandRunner;
  readonly read: EventReader;
  readonly encoding: EventEncoding;
  readonly instrumentation: Instrumentation;
  /** With the `tracing` option: where appends and commands start their spans. */
  readonly tracer: StoreTracer | undefined;
  /** The latest state of each writer of this process, for `health()`. */
  readonly writerStates: WriterStates;
}

/** @internal The seams of fault and lifecycle specifications; users never reach them. */
export interface CompositionProbe {
  /** Called after each step has started its part; a throw fails the connect as that step's failure would. */
  afterStep?(step: ConnectStep): void | Promise<void>;
  /** Creates the writers' producers (default: KafkaProducer.connect): fault specifications inject faults here. */
  producers?: ProducerFactory;
}

export async function composeStore(valid: ValidConnectOptions, probe: CompositionProbe = {}): Promise<StoreParts> {
  const { store: storeName, brokers, partitions, replicationFactor, settings, dataDir } = valid;
  const instrumentation = new Instrumentation([...(valid.log ? [logListener(valid.log)] : []), ...valid.listeners]);
  const statistics = valid.kafkaStatisticsIntervalMs
    ? {
        intervalMs: valid.kafkaStatisticsIntervalMs,
        report(json: string) {
          if (!instrumentation.active) return;
          const summary = summariseStatistics(json);
          if (summary) instrumentation.emit({ type: 'kafka-statistics', ...summary });
        },
      }
    : undefined;
  const connection: KafkaConnection = { brokers, clientId: valid.clientId, ...(valid.security ? { security: valid.security } : {}), ...(statistics ? { statistics } : {}) };
  // Writers report their state moves through here; health() reads the latest (a map write per move).
  const writerStates = new WriterStates();
  const instrument = (event: StoreEvent) => {
    if (event.type === 'writer-state-changed') writerStates.moved(event.partition, event.to);
    // A new writer starts in `starting` without a move; the partition's last writer may have closed.
    else if (event.type === 'ownership-gained') for (const partition of event.partitions) writerStates.moved(partition, 'starting');
    instrumentation.emit(event);
  };
  const notice = (message: string) => instrumentation.emit({ type: 'notice', message });
  // What has started so far, stopped in reverse order when a later step fails.
  const started: { readonly step: ConnectStep; stop(): unknown }[] = [];
  const step = async <T>(name: ConnectStep, start: () => T | Promise<T>, stop?: (part: T) => unknown): Promise<T> => {
    const part = await start();
    if (stop) started.push({ step: name, stop: () => stop(part) });
    await probe.afterStep?.(name);
    return part;
  };
  try {
    // Before any topic exists: an incompatible schema must fail the deploy, not a later append,
    // and a connect refused for it must not have created the store.
    const encoding = await step('schema-registry', async (): Promise<EventEncoding> => ({
      ...(valid.schemas ? { schemas: valid.schemas } : {}),
      ...(valid.schemaRegistry && valid.schemas ? { registry: await RegisteredSchemas.register(valid.schemaRegistry, topicNames(storeName).events, valid.schemas) } : {}),
    }));
    await step('data-dir', async () => {
      try {
        mkdirSync(dataDir, { recursive: true });
      } catch (error) {
        throw new InvalidArgumentError('dataDir', `${JSON.stringify(dataDir)} cannot be created: ${messageOf(error)}`);
      }
      await StreamIndex.ensureNotInUse(join(dataDir, 'index'), 'dataDir');
    });
    // Stopped by a failed connect: a call still running after a second is left to end parked.
    const admin = await step('admin', () => KafkaAdmin.connect(connection), (a) => a.disconnect(1_000));
    const layout = await step('topics', () =>
      ensureTopics(admin, storeName, partitions, replicationFactor).catch((error: unknown) => {
        // Name the address: an unreachable broker shows itself as a timeout here.
        if (error instanceof TimeoutError) throw new TimeoutError(`${error.operation} on brokers ${brokers.join(',')} (unreachable, or not a Kafka broker?)`, error.timeoutMs);
        throw error;
      }),
    );
    // A principal without the ACLs its role needs is told now, naming the missing one, not at its first append.
    await step('access', async () => {
      await checkTopicAccess(admin, layout.topics, valid.writer);
      if (valid.writer && valid.security) await checkWriterAccess(connection, storeName, writerGroupId(storeName), Math.min(settings.appendTimeoutMs, 30_000));
    });
    const index = await step('index', () => StreamIndex.open(join(dataDir, 'index'), layout.eventsTopicId), (i) => i.close());
    notice(index.rebuilt ? `index ${dataDir}: new or unusable, building it from Kafka` : `index ${dataDir}: reused, catching up from its checkpoints`);
    const follower = await step('index-follower', () => IndexFollower.start(connection, layout.topics, index, instrumentation.emit), (f) => f.stop());
    const routing = await step('routing-log', () => RoutingLog.open(connection, admin, layout.topics.routing, () => Promise.resolve(layout.partitions)), (r) => r.stop());
    const tracer = valid.tracing?.bind({ name: storeName, topics: layout.topics });
    if (tracer) instrumentation.observe(tracer.listener);
    const remote = await step('remote-appends', () => RemoteAppends.start(connection, admin, layout.topics, layout.replyPartitions, instrumentation.emit), (r) => r.stop());
    const read = eventReader(valid.schemas, valid.onUnknownEvent);
    const commands = new CommandRunner(
      read,
      index,
      (events, ids, trace) => {
        validateDecision(events);
        const encoded = encodeEvents(events.map((event, i) => (typeof event === 'object' && event !== null ? { ...event, id: ids[i]! } : event)), settings.maxEventBytes, encoding);
        // The command's trace goes into its events' metadata, as an append's does.
        return trace?.traceparent === undefined ? encoded : encoded.map((e) => ({ ...e, metadata: withTraceContext(e.metadata, trace) }));
      },
      defaults.maxCommandStates,
    );
    const endOffset = async (partition: number) => (await admin.endOffsets(layout.topics.events, [partition])).get(partition) ?? 0;
    const writers = await step(
      'writer-group',
      () =>
        !valid.writer
          ? undefined
          : WriterGroup.join({
              connection,
              store: storeName,
              topics: layout.topics,
              replyPartitions: layout.replyPartitions,
              index,
              follower,
              routing,
              endOffset,
              sessionTimeoutMs: settings.sessionTimeoutMs,
              timeoutMs: Math.min(settings.appendTimeoutMs, 30_000),
              transactionTimeoutMs: settings.transactionTimeoutMs,
              maxConcurrentTransactions: settings.maxConcurrentTransactions,
              maxBatch: defaults.maxBatch,
              log: notice,
              instrument,
              ...(probe.producers ? { producers: probe.producers } : {}),
              onCommand: (request, writer, origin) => {
                // The requester learns the outcome from the reply; this process reports it.
                commands.run(
                  { decider: request.decider, commandId: request.commandId, streamId: request.streamId, partitionKey: request.partitionKey, command: JSON.parse(request.payload) as unknown, remote: origin, ...(request.trace ? { trace: request.trace } : {}) },
                  writer,
                  servedAnswer(request, writer.partition, instrumentation.emit),
                );
              },
            }),
      (w) => w?.leave(),
    );
    return { connection, layout, admin, index, follower, routing, remote, writers, commands, read, encoding, instrumentation, tracer, writerStates };
  } catch (error) {
    for (const { stop } of started.reverse()) {
      try {
        await stop();
      } catch {
        // The connect's own error is the one to report.
      }
    }
    throw error;
  }
}
