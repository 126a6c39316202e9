// `scribe snapshots show <stream>`: the stream's latest snapshot in `<store>.snapshots` (the
// version it folds in, the decider's snapshot version, where its event is, the state).
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { jsonStateCodec } from '../aggregates/state-codec.js';
import { snapshotsOf } from '../operator/snapshots.js';
import type { StoredSnapshot } from '../records/snapshot-record.js';
import { streamArgument } from './arguments.js';
import { withConnectionFlags, type ConnectionFlags } from './connection-flags.js';
import { json, out, type JsonFlag } from './output.js';
import { withStore } from './store-session.js';

/** The state as the default codec reads it, else (a codec of the application's own) its bytes in base64. */
function stateOf(snapshot: StoredSnapshot): { state?: unknown; stateBase64?: string } {
  try {
    return { state: jsonStateCodec.decode(snapshot.state) };
  } catch {
    return { stateBase64: snapshot.state.toString('base64') };
  }
}

function shown(snapshot: StoredSnapshot): Record<string, unknown> {
  return {
    streamId: snapshot.streamId,
    version: snapshot.version,
    snapshotVersion: snapshot.snapshotVersion,
    position: { partition: snapshot.partition, offset: String(snapshot.offset) },
    timestamp: new Date(snapshot.timestamp).toISOString(),
    bytes: snapshot.state.length,
    ...stateOf(snapshot),
  };
}

export function snapshotCommands(program: Command): void {
  const snapshots = program.command('snapshots').description("a store's snapshots");

  withConnectionFlags(snapshots.command('show'))
    .description("the stream's latest snapshot as written to <store>.snapshots (--all: every one compaction has kept)")
    .argument('<stream>', 'the stream id')
    .requiredOption('--store <name>', 'the store (its topic prefix)')
    .option('--all', 'every snapshot record of the stream still in the topic, oldest first')
    .option('--json', 'print JSON')
    .action(async (stream: string, options: ConnectionFlags & JsonFlag & { store: string; all?: boolean }) => {
      const streamId = streamArgument(stream);
      const found = await withStore(options, options.store, {}, async ({ store, admin, connection }) => {
        const bar = new cliProgress.SingleBar({ format: 'reading snapshots [{bar}] {value}/{total} records', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
        let started = false;
        try {
          return await snapshotsOf(connection, admin, store.name, streamId, ({ read, total }) => {
            if (!started) bar.start(total, 0);
            started = true;
            bar.update(read);
          });
        } finally {
          if (started) bar.stop();
        }
      });
      const chosen = options.all ? found : found.slice(-1);
      if (options.json) return out(json(options.all ? chosen.map(shown) : (chosen[0] ? shown(chosen[0]) : null), 2));
      if (chosen.length === 0) return out(`no snapshot of ${streamId} in ${options.store}.snapshots`);
      for (const snapshot of chosen) {
        const s = shown(snapshot);
        out(`snapshot of ${streamId} at version ${snapshot.version} (snapshot version ${snapshot.snapshotVersion}, event at ${snapshot.partition}/${snapshot.offset}, written ${String(s.timestamp)}, ${snapshot.state.length} bytes)`);
        out(s.state !== undefined ? json(s.state, 2) : `state (not JSON; base64): ${String(s.stateBase64)}`);
      }
    });
}
