// The operator's commands, end to end through `node bin/scribe.js` against the real broker:
// a store whose writer runs in this process, looked at and written to from the command line.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventStore, type Decider, type KafkaEventStore, type RecordedEvent } from '../../src/index.js';
import { KafkaProducer } from '../../src/kafka/index.js';
import { scribe as scribeAt, startScribe } from '../support/scribe-cli.js';

const brokers = inject('brokers');
const scribe = (...args: string[]) => scribeAt(brokers, ...args);

const counter: Decider<{ count: number }, { add: number }, { type: 'Added'; data: { add: number } }> = {
  initialState: () => ({ count: 0 }),
  evolve: (state, event) => ({ count: state.count + event.data.add }),
  decide: (command) => [{ type: 'Added', data: { add: command.add } }],
  snapshot: { every: 2 },
};

async function eventsOf(store: KafkaEventStore, streamId: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(streamId)) events.push(event);
  return events;
}

describe('the operator\'s commands', () => {
  const name = `ops-${randomUUID().slice(0, 8)}`;
  let store: KafkaEventStore;

  beforeAll(async () => {
    // The default index directory, `.scribe/<store>/<host>-<pid>`: `store describe` finds it.
    store = await EventStore.connect({ brokers, store: name, partitions: 2 });
    store.register('counter', counter);
    for (let i = 0; i < 4; i++) await store.append(`account-${i}`, [{ type: 'Opened', data: { owner: `owner-${i}` }, metadata: { by: 'spec' } }], { expectedVersion: 'no_stream' });
    await store.append('account-0', [{ type: 'Deposited', data: { amount: 5 } }, { type: 'Deposited', data: { amount: 7 } }], { expectedVersion: 0 });
    for (const add of [1, 2, 3]) await store.execute('counter', 'counter-1', { add });
  }, 180_000);

  afterAll(async () => {
    await store?.close();
    rmSync(join('.scribe', name), { recursive: true, force: true });
  });

  it('stores list: finds the store by its topics, with its partition count', async () => {
    const text = await scribe('stores', 'list');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^${name}\\s+2\\s+-$`, 'm'));
    const json = await scribe('stores', 'list', '--json');
    expect(JSON.parse(json.stdout)).toContainEqual({ store: name, partitions: 2, missingTopics: [] });
  });

  it('store describe: topics, generations, an owner per partition, no open transaction, log sizes', async () => {
    const json = await scribe('store', 'describe', name, '--json');
    expect(json.code, json.stderr).toBe(0);
    const described = JSON.parse(json.stdout);
    expect(described.partitions).toBe(2);
    expect(described.generations).toEqual([2]);
    expect(described.topics.map((t: { name: string }) => t.name).sort()).toEqual([`${name}.appends`, `${name}.events`, `${name}.replies`, `${name}.routing`, `${name}.snapshots`]);
    expect(described.writers).toMatchObject({ groupId: `${name}.writers`, state: 'STABLE', members: 1 });
    expect(described.partitionFacts).toHaveLength(2);
    for (const p of described.partitionFacts) {
      expect(p.owner, `partition ${p.partition}`).not.toBeNull();
      expect(p.openTransaction).toBe(false);
      expect(p.log.stable).toBe(p.log.end);
    }
    // 4 + 2 + 3 events, each transaction followed by its commit marker.
    const records = described.partitionFacts.reduce((sum: number, p: { log: { start: number; end: number } }) => sum + p.log.end - p.log.start, 0);
    expect(records).toBeGreaterThanOrEqual(9);
    expect(described.partitionFacts.reduce((sum: number, p: { snapshotRecords: number }) => sum + p.snapshotRecords, 0)).toBeGreaterThanOrEqual(1);

    expect(described.localIndexes).toEqual([{ dir: resolve('.scribe', name, `${hostname()}-${process.pid}`), bytes: expect.any(Number) }]);
    expect(described.localIndexes[0].bytes).toBeGreaterThan(0);

    const text = await scribe('store', 'describe', name);
    expect(text.stdout).toContain(`store ${name}: 2 partitions; generations 0: 2`);
    expect(text.stdout).toContain('open transactions: none');
    expect(text.stdout).toMatch(/^0\s+127\.0\.0\.1 \S{8}\s+\d+/m);
  });

  it('store describe: a transaction left open on a partition shows there until it ends', async () => {
    const producer = await KafkaProducer.connect({ brokers, clientId: 'spec-open-transaction', transactionalId: `${name}-spec-open`, transactionTimeoutMs: 60_000 });
    try {
      await producer.initTransactions(30_000);
      await producer.beginTransaction();
      await producer.send({ topic: `${name}.events`, partition: 1, key: 'never-committed', value: Buffer.from('{}'), headers: [] });
      const open = JSON.parse((await scribe('store', 'describe', name, '--json')).stdout);
      expect(open.partitionFacts.map((p: { openTransaction: boolean }) => p.openTransaction)).toEqual([false, true]);
      expect(open.partitionFacts[1].log.stable).toBeLessThan(open.partitionFacts[1].log.end);
      const text = await scribe('store', 'describe', name);
      expect(text.stdout).toContain('open transactions: on partition(s) 1 ');
      await producer.abortTransaction(30_000);
      const ended = JSON.parse((await scribe('store', 'describe', name, '--json')).stdout);
      expect(ended.partitionFacts.map((p: { openTransaction: boolean }) => p.openTransaction)).toEqual([false, false]);
    } finally {
      await producer.disconnect();
    }
  });

  it('streams read: the events in version order with type, position and data; --from, --max, --json', async () => {
    const all = await scribe('streams', 'read', 'account-0', '--store', name);
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^account-0@0 {2}Opened {2}\d+\/\d+ {2}\S+Z {2}\{"owner":"owner-0"\} {2}metadata \{"by":"spec"\}$/);
    expect(lines[1]).toMatch(/^account-0@1 {2}Deposited .*\{"amount":5\}$/);
    expect(lines[2]).toMatch(/^account-0@2 {2}Deposited .*\{"amount":7\}$/);

    const some = await scribe('streams', 'read', 'account-0', '--store', name, '--from', '1', '--max', '1', '--json');
    const events = some.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ streamId: 'account-0', version: 1, type: 'Deposited', data: { amount: 5 }, metadata: {} });
    expect(events[0].position).toEqual({ partition: store.partitionOf('account-0'), offset: expect.stringMatching(/^\d+$/) });
  });

  it('streams append: through the stream\'s owner, with the expected version checked; a conflict is one line and exit 1', async () => {
    const first = await scribe('streams', 'append', 'cli-stream', '--store', name, '--type', 'Opened', '--data', '{"owner":"cli"}', '--expected-version', 'no_stream', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ streamId: 'cli-stream', version: 0 });
    const second = await scribe('streams', 'append', 'cli-stream', '--store', name, '--type', 'Renamed', '--data', '{"owner":"ops"}', '--metadata', '{"ticket":"OPS-1"}', '--expected-version', '0');
    expect(second.stdout).toMatch(/^appended Renamed to cli-stream at version 1 \(event [0-9a-f-]{36}, partition \d+, offset \d+\)$/m);

    const conflict = await scribe('streams', 'append', 'cli-stream', '--store', name, '--type', 'Renamed', '--data', '{}', '--expected-version', '0');
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toBe('scribe: stream "cli-stream" is at version 1, the append expected version 0 (WRONG_EXPECTED_VERSION)\n');
    const notJson = await scribe('streams', 'append', 'cli-stream', '--store', name, '--type', 'Renamed', '--data', '{oops');
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^scribe: --data: is not JSON: .* \(INVALID_ARGUMENT\)\n$/);
    const badVersion = await scribe('streams', 'append', 'cli-stream', '--store', name, '--type', 'X', '--data', '{}', '--expected-version', 'latest');
    expect(badVersion.stderr).toMatch(/^scribe: --expected-version: "latest" must be a version .* \(INVALID_ARGUMENT\)\n$/);

    const events = await eventsOf(store, 'cli-stream');
    expect(events.map((e) => [e.version, e.type, e.data, e.metadata])).toEqual([
      [0, 'Opened', { owner: 'cli' }, {}],
      [1, 'Renamed', { owner: 'ops' }, { ticket: 'OPS-1' }],
    ]);
  });

  it('streams append --writer: appends to a store that has no writer running, as a writer for the one append', async () => {
    const quiet = `ops-quiet-${randomUUID().slice(0, 8)}`;
    const reader = await EventStore.connect({ brokers, store: quiet, partitions: 1, writer: false, dataDir: `.scribe/test/${quiet}` });
    try {
      // Without --writer: said at once, not after the 30 s an unanswered request waits.
      const started = Date.now();
      const refused = await scribe('streams', 'append', 'lonely', '--store', quiet, '--type', 'Opened', '--data', '{}');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`^scribe: partition 0: no writer process runs for ${quiet} \\(its group ${quiet}\\.writers is \\w+\\): start one, or append with --writer; nothing was stored, retry \\(OWNERSHIP_CHANGED\\)\n$`));
      expect(Date.now() - started).toBeLessThan(20_000);

      const appended = await scribe('streams', 'append', 'lonely', '--store', quiet, '--type', 'Opened', '--data', '{}', '--expected-version', 'no_stream', '--writer', '--json');
      expect(appended.code, appended.stderr).toBe(0);
      expect(JSON.parse(appended.stdout)).toMatchObject({ streamId: 'lonely', version: 0, position: { partition: 0 } });
      expect((await eventsOf(reader, 'lonely')).map((e) => e.type)).toEqual(['Opened']);
    } finally {
      await reader.close();
    }
  });

  it('streams read --follow: the events so far, then new ones as they commit', async () => {
    const follow = startScribe(brokers, 'streams', 'read', 'account-1', '--store', name, '--follow', '--max', '3', '--json');
    await follow.printed('following account-1');
    await store.append('account-1', [{ type: 'Deposited', data: { amount: 1 } }], { expectedVersion: 0 });
    await store.append('account-2', [{ type: 'Deposited', data: { amount: 99 } }], { expectedVersion: 0 });
    await store.append('account-1', [{ type: 'Deposited', data: { amount: 2 } }], { expectedVersion: 1 });
    expect(await follow.exited).toBe(0);
    const events = follow.stdout().trim().split('\n').map((line) => JSON.parse(line));
    expect(events.map((e: RecordedEvent) => [e.version, e.type, e.data])).toEqual([
      [0, 'Opened', { owner: 'owner-1' }],
      [1, 'Deposited', { amount: 1 }],
      [2, 'Deposited', { amount: 2 }],
    ]);
  });

  it('streams tail --prefix: new events of matching streams only, live', async () => {
    const tail = startScribe(brokers, 'streams', 'tail', '--store', name, '--prefix', 'order-', '--max', '2');
    await tail.printed('tailing');
    await store.append('account-3', [{ type: 'Deposited', data: { amount: 3 } }], { expectedVersion: 0 });
    await store.append('order-1', [{ type: 'Placed', data: { sku: 'a' } }], { expectedVersion: 'no_stream' });
    await store.append('order-2', [{ type: 'Placed', data: { sku: 'b' } }], { expectedVersion: 'no_stream' });
    expect(await tail.exited).toBe(0);
    const lines = tail.stdout().trim().split('\n').sort();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^order-1@0 {2}Placed .*\{"sku":"a"\}$/);
    expect(lines[1]).toMatch(/^order-2@0 {2}Placed .*\{"sku":"b"\}$/);
  });

  it('subscriptions list and lag: a named subscription behind the log, per partition', async () => {
    const handled: RecordedEvent[] = [];
    const subscription = await store.subscribe({ name: 'balances', from: 'start' }, (event) => void handled.push(event));
    const deadline = Date.now() + 30_000;
    while (handled.length < 9 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await subscription.stop();
    for (let i = 0; i < 3; i++) await store.append('account-lagging', [{ type: 'Deposited', data: { i } }], { expectedVersion: i - 1 });

    const list = await scribe('subscriptions', 'list', '--store', name, '--json');
    expect(list.code, list.stderr).toBe(0);
    const [balances] = JSON.parse(list.stdout);
    expect(balances).toMatchObject({ name: 'balances', groupId: `${name}.events.subscription.balances`, state: 'EMPTY', members: 0 });
    expect(balances.events).toBeGreaterThanOrEqual(3);
    expect(balances.seconds).toBeGreaterThan(0);

    const lag = await scribe('subscriptions', 'lag', 'balances', '--store', name, '--json');
    const [detail] = JSON.parse(lag.stdout);
    const partition = store.partitionOf('account-lagging');
    const behind = detail.partitions.find((p: { partition: number }) => p.partition === partition);
    expect(behind.events).toBeGreaterThanOrEqual(3);
    expect(Number(behind.end)).toBeGreaterThan(Number(behind.position));

    const text = await scribe('subscriptions', 'lag', '--store', name);
    expect(text.stdout).toMatch(/^subscription balances \(EMPTY, 0 member\(s\)\): \d+ event\(s\) behind, oldest \d+\.\d s$/m);
    const missing = await scribe('subscriptions', 'lag', 'nobody', '--store', name);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no subscription "nobody"');
  });

  it('snapshots show: the latest snapshot in <store>.snapshots with its version and state', async () => {
    const json = await scribe('snapshots', 'show', 'counter-1', '--store', name, '--json');
    expect(json.code, json.stderr).toBe(0);
    const snapshot = JSON.parse(json.stdout);
    // Snapshots every 2 events: the one after the second command (version 1) holds 1 + 2.
    expect(snapshot).toMatchObject({ streamId: 'counter-1', version: 1, snapshotVersion: 1, state: { count: 3 } });
    expect(snapshot.position.partition).toBe(store.partitionOf('counter-1'));

    const text = await scribe('snapshots', 'show', 'counter-1', '--store', name);
    expect(text.stdout).toMatch(/^snapshot of counter-1 at version 1 \(snapshot version 1, event at \d+\/\d+, written \S+Z, \d+ bytes\)$/m);
    const none = await scribe('snapshots', 'show', 'account-0', '--store', name);
    expect(none.stdout).toBe(`no snapshot of account-0 in ${name}.snapshots\n`);
  });

  it('a store that does not exist, a stream that does not, bad flags: one line with the code, exit 1', async () => {
    const missingStore = await scribe('store', 'describe', `missing-${randomUUID().slice(0, 8)}`);
    expect(missingStore.code).toBe(1);
    expect(missingStore.stderr).toMatch(/^scribe: <store>: no store "missing-\w+" at .* \(INVALID_ARGUMENT\)\n$/);
    const missingStream = await scribe('streams', 'read', 'nobody', '--store', name);
    expect(missingStream.code).toBe(1);
    expect(missingStream.stderr).toBe('scribe: stream "nobody" has no events (STREAM_NOT_FOUND)\n');
    const badMax = await scribe('streams', 'read', 'account-0', '--store', name, '--max', '0');
    expect(badMax.stderr).toBe('scribe: --max: "0" must be an integer from 1 to 1000000000 (INVALID_ARGUMENT)\n');
  });
});
