// `scribe partitions grow` and `scribe partitions status` against a live store whose writer
// runs in this process: the operator's view of a growth.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { EventStore, type KafkaEventStore } from '../../src/index.js';
import { scribe as scribeAt } from '../support/scribe-cli.js';

const brokers = inject('brokers');
const scribe = (...args: string[]) => scribeAt(brokers, ...args);

describe('scribe partitions', () => {
  const name = `cli-${randomUUID().slice(0, 8)}`;
  let store: KafkaEventStore;
  afterAll(async () => {
    await store?.close();
  });

  it('grows a live store with a progress display, then shows its routing table', async () => {
    store = await EventStore.connect({ brokers, store: name, partitions: 2, dataDir: `.scribe/test/${name}` });
    for (let i = 0; i < 20; i++) await store.append(`acc-${i}`, [{ type: 'Opened', data: {} }], { expectedVersion: 'no_stream' });

    const before = await scribe('partitions', 'status', '--store', name);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain('partitions: 2');

    const grown = await scribe('partitions', 'grow', '--store', name, '--to', '4');
    expect(grown.code, grown.stderr).toBe(0);
    expect(grown.stderr).toContain(`growing ${name} from 2 to 4 partitions (generation 1): 2 shard moves`);
    expect(grown.stderr).toMatch(/has 4 partitions; writes to a moving shard paused \d+ ms at the median/);

    const after = await scribe('partitions', 'status', '--store', name);
    expect(after.stdout).toContain('partitions: 4');
    expect(after.stdout).toContain('generations: 0: 2, 1: 4');
    expect(after.stdout).toMatch(/0 -> 2\s+open/);
    expect(after.stdout).toMatch(/1 -> 3\s+open/);
    expect(after.stdout).toContain('hand-overs in flight: none');

    // The store goes on: every stream takes its next event where the routing table sends it.
    for (let i = 0; i < 20; i++) await store.append(`acc-${i}`, [{ type: 'Deposited', data: {} }], { expectedVersion: 0 });
    expect(store.partitions).toBe(4);
  }, 300_000);

  it('refuses to shrink a store, and to touch a store that does not exist', async () => {
    const shrink = await scribe('partitions', 'grow', '--store', name, '--to', '3');
    expect(shrink.code).toBe(1);
    expect(shrink.stderr).toContain('a store never shrinks: it has 4 partitions');
    const missing = await scribe('partitions', 'status', '--store', `missing-${randomUUID().slice(0, 8)}`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no store "missing-');
  }, 120_000);
});
