// Appends to partitions another process owns: the request goes to `<store>.appends`, the
// owner commits its answer to `<store>.replies` in the same transaction as the events, and
// this process waits for it. A reply that does not come in time is an unknown outcome.
import { randomUUID } from 'node:crypto';
import { KafkaConsumer, KafkaProducer, type KafkaAdmin, type KafkaConnection, type KafkaOperationError } from '../kafka/index.js';
import { kafkaErrorCodes } from '../kafka/errors.js';
import { decodeReply, encodeRequest, type AppendReply, type AppendRequest } from '../records/append-request.js';
import { partitionForKey } from '../partitioning/murmur2.js';
import { InvalidArgumentError, type ScribeError } from '../errors.js';
import type { AppendResult } from '../streams/event.js';
import {
  AppendAbortedError,
  AppendOutcomeUnknownError,
  AppendRefusedError,
  CommandRejectedError,
  DeciderNotRegisteredError,
  EventIdConflictError,
  InvalidEventError,
  OwnershipChangedError,
  WrongExpectedVersionError,
} from '../streams/errors.js';

interface Waiting {
  resolve(reply: AppendReply): void;
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
  ) {}

  static async start(
    connection: KafkaConnection,
    admin: KafkaAdmin,
    topics: { readonly appends: string; readonly replies: string },
    replyPartitions: number,
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
    const remote = new RemoteAppends(producer, replies, requester, topics);
    remote.loop = remote.listen();
    return remote;
  }

  async append(
    request: Omit<AppendRequest, 'requester' | 'requestId' | 'deadline'> & { readonly partition: number },
    timeoutMs: number,
  ): Promise<AppendResult> {
    const requestId = randomUUID();
    const deadline = Date.now() + timeoutMs;
    const reply = new Promise<AppendReply>((resolve) => this.waiting.set(requestId, { resolve }));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      const record = encodeRequest({ ...request, requester: this.requester, requestId, deadline });
      // Knowable before sending: a request the producer or the broker would refuse is refused here.
      const bytes = recordBytes(record);
      if (bytes > maxRequestBytes) throw tooLarge(request, `is ${bytes} bytes as a request to the owner of partition ${request.partition}`);
      try {
        await this.producer.send({ topic: this.topics.appends, partition: request.partition, ...record });
      } catch (error) {
        const kafkaCode = (error as KafkaOperationError).kafkaCode;
        if (kafkaCode === kafkaErrorCodes.ERR__UNKNOWN_PARTITION) {
          // A partition added by growth that this producer has not seen yet: nothing was sent.
          await this.producer.refreshMetadata(this.topics.appends).catch(() => undefined);
          throw new OwnershipChangedError(request.partition, 'the partition is new to this process; routing again');
        }
        // A definite refusal: the request was never stored, so neither was the append.
        if (kafkaCode === kafkaErrorCodes.ERR_MSG_SIZE_TOO_LARGE || kafkaCode === kafkaErrorCodes.ERR_RECORD_LIST_TOO_LARGE) {
          throw tooLarge(request, `was refused by the broker as too large (${(error as Error).message})`);
        }
        if (typeof kafkaCode === 'number' && definiteRefusals.has(kafkaCode)) {
          throw new AppendRefusedError(request.streamId, kafkaCode, `the request to the owner was refused: ${(error as Error).message}`, { cause: error });
        }
        throw new AppendOutcomeUnknownError(request.streamId, `the request could not be sent: ${(error as Error).message}`, { cause: error });
      }
      const answer = await Promise.race([reply, expired]);
      if (!answer) throw new AppendOutcomeUnknownError(request.streamId, `no reply from the owner of partition ${request.partition} within ${timeoutMs} ms`);
      return resultOf(request.streamId, request.partition, answer);
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
          if (decoded) this.waiting.get(decoded.requestId)?.resolve(decoded.reply);
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

/** Broker answers that mean the record was not written and will not be on a retry. */
const definiteRefusals = new Set<number>([
  kafkaErrorCodes.ERR_TOPIC_AUTHORIZATION_FAILED,
  kafkaErrorCodes.ERR_CLUSTER_AUTHORIZATION_FAILED,
  kafkaErrorCodes.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  kafkaErrorCodes.ERR_INVALID_RECORD,
  kafkaErrorCodes.ERR_POLICY_VIOLATION,
  kafkaErrorCodes.ERR_INVALID_REQUIRED_ACKS,
  kafkaErrorCodes.ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT,
]);

function recordBytes(record: { key: string; value: Buffer; headers: readonly Record<string, string | Buffer>[] }): number {
  let bytes = Buffer.byteLength(record.key) + record.value.length;
  for (const header of record.headers) for (const [name, value] of Object.entries(header)) bytes += Buffer.byteLength(name) + (typeof value === "string" ? Buffer.byteLength(value) : value.length);
  return bytes;
}

/** Too large for the appends topic: the command (for `execute`) or the append's events. */
function tooLarge(request: { readonly command?: unknown; readonly events: readonly unknown[] }, reason: string): InvalidArgumentError {
  return request.command
    ? new InvalidArgumentError('command', `${reason}; at most ${maxRequestBytes} bytes: nothing was stored`)
    : new InvalidArgumentError('events', `the append ${reason}; at most ${maxRequestBytes} bytes (event data travels base64-encoded, a third larger): nothing was stored, append fewer or smaller events`);
}

function resultOf(streamId: string, partition: number, reply: AppendReply): AppendResult {
  if (reply.ok) return { nextExpectedVersion: reply.nextExpectedVersion, position: { partition: reply.partition, offset: reply.offset } };
  const error: ScribeError = (() => {
    switch (reply.code) {
      case 'WRONG_EXPECTED_VERSION':
        return new WrongExpectedVersionError(streamId, reply.expected ?? 'any', reply.actual ?? -1);
      case 'EVENT_ID_CONFLICT':
        return new EventIdConflictError(streamId, reply.eventId ?? '', reply.message);
      case 'INVALID_EVENT':
        return new InvalidEventError(0, reply.message);
      case 'APPEND_ABORTED':
        return new AppendAbortedError(streamId, reply.message);
      case 'OWNERSHIP_CHANGED':
        return new OwnershipChangedError(partition, reply.message);
      case 'COMMAND_REJECTED': {
        // The owner's own CommandRejectedError (a decider that threw something else than an Error) carries its prefix already.
        const prefix = `command on "${streamId}" refused: Error: `;
        if (reply.errorName === undefined && reply.message.startsWith(prefix)) return new CommandRejectedError(streamId, 'Error', undefined, reply.message.slice(prefix.length));
        return new CommandRejectedError(streamId, reply.errorName ?? 'Error', reply.errorCode, reply.message);
      }
      case 'INVALID_ARGUMENT': {
        // "argument: reason", as InvalidArgumentError formats it at the owner.
        const colon = reply.message.indexOf(': ');
        return colon > 0 ? new InvalidArgumentError(reply.message.slice(0, colon), reply.message.slice(colon + 2)) : new InvalidArgumentError('request', reply.message);
      }
      case 'DECIDER_NOT_REGISTERED':
        return new DeciderNotRegisteredError(reply.decider ?? '');
      default:
        return new AppendOutcomeUnknownError(streamId, reply.message);
    }
  })();
  throw error;
}
