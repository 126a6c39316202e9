// No librdkafka handle is destroyed while a call on it runs (issue 13: destroying a producer
// under a running sendOffsetsToTransaction deadlocked librdkafka and wedged the writer).
import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../../src/errors.js';
import { NativeClient, parkedClients, type NativeDone } from '../../src/kafka/native-client.js';

/** A stand-in for a native call: it returns when the test says so. */
function pendingCall<T>(): { start: (done: NativeDone<T>) => void; finish: (error: unknown, value?: T) => void } {
  let callback: NativeDone<T> | undefined;
  return { start: (done) => (callback = done), finish: (error, value) => callback!(error, value) };
}

describe('a native client', () => {
  it('answers a call with its value or its classified error', async () => {
    const client = new NativeClient('test');
    await expect(client.call<number>('read', 1_000, (done) => done(null, 42))).resolves.toBe(42);
    await expect(client.call('read', 1_000, (done) => done({ message: 'broker down', code: -195 }))).rejects.toMatchObject({ code: 'KAFKA_ERROR', kafkaCode: -195 });
    expect(client.inFlight).toBe(0);
  });

  it('bounds a call for its caller while the native call runs on', async () => {
    const client = new NativeClient('test');
    const call = pendingCall<void>();
    await expect(client.call('sendOffsetsToTransaction', 20, call.start)).rejects.toBeInstanceOf(TimeoutError);
    expect(client.inFlight).toBe(1);
    call.finish(null);
    expect(client.inFlight).toBe(0);
  });

  it('is destroyed only after the call running at close has returned', async () => {
    const client = new NativeClient('test');
    const call = pendingCall<void>();
    const order: string[] = [];
    void client.call('commitTransaction', 1_000, call.start);
    const closed = client.close(async () => void order.push('destroyed'), 1_000, 1_000);
    setTimeout(() => {
      order.push('call returned');
      call.finish(null);
    }, 20);
    await expect(closed).resolves.toBe('closed');
    expect(order).toEqual(['call returned', 'destroyed']);
  });

  it('is parked when a call outlives the grace period, and destroyed when it returns', async () => {
    const client = new NativeClient('parked producer');
    const call = pendingCall<void>();
    let destroyed = false;
    void client.call('sendOffsetsToTransaction', 10, call.start).catch(() => undefined);
    const started = Date.now();
    await expect(client.close(async () => void (destroyed = true), 30, 1_000)).resolves.toBe('parked');
    expect(Date.now() - started).toBeLessThan(500);
    expect(destroyed).toBe(false);
    expect(parkedClients()).toEqual([expect.stringMatching(/^parked producer \(waiting for sendOffsetsToTransaction for 0\.\d s\)$/)]);
    call.finish(null);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(destroyed).toBe(true);
    expect(parkedClients()).toEqual([]);
  });

  it('refuses new calls once closing, on itself and on calls that use it', async () => {
    const consumer = new NativeClient('consumer');
    const producer = new NativeClient('producer');
    await consumer.close(async () => undefined, 0, 100);
    await expect(consumer.call('consume', 100, (done) => done(null))).rejects.toThrow(/consumer is closed/);
    expect(() => consumer.sync('assign', () => undefined)).toThrow(/consumer is closed/);
    await expect(producer.call('sendOffsetsToTransaction', 100, (done) => done(null), [consumer])).rejects.toThrow(/consumer is closed/);
    expect(producer.inFlight).toBe(0);
  });

  it('keeps a handle that another client\'s call reads alive until that call returns', async () => {
    const consumer = new NativeClient('group consumer');
    const producer = new NativeClient('producer');
    const call = pendingCall<void>();
    const order: string[] = [];
    void producer.call('sendOffsetsToTransaction', 1_000, call.start, [consumer]);
    const closed = consumer.close(async () => void order.push('consumer destroyed'), 1_000, 1_000);
    setTimeout(() => {
      order.push('offsets sent');
      call.finish(null);
    }, 20);
    await closed;
    expect(order).toEqual(['offsets sent', 'consumer destroyed']);
  });

  it('answers every close with the first one\'s outcome, within the bound even if destruction hangs', async () => {
    const client = new NativeClient('test');
    const started = Date.now();
    const hanging = () => new Promise<void>(() => undefined);
    const [first, second] = await Promise.all([client.close(hanging, 0, 50), client.close(hanging, 0, 50)]);
    expect([first, second]).toEqual(['closed', 'closed']);
    expect(Date.now() - started).toBeLessThan(500);
  });
});
