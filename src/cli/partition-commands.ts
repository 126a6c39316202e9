// `scribe partitions ...`: grow a live store's partition count and show its routing table.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { KafkaAdmin } from '../kafka/index.js';
import { integerFlag, storeFlag } from './arguments.js';
import { connectionOf, withConnectionFlags, type ConnectionFlags } from './connection-flags.js';
import { KafkaEventStore, type RoutingStatus } from '../store/event-store.js';
import { topicNames } from '../store/topics.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

export interface StoreOptions extends ConnectionFlags {
  readonly store: string;
}

/** Connects to an existing store without owning partitions; a store that does not exist is an error, never created. */
export async function openStore(options: StoreOptions, run: (store: KafkaEventStore) => Promise<void>): Promise<void> {
  const connection = connectionOf(options, 'scribe-cli');
  const { brokers } = connection;
  const store = storeFlag(options.store);
  const admin = KafkaAdmin.connect(connection);
  try {
    if (!(await admin.listTopics()).includes(topicNames(store).events)) {
      // A secured cluster lists only the topics the principal may describe.
      const hidden = connection.security ? ', or this principal may not see it: a topic without an ACL of the principal is not listed (`scribe acls` prints what each role needs)' : '';
      throw new InvalidArgumentError('--store', `no store "${store}" at ${brokers.join(',')} (its topic ${topicNames(store).events} does not exist${hidden})`);
    }
  } finally {
    // A refused first call may still run in librdkafka: parked after a second rather than waited for.
    await admin.disconnect(1_000);
  }
  // Its index is only needed for this command.
  const dataDir = mkdtempSync(join(tmpdir(), 'scribe-cli-'));
  try {
    const opened = await KafkaEventStore.connect({ brokers, store, writer: false, dataDir, clientId: 'scribe-cli', ...(connection.kafka ? { kafka: connection.kafka } : {}) });
    try {
      await run(opened);
    } finally {
      await opened.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function printStatus(status: RoutingStatus): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`partitions: ${status.partitions}`);
  out(`generations: ${status.generations.map((count, g) => `${g}: ${count}`).join(', ')}`);
  if (status.generations.length < 2) return;
  out(`moves of generation ${status.generations.length - 1}:`);
  out('  from -> to   state     sealed at   opened at   pause');
  for (const move of [...status.moves].sort((a, b) => a.from - b.from || a.to - b.to)) {
    const pause = move.openedTime === undefined ? '' : `${move.openedTime - move.sealedTime} ms`;
    out(`  ${String(move.from).padStart(4)} -> ${String(move.to).padEnd(4)} ${move.state.padEnd(9)} ${String(move.sealedAt).padStart(9)}   ${String(move.openedAt ?? '').padStart(9)}   ${pause}`);
  }
  const inFlight = status.pending.filter((p) => p.state === 'sealed');
  const planned = status.pending.filter((p) => p.state === 'planned');
  out(inFlight.length === 0 ? 'hand-overs in flight: none' : `hand-overs in flight (sealed, not opened yet): ${inFlight.map((p) => `${p.from}->${p.to}`).join(', ')}`);
  if (planned.length > 0) out(`moves not started: ${planned.length} (run \`scribe partitions grow --to ${status.partitions}\` to finish them)`);
}

export function partitionCommands(program: Command): void {
  const partitions = program.command('partitions').description("a store's partitions: grow them online, show the routing table");

  withConnectionFlags(partitions
    .command('grow'))
    .description('raise the partition count of a live store; shards move one hand-over at a time while appends go on (needs running writer processes)')
    .requiredOption('--store <name>', 'the store (its topic prefix)')
    .requiredOption('--to <partitions>', 'the new partition count')
    .action(async (options: StoreOptions & { to: string }) => {
      const target = integerFlag(options.to, '--to', 1, 10_000);
      await openStore(options, async (store) => {
        const before = store.partitions;
        const bar = new cliProgress.SingleBar(
          { format: 'moving shards [{bar}] {value}/{total} | last: {last} | {eta_formatted} left', hideCursor: true, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        const pauses: number[] = [];
        let started = false;
        const result = await store.grow(target, {
          onProgress: (p) => {
            if (!started) {
              started = true;
              log(`growing ${options.store} from ${before} to ${p.partitions} partitions (generation ${p.generation}): ${p.total} shard moves`);
              bar.start(p.total, p.moved, { last: '-' });
            }
            if (p.completed) {
              pauses.push(p.completed.pauseMs);
              bar.update(p.moved, { last: `${p.completed.from}->${p.completed.to} paused ${p.completed.pauseMs} ms` });
            }
          },
        });
        if (started) bar.stop();
        pauses.sort((a, b) => a - b);
        const median = pauses.length > 0 ? pauses[Math.floor(pauses.length / 2)] : undefined;
        log(
          result.partitions === before && pauses.length === 0
            ? `${options.store} already has ${result.partitions} partitions`
            : `${options.store} has ${result.partitions} partitions; writes to a moving shard paused ${median ?? 0} ms at the median, ${pauses[pauses.length - 1] ?? 0} ms at most`,
        );
      });
    });

  withConnectionFlags(partitions
    .command('status'))
    .description('show the routing table: partition counts by generation, shard moves and hand-overs in flight')
    .requiredOption('--store <name>', 'the store (its topic prefix)')
    .action(async (options: StoreOptions) => {
      await openStore(options, async (store) => printStatus(await store.routingStatus()));
    });
}
