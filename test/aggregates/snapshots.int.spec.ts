// Snapshots against a real broker: a state loaded through any snapshot equals the full
// replay (property-based), a change of snapshot version falls back to the events, and a
// snapshot is never visible ahead of the events it folds in.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { account, type Account, type AccountCommand, type AccountEvent } from '../../examples/bank-account.js';
import { AppendAbortedError, EventStore, jsonStateCodec, type Decider, type KafkaEventStore } from '../../src/index.js';
import { KafkaAdmin, KafkaConsumer } from '../../src/kafka/index.js';
import { storedSnapshotFrom, type StoredSnapshot } from '../../src/records/snapshot-record.js';
import { owningAll } from '../support/ownership.js';
import { WriterProcess } from '../support/writer-processes.js';

const brokers = inject('brokers');

/** Every committed snapshot record of the store, as a plain read_committed consumer sees them. */
async function committedSnapshots(store: string, partitions: number): Promise<StoredSnapshot[]> {
  const topic = `${store}.snapshots`;
  const all = [...Array(partitions).keys()];
  const admin = KafkaAdmin.connect({ brokers });
  const ends = await admin.endOffsets(topic, all, 'read_committed');
  admin.disconnect();
  const consumer = await KafkaConsumer.connect({ brokers, isolation: 'read_committed' });
  consumer.assign(all.map((partition) => ({ topic, partition, offset: 0 })));
  const found: StoredSnapshot[] = [];
  const done = () => consumer.positions(all.map((partition) => ({ topic, partition }))).every((p) => p.offset >= (ends.get(p.partition) ?? 0) || (ends.get(p.partition) ?? 0) === 0);
  while (!done()) {
    for (const m of await consumer.consume(1000, 100)) {
      const snapshot = storedSnapshotFrom(m);
      if (snapshot) found.push(snapshot);
    }
  }
  await consumer.disconnect();
  return found;
}

async function replay<State, Event extends AccountEvent>(store: EventStore, decider: Decider<State, unknown, Event>, streamId: string, toVersion = Infinity): Promise<State> {
  let state = decider.initialState();
  for await (const e of store.readStream(streamId)) if (e.version <= toVersion) state = decider.evolve(state, e as unknown as Event);
  return state;
}

const command: fc.Arbitrary<AccountCommand> = fc.oneof(
  fc.record({ type: fc.constant('Deposit' as const), amount: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ type: fc.constant('Withdraw' as const), amount: fc.integer({ min: 1, max: 150 }) }),
);

describe('snapshots', () => {
  let store: KafkaEventStore;
  const name = `snapshots-${randomUUID().slice(0, 8)}`;
  const partitions = 2;

  beforeAll(async () => {
    store = await EventStore.connect({ brokers, store: name, partitions, dataDir: `.scribe/test/${name}/owner` });
    await owningAll(store);
  });
  afterAll(() => store?.close());

  it('the state loaded through a snapshot, and the state in every snapshot, equal the full replay of the events (property)', async () => {
    let run = 0;
    // One decider per name: register refuses a second decider under a name it knows.
    const deciders = new Map<number, typeof account>();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(command, { minLength: 1, maxLength: 25 }), fc.boolean(), async (every, commands, atOwner) => {
        const streamId = `prop-${run++}`;
        const decider = deciders.get(every) ?? { ...account, snapshot: { every } };
        deciders.set(every, decider);
        const deciderName = `account-every-${every}`;
        store.register(deciderName, decider);
        await store.handle(decider, streamId, { type: 'Open', owner: 'p' });
        for (const c of commands) {
          const applied = atOwner ? store.execute(deciderName, streamId, c) : store.handle(decider, streamId, c);
          await applied.catch((error: unknown) => {
            if ((error as { code?: string }).code !== 'INSUFFICIENT_FUNDS') throw error;
          });
        }
        const loaded = await store.load(decider, streamId);
        expect(loaded.state).toEqual(await replay(store, decider, streamId));
        if (loaded.version + 1 >= every) expect(loaded.fromSnapshot).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 20 },
    );
    const snapshots = await committedSnapshots(name, partitions);
    expect(snapshots.length).toBeGreaterThan(0);
    for (const snapshot of snapshots) {
      expect(jsonStateCodec.decode(snapshot.state)).toEqual(await replay(store, account, snapshot.streamId, snapshot.version));
    }
  }, 120_000);

  it('a snapshot of another snapshot version is ignored: the state is rebuilt from events, and a fresh snapshot is written', async () => {
    const v1 = { ...account, snapshot: { every: 2 } };
    await store.handle(v1, 'acc-v', { type: 'Open', owner: 'v' });
    for (let i = 1; i <= 4; i++) await store.handle(v1, 'acc-v', { type: 'Deposit', amount: i });
    expect((await store.load(v1, 'acc-v')).fromSnapshot).toBeDefined();

    // Version 2 keeps the balance in cents: a version-1 snapshot would be wrong for it.
    const v2: Decider<Account, AccountCommand, AccountEvent> = {
      ...v1,
      snapshotVersion: 2,
      evolve: (state, event) => (event.type === 'Opened' ? { open: true, balance: 0 } : { ...state, balance: state.balance + (event.type === 'Deposited' ? 100 : -100) * event.data.amount }),
    };
    const rebuilt = await store.load(v2, 'acc-v');
    expect(rebuilt).toEqual({ state: { open: true, balance: 1000 }, version: 4 });
    await store.handle(v2, 'acc-v', { type: 'Deposit', amount: 1 });
    expect(await store.load(v2, 'acc-v')).toEqual({ state: { open: true, balance: 1100 }, version: 5, fromSnapshot: 5 });
    const latest = (await committedSnapshots(name, partitions)).filter((s) => s.streamId === 'acc-v').at(-1)!;
    expect(latest).toMatchObject({ version: 5, snapshotVersion: 2 });
  });

  it('keeps BigInt and Date values in the default codec', () => {
    const state = { total: 12345678901234567890n, since: new Date('2026-01-02T03:04:05.678Z'), nested: [{ at: new Date(0) }] };
    expect(jsonStateCodec.decode(jsonStateCodec.encode(state))).toEqual(state);
  });
});

describe('a snapshot is written in the transaction of its events', () => {
  it('a failure after the events were produced and before the commit leaves neither the events nor the snapshot visible', async () => {
    const name = `snapfail-${randomUUID().slice(0, 8)}`;
    // This snapshots topic refuses records over 200 bytes: the padded state below is
    // refused by the broker after the events of its transaction reached the log.
    const admin = KafkaAdmin.connect({ brokers });
    await admin.createTopic({ name: `${name}.snapshots`, partitions: 1, replicationFactor: 1, config: { 'cleanup.policy': 'compact', 'max.message.bytes': '200' } });
    admin.disconnect();
    const store = await EventStore.connect({ brokers, store: name, partitions: 1, dataDir: `.scribe/test/${name}/owner` });
    try {
      await owningAll(store);
      const padded: Decider<{ padding: string; n: number }, 'add', { type: 'Added'; data: null }> = {
        initialState: () => ({ padding: 'x'.repeat(400), n: 0 }),
        evolve: (state) => ({ ...state, n: state.n + 1 }),
        decide: () => [{ type: 'Added', data: null }],
        snapshot: { every: 2 },
      };
      await store.handle(padded, 'padded', 'add'); // version 0: no snapshot due yet
      const error = await store.handle(padded, 'padded', 'add').catch((e: unknown) => e); // version 1: snapshot due, refused
      expect(error).toBeInstanceOf(AppendAbortedError);
      const events: number[] = [];
      for await (const e of store.readStream('padded')) events.push(e.version);
      expect(events).toEqual([0]);
      expect(await committedSnapshots(name, 1)).toEqual([]);
      expect(await store.load(padded, 'padded')).toEqual({ state: { padding: 'x'.repeat(400), n: 1 }, version: 0 });
    } finally {
      await store.close();
    }
  });
});

describe('a snapshot is never ahead of its events', () => {
  it('an owner killed (SIGKILL) while it runs commands that snapshot after every event leaves only snapshots of committed events', async () => {
    const name = `snapkill-${randomUUID().slice(0, 8)}`;
    const options = { brokers, store: name, partitions: 2, sessionTimeoutMs: 6_000 };
    const streams = Array.from({ length: 4 }, (_, i) => `acc-${i}`);
    const owner = await WriterProcess.start({ ...options, dataDir: `.scribe/test/${name}/owner` });
    try {
      while ((await owner.owned()).length < options.partitions) await new Promise((r) => setTimeout(r, 100));
      owner.send({ cmd: 'deposits', streams, workers: 8 });
      while (owner.reports.filter((r) => r.type === 'ack').length < 200) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      owner.kill('SIGKILL');
    } finally {
      await owner.close();
    }
    const acked = owner.reports.flatMap((r) => (r.type === 'ack' ? [r] : []));

    // The successor takes the partitions over; what it reads is what was committed.
    const successor = await EventStore.connect({ ...options, dataDir: `.scribe/test/${name}/successor` });
    try {
      await owningAll(successor);
      const heads = new Map<string, number>();
      for (const streamId of streams) {
        let head = -1;
        for await (const e of successor.readStream(streamId)) head = e.version;
        heads.set(streamId, head);
      }
      for (const ack of acked) expect(ack.version).toBeLessThanOrEqual(heads.get(ack.streamId)!);
      const snapshots = await committedSnapshots(name, options.partitions);
      expect(snapshots.length).toBeGreaterThan(0);
      for (const snapshot of snapshots) {
        expect(snapshot.version).toBeLessThanOrEqual(heads.get(snapshot.streamId)!);
        expect(jsonStateCodec.decode(snapshot.state)).toEqual(await replay(successor, account, snapshot.streamId, snapshot.version));
      }
      for (const streamId of streams) {
        const loaded = await successor.load({ ...account, snapshot: { every: 1 } }, streamId);
        expect(loaded).toMatchObject({ version: heads.get(streamId), state: await replay(successor, account, streamId) });
      }
      console.log(`killed after ${acked.length} acknowledged commands; ${snapshots.length} committed snapshots, none ahead of its events`);
    } finally {
      await successor.close();
    }
  }, 120_000);
});
