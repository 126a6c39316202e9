// Appends to partitions another process owns: the request goes to `<store>.appends`, the
// owner commits its answer to `<store>.replies` in the same transaction as the events, and
// this process waits for it. A reply that does not come in time is an unknown outcome.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { StoreEvent } from '../instrumentation/store-events.js';
import { AuthorizationError, KafkaConsumer, KafkaProducer, type KafkaAdmin, type KafkaConnection, type KafkaOperationError } from '../kafka/index.js';
import { kafkaErrorCodes } from '../kafka/errors.js';
import { decodeReply, encodeRequest, type EncodedRecord } from '../owner-protocol/wire.js';
import type { AppendRequest, CommandRequest, CommandResult, Owner, OwnerReply, OwnerRequest, SealRequest } from '../owner-protocol/messages.js';
import type { ErrorContext } from '../owner-protocol/error-codec.js';
import { partitionForKey } from '../partitioning/murmur2.js';
import { InvalidArgumentError } from '../errors.js';
import type { AppendResult } from '../streams/event.js';
import { AppendOutcomeUnknownError, AppendRefusedError, OwnershipChangedError } from '../streams/errors.js';

interface Waiting {
  readonly context: ErrorContext;
  resolve(reply: OwnerReply): void;
}

export class RemoteAppends {
  private readonly waiting = new Map<string, Waiting>();
  private running = true;
  private loop: Promise<void> | undefined;

  private constructor(
    private readonly producer: KafkaProducer,
    private readonly replies: KafkaConsumer,
    private readonly requester: string,
    private readonly topics: { readonly appends: string; readonly replies: string },
    private readonly instrument: ((event: StoreEvent) => void) | undefined,
  ) {}

  static async start(
    connection: KafkaConnection,
    admin: KafkaAdmin,
    topics: { readonly appends: string; readonly replies: string },
    replyPartitions: number,
    /** Reports each request's round trip (`request-answered`). */
    instrument?: (event: StoreEvent) => void,
  ): Promise<RemoteAppends> {
    const requester = randomUUID();
    const partition = partitionForKey(requester, replyPartitions);
    // Start at the current end, read before any request is sent, so no reply can be missed.
    const end = (await admin.endOffsets(topics.replies, [partition])).get(partition) ?? 0;
    const replies = await KafkaConsumer.connect({ ...connection, isolation: 'read_committed', overrides: { 'fetch.wait.max.ms': 10 } });
    let producer: KafkaProducer;
    try {
      replies.assign([{ topic: topics.replies, partition, offset: end }]);
      producer = await KafkaProducer.connect({ ...connection, overrides: { 'linger.ms': 1 } });
    } catch (error) {
      // A connect that fails here leaves no consumer behind.
      await replies.disconnect().catch(() => undefined);
      throw error;
    }
    const remote = new RemoteAppends(producer, replies, requester, topics, instrument);
    remote.loop = remote.listen();
    return remote;
  }

  /** The owner of `partition`, reached through the appends topic. */
  ownerOf(partition: number): Owner {
    return {
      where: 'remote',
      append: (request: AppendRequest, timeoutMs: number) => this.request(request, partition, timeoutMs),
      execute: (request: CommandRequest, timeoutMs: number): Promise<CommandResult> => this.request(request, partition, timeoutMs),
      seal: async (request: SealRequest, timeoutMs: number) => {
        await this.request(request, partition, timeoutMs);
      },
    };
  }

  private async request(request: OwnerRequest, partition: number, timeoutMs: number): Promise<AppendResult> {
    if (!this.instrument) return this.send(request, partition, timeoutMs);
    const began = performance.now();
    let outcome = 'ok';
    try {
      return await this.send(request, partition, timeoutMs);
    } catch (error) {
      outcome = (error as { code?: string }).code ?? 'ERROR';
      throw error;
    } finally {
      this.instrument({ type: 'request-answered', partition, kind: request.kind, outcome, durationMs: Math.round((performance.now() - began) * 1000) / 1000 });
    }
  }

  private async send(request: OwnerRequest, partition: number, timeoutMs: number): Promise<AppendResult> {
    const requestId = randomUUID();
    const deadline = Date.now() + timeoutMs;
    const streamId = request.kind === 'seal' ? '' : request.streamId;
    const reply = new Promise<OwnerReply>((resolve) => this.waiting.set(requestId, { context: { streamId, partition }, resolve }));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      const record = encodeRequest({ ...request, requester: this.requester, requestId, deadline });
      // Knowable before sending: a request the producer or the broker would refuse is refused here.
      const bytes = recordBytes(record);
      if (bytes > maxRequestBytes) throw tooLarge(request, `is ${bytes} bytes as a request to the owner of partition ${partition}`);
      try {
        // Bounded by the append's timeout too: a record librdkafka keeps retrying would otherwise
        // hold the caller for message.timeout.ms (5 minutes).
        const sent = this.producer.send({ topic: this.topics.appends, partition, ...record });
        sent.catch(() => undefined);
        if ((await Promise.race([sent, expired])) === undefined) {
          throw new AppendOutcomeUnknownError(streamId, `the request to the owner of partition ${partition} was not acknowledged by the broker within ${timeoutMs} ms`);
        }
      } catch (error) {
        if (error instanceof AppendOutcomeUnknownError) throw error;
        const kafkaCode = (error as KafkaOperationError).kafkaCode;
        if (kafkaCode === kafkaErrorCodes.ERR__UNKNOWN_PARTITION) {
          // A partition added by growth that this producer has not seen yet: nothing was sent.
          await this.producer.refreshMetadata(this.topics.appends).catch(() => undefined);
          throw new OwnershipChangedError(partition, 'the partition is new to this process; routing again');
        }
        // A definite refusal: the request was never stored, so neither was the append.
        // A principal that may not write `<store>.appends` (a reader appending) is told so,
        // naming the topic and WRITE, whether the broker refused the record or, before it, the
        // producer's id (decision 0026).
        if (error instanceof AuthorizationError) throw error;
        if (kafkaCode === kafkaErrorCodes.ERR_MSG_SIZE_TOO_LARGE || kafkaCode === kafkaErrorCodes.ERR_RECORD_LIST_TOO_LARGE) {
          throw tooLarge(request, `was refused by the broker as too large (${(error as Error).message})`);
        }
        if (typeof kafkaCode === 'number' && definiteRefusals.has(kafkaCode)) {
          throw new AppendRefusedError(streamId, kafkaCode, `the request to the owner was refused: ${(error as Error).message}`, { cause: error });
        }
        throw new AppendOutcomeUnknownError(streamId, `the request could not be sent: ${(error as Error).message}`, { cause: error });
      }
      const answer = await Promise.race([reply, expired]);
      if (!answer) throw new AppendOutcomeUnknownError(streamId, `no reply from the owner of partition ${partition} within ${timeoutMs} ms`);
      if (!answer.ok) throw answer.error;
      return { nextExpectedVersion: answer.nextExpectedVersion, position: { partition: answer.partition, offset: answer.offset } };
    } finally {
      clearTimeout(timer);
      this.waiting.delete(requestId);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.all([this.producer.disconnect(), this.replies.disconnect()]);
  }

  private async listen(): Promise<void> {
    while (this.running) {
      try {
        for (const message of await this.replies.consume(500, 50)) {
          if (message.key?.toString() !== this.requester) continue;
          const decoded = decodeReply(message);
          const waiting = decoded && this.waiting.get(decoded.requestId);
          if (waiting) waiting.resolve(decoded.read(waiting.context));
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}

/**
 * librdkafka's message.max.bytes (1,000,000 by default) bounds a record with its key and
 * headers; the broker's max.message.bytes (1,048,588) is above it. Kept below both.
 */
export const maxRequestBytes = 1_000_000 - 1_024;

/** Broker answers that mean the record was not written and will not be on a retry (authorization failures come classified, as AuthorizationError). */
const definiteRefusals = new Set<number>([
  kafkaErrorCodes.ERR_TOPIC_AUTHORIZATION_FAILED,
  kafkaErrorCodes.ERR_CLUSTER_AUTHORIZATION_FAILED,
  kafkaErrorCodes.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  kafkaErrorCodes.ERR_INVALID_RECORD,
  kafkaErrorCodes.ERR_POLICY_VIOLATION,
  kafkaErrorCodes.ERR_INVALID_REQUIRED_ACKS,
  kafkaErrorCodes.ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT,
]);

function recordBytes(record: EncodedRecord): number {
  let bytes = Buffer.byteLength(record.key) + record.value.length;
  for (const header of record.headers) for (const [name, value] of Object.entries(header)) bytes += Buffer.byteLength(name) + (typeof value === "string" ? Buffer.byteLength(value) : value.length);
  return bytes;
}

/** Too large for the appends topic: the command (for `execute`) or the append's events. */
function tooLarge(request: OwnerRequest, reason: string): InvalidArgumentError {
  return request.kind === 'command'
    ? new InvalidArgumentError('command', `${reason}; at most ${maxRequestBytes} bytes: nothing was stored`)
    : new InvalidArgumentError('events', `the append ${reason}; at most ${maxRequestBytes} bytes (event data travels base64-encoded, a third larger): nothing was stored, append fewer or smaller events`);
}
