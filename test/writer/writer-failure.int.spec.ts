// A failure of Scribe's own code on the write path is never reported as "outcome unknown"
// unless the commit was asked for. The writer stops as `failed`: its appends end in
// WRITER_FAILED (nothing stored), or, once the commit was asked for, in APPEND_OUTCOME_UNKNOWN
// with the WriterFailedError as cause (a retry with the same ids answers the first result).
// The writer group starts a new writer after a session timeout. The bug is simulated through
// the writers' producer factory: a TypeError where Scribe's code would throw one.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { AppendOutcomeUnknownError, EventStore, WriterFailedError, type AppendResult, type ConnectOptions } from '../../src/index.js';
import { connectProducer, producerFactoryOption, type ProducerFactory } from '../../src/writer/producer-factory.js';
import { readEventsTopic } from '../support/log-check.js';
import { owningAll } from '../support/ownership.js';

const brokers = inject('brokers');

type Bug = 'in-produce' | 'after-commit';

/** Producers whose next call of the armed kind throws a TypeError (once). */
function buggyProducers(): { factory: ProducerFactory; arm(bug: Bug): void } {
  let armed: Bug | undefined;
  const factory: ProducerFactory = async (options) => {
    const producer = await connectProducer(options);
    return {
      initTransactions: (timeoutMs) => producer.initTransactions(timeoutMs),
      beginTransaction: () => producer.beginTransaction(),
      send: (record) => {
        if (armed === 'in-produce' && record.topic.endsWith('.events')) {
          armed = undefined;
          throw new TypeError("Cannot read properties of undefined (reading 'offset')");
        }
        return producer.send(record);
      },
      sendOffsetsToTransaction: (offsets, consumer, timeoutMs) => producer.sendOffsetsToTransaction(offsets, consumer, timeoutMs),
      commitTransaction: async (timeoutMs) => {
        await producer.commitTransaction(timeoutMs);
        if (armed === 'after-commit') {
          armed = undefined;
          throw new TypeError("Cannot read properties of undefined (reading 'offset')");
        }
      },
      abortTransaction: (timeoutMs) => producer.abortTransaction(timeoutMs),
      disconnect: (timeoutMs) => producer.disconnect(timeoutMs),
    };
  };
  return { factory, arm: (bug) => (armed = bug) };
}

/** Appends with the same ids until an answer comes (the partition's new writer starts after a session timeout). */
async function appendUntilAnswered(store: EventStore, streamId: string, id: string): Promise<AppendResult> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      return await store.append(streamId, [{ id, type: 'Deposited', data: { amount: 1 } }], { expectedVersion: 'no_stream' });
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

describe("a failure of Scribe's own code in a partition writer", () => {
  const stores: EventStore[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
  });

  async function connect(factory: ProducerFactory): Promise<{ store: EventStore; name: string }> {
    const name = `writer-bug-${randomUUID().slice(0, 8)}`;
    const options = { brokers, store: name, partitions: 1, sessionTimeoutMs: 6_000, appendTimeoutMs: 20_000, dataDir: `.scribe/test/${name}`, [producerFactoryOption]: factory };
    const store = await EventStore.connect(options as ConnectOptions);
    stores.push(store);
    await owningAll(store);
    return { store, name };
  }

  it('before the commit: WRITER_FAILED (not "outcome unknown"), nothing stored; a new writer takes the partition again', async () => {
    const bugs = buggyProducers();
    const { store, name } = await connect(bugs.factory);
    bugs.arm('in-produce');
    const id = randomUUID();
    const error = await store.append('account-1', [{ id, type: 'Deposited', data: { amount: 1 } }], { expectedVersion: 'no_stream' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WriterFailedError);
    expect((error as WriterFailedError).code).toBe('WRITER_FAILED');
    expect((error as WriterFailedError).partition).toBe(0);
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(AppendOutcomeUnknownError);

    // The same append, once the partition has a writer again, is stored once.
    const result = await appendUntilAnswered(store, 'account-1', id);
    expect(result.nextExpectedVersion).toBe(0);
    const log = await readEventsTopic(brokers, `${name}.events`);
    expect(log.idCounts.get(id)).toBe(1);
  });

  it('once the commit was asked for: APPEND_OUTCOME_UNKNOWN with the WriterFailedError as cause; a retry answers the first result', async () => {
    const bugs = buggyProducers();
    const { store, name } = await connect(bugs.factory);
    bugs.arm('after-commit');
    const id = randomUUID();
    const error = await store.append('account-2', [{ id, type: 'Deposited', data: { amount: 1 } }], { expectedVersion: 'no_stream' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendOutcomeUnknownError);
    expect((error as Error).cause).toBeInstanceOf(WriterFailedError);
    expect(((error as Error).cause as Error).cause).toBeInstanceOf(TypeError);

    // It was committed: the retry (same ids, same expectation) answers as the first time.
    const result = await appendUntilAnswered(store, 'account-2', id);
    expect(result.nextExpectedVersion).toBe(0);
    const log = await readEventsTopic(brokers, `${name}.events`);
    expect(log.idCounts.get(id)).toBe(1);
  });
});
