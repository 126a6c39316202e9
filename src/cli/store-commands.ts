// `scribe stores list` and `scribe store describe <store>`: which stores a cluster holds, and
// one store's topics, routing generations, partition owners, open transactions and sizes.
import type { Command } from 'commander';
import { listStores } from '../operator/stores.js';
import { describeStore, type StoreDescription } from '../operator/store-description.js';
import { withConnectionFlags, type ConnectionFlags } from './connection-flags.js';
import { json, out, table, type JsonFlag } from './output.js';
import { withAdmin, withStore } from './store-session.js';

function printDescription(d: StoreDescription): void {
  out(`store ${d.store}: ${d.partitions} partitions; generations ${d.generations.map((count, g) => `${g}: ${count}`).join(', ')}`);
  out(`topics: ${d.topics.map((t) => `${t.name} (${t.partitions})`).join(', ')}`);
  out(`writers: group ${d.writers.groupId}, ${d.writers.state}, ${d.writers.members} member(s)`);
  const open = d.partitionFacts.filter((p) => p.openTransaction).map((p) => p.partition);
  out(`open transactions: ${open.length === 0 ? 'none' : `on partition(s) ${open.join(', ')}`} (from each partition's last stable offset; the Kafka client cannot list transactional ids)`);
  out('');
  for (const line of table(
    ['partition', 'owner', 'records', 'end', 'stable', 'txn', 'snapshots'],
    d.partitionFacts.map((p) => [
      String(p.partition),
      p.owner ? `${p.owner.host} ${p.owner.memberId.slice(-8)}` : '-',
      String(p.log.end - p.log.start),
      String(p.log.end),
      String(p.log.stable),
      p.openTransaction ? 'open' : '-',
      String(p.snapshotRecords),
    ]),
  )) out(line);
  out('');
  if (d.localIndexes.length === 0) out('local indexes: none under .scribe/ here (each writer keeps its own on its own disk)');
  else for (const index of d.localIndexes) out(`local index ${index.dir}: ${(index.bytes / 1_048_576).toFixed(1)} MB`);
}

export function storeCommands(program: Command): void {
  const stores = program.command('stores').description('the stores a cluster holds');
  withConnectionFlags(stores.command('list'))
    .description('every store on the cluster (found by its topics), with its partition count')
    .option('--json', 'print JSON')
    .action(async (options: ConnectionFlags & JsonFlag) => {
      const found = await withAdmin(options, (admin) => listStores(admin));
      if (options.json) return out(json(found, 2));
      if (found.length === 0) return out('no stores');
      for (const line of table(
        ['store', 'partitions', 'missing topics'],
        found.map((s) => [s.store, String(s.partitions), s.missingTopics.join(', ') || '-']),
      )) out(line);
    });

  const store = program.command('store').description('one store');
  withConnectionFlags(store.command('describe'))
    .description("a store's topics, routing generations, the owner of each partition, open transactions, log and index sizes")
    .argument('<store>', 'the store (its topic prefix)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: ConnectionFlags & JsonFlag) => {
      const description = await withStore(options, name, { argument: '<store>' }, ({ store, admin }) => describeStore(store, admin));
      if (options.json) out(json(description, 2));
      else printDescription(description);
    });
}
