// A consume that outlives its bound: its messages come to the next poll, none is dropped.
// (librdkafka has moved past them once its consume returns; the chaos run found a
// subscription that skipped a whole batch after a fault when they were dropped.)
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KafkaConsumer } from '../../src/kafka/consumer.js';
import { NativeClient } from '../../src/kafka/native-client.js';

type Consumed = (error: Error | null, messages: { offset: number }[]) => void;

/** A native consumer whose consume answers only when the test says so, as when the pool is busy. */
function slowClient() {
  const pending: Consumed[] = [];
  return {
    pending,
    client: { setDefaultConsumeTimeout: () => undefined, consume: (_max: number, done: Consumed) => void pending.push(done) },
  };
}

function consumerOver(client: object): { poll(max: number): Promise<{ offset: number }[]> } {
  const Constructor = KafkaConsumer as unknown as new (...args: unknown[]) => { poll(max: number): Promise<{ offset: number }[]> };
  return new Constructor(client, new NativeClient('consumer under test'), {}, undefined);
}

describe('a consumer poll', () => {
  afterEach(() => vi.useRealTimers());

  it('keeps the messages of a consume that returned after its poll gave up, for the next poll', async () => {
    vi.useFakeTimers();
    const { client, pending } = slowClient();
    const consumer = consumerOver(client);
    const first = consumer.poll(100).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10_001);
    expect(await first).toMatchObject({ code: 'TIMEOUT' });
    pending[0]!(null, [{ offset: 7 }, { offset: 8 }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(await consumer.poll(100)).toEqual([{ offset: 7 }, { offset: 8 }]);
    expect(pending).toHaveLength(1);
  });

  it('waits on the consume still running instead of starting a second one', async () => {
    vi.useFakeTimers();
    const { client, pending } = slowClient();
    const consumer = consumerOver(client);
    void consumer.poll(100).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(10_001);
    const second = consumer.poll(100);
    expect(pending).toHaveLength(1);
    pending[0]!(null, [{ offset: 3 }]);
    expect(await second).toEqual([{ offset: 3 }]);
  });
});
