// What a store reports about its own work, on a real broker: each append settled (at a local
// or a remote owner, with its outcome), ownership gained, the index catching up, a
// subscription's lag; the log option receives the operational events as lines.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventStore, type KafkaEventStore, type StoreEvent } from '../../src/index.js';
import { owningAll } from '../support/ownership.js';

const brokers = inject('brokers');

type Seen = StoreEvent & { readonly time: number };
const ofType = <T extends StoreEvent['type']>(events: readonly Seen[], type: T) => events.filter((e): e is Extract<Seen, { type: T }> => e.type === type);

async function eventually(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); ) {
    if (Date.now() > deadline) throw new Error('not within the bound');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('instrumentation', () => {
  const name = `instr-${randomUUID().slice(0, 8)}`;
  const atOwner: Seen[] = [];
  const atClient: Seen[] = [];
  const clientLines: string[] = [];
  let owner: KafkaEventStore;
  let client: KafkaEventStore;

  beforeAll(async () => {
    owner = await EventStore.connect({ brokers, store: name, partitions: 2, dataDir: `.scribe/test/${name}-owner`, on: (event) => atOwner.push(event) });
    await owningAll(owner);
    client = await EventStore.connect({
      brokers,
      store: name,
      writer: false,
      dataDir: `.scribe/test/${name}-client`,
      on: [(event) => atClient.push(event)],
      log: (line) => clientLines.push(line),
    });
  });
  afterAll(async () => {
    await Promise.all([client?.close(), owner?.close()]);
  });

  it('reports ownership gained by the writer group', () => {
    expect(ofType(atOwner, 'ownership-gained').flatMap((e) => e.partitions).sort()).toEqual([0, 1]);
  });

  it('reports every append once settled, with where the owner ran, its outcome and its duration', async () => {
    await owner.append('s-local', [{ type: 'A', data: {} }], { expectedVersion: 'no_stream' });
    await client.append('s-remote', [{ type: 'A', data: {} }, { type: 'B', data: {} }], { expectedVersion: 'no_stream' });
    await client.append('s-remote', [{ type: 'C', data: {} }], { expectedVersion: 'no_stream' }).catch(() => undefined);
    expect(ofType(atOwner, 'append-settled')).toMatchObject([{ streamId: 's-local', owner: 'local', outcome: 'ok', events: 1, partition: owner.partitionOf('s-local') }]);
    expect(ofType(atClient, 'append-settled')).toMatchObject([
      { streamId: 's-remote', owner: 'remote', outcome: 'ok', events: 2 },
      { streamId: 's-remote', owner: 'remote', outcome: 'WRONG_EXPECTED_VERSION', events: 1 },
    ]);
    for (const event of [...ofType(atOwner, 'append-settled'), ...ofType(atClient, 'append-settled')]) {
      expect(event.durationMs).toBeGreaterThan(0);
      expect(event.time).toBeGreaterThan(0);
    }
  });

  it('reports the index catching up with what a read waits for', async () => {
    const events = [];
    for await (const event of client.readStream('s-remote')) events.push(event);
    expect(events).toHaveLength(2);
    const partition = client.partitionOf('s-remote');
    const progress = ofType(atClient, 'index-caught-up').filter((e) => e.partition === partition);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ behind: 0 });
    expect(progress.at(-1)!.offset).toBeGreaterThan(Number(events[1]!.position.offset));
  });

  it('reports a subscription\'s lag after it handled a batch', async () => {
    const group = `lag-${randomUUID().slice(0, 8)}`;
    let handled = 0;
    const subscription = await client.subscribe({ from: 'start', name: group }, () => {
      handled++;
    });
    try {
      await eventually(() => handled >= 3 && ofType(atClient, 'subscription-lag').some((e) => e.group.endsWith(group)));
      const lag = ofType(atClient, 'subscription-lag').find((e) => e.group.endsWith(group))!;
      expect(lag.events).toBeGreaterThanOrEqual(0);
      expect(lag.seconds).toBeGreaterThanOrEqual(0);
    } finally {
      await subscription.stop();
    }
  });

  it('gives the log the operational events as lines, and observe() adds and removes a listener', async () => {
    expect(clientLines.some((line) => line.includes('new or unusable, building it from Kafka'))).toBe(true);
    expect(clientLines.some((line) => line.includes('append to'))).toBe(false);
    const seen: string[] = [];
    const stop = owner.observe((event) => seen.push(event.type));
    await owner.append('s-observed', [{ type: 'A', data: {} }], { expectedVersion: 'no_stream' });
    stop();
    await owner.append('s-observed', [{ type: 'B', data: {} }], { expectedVersion: 0 });
    expect(seen.filter((type) => type === 'append-settled')).toHaveLength(1);
    expect(() => owner.observe('nope' as never)).toThrow(/^listener: must be a function/);
  });
});
