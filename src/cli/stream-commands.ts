// `scribe streams read` and `scribe streams tail`: a stream's events, then (with --follow) its
// new ones as they commit; the store's new events live, all or those of streams with a prefix.
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { StreamNotFoundError } from '../streams/errors.js';
import type { RecordedEvent } from '../streams/event.js';
import { integerFlag, streamArgument } from './arguments.js';
import { appendCommand } from './append-command.js';
import { showIndexProgress } from './index-progress.js';
import { withConnectionFlags, type ConnectionFlags } from './connection-flags.js';
import { eventView } from '../operator/event-view.js';
import { eventLine, json, note, out, type JsonFlag } from './output.js';
import { untilInterrupted, withStore } from './store-session.js';

interface StoreFlag {
  readonly store: string;
}

function printer(options: JsonFlag): (event: RecordedEvent) => void {
  return options.json ? (event) => out(json(eventView(event))) : (event) => out(eventLine(event));
}

/** Waits until `count` reaches `max` (when given) or the process is interrupted. */
function untilDone(max: number | undefined): { readonly counted: () => void; readonly done: Promise<void> } {
  let count = 0;
  let reached: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => (reached = resolve));
  return {
    counted: () => {
      if (max !== undefined && ++count >= max) reached();
    },
    done: Promise.race([enough, untilInterrupted()]),
  };
}

export function streamCommands(program: Command): void {
  const streams = program.command('streams').description("a store's streams: read, follow, tail, append");

  withConnectionFlags(streams.command('read'))
    .description("a stream's events in version order, one a line (--json: one JSON object a line); --follow waits for new ones")
    .argument('<stream>', 'the stream id')
    .requiredOption('--store <name>', 'the store (its topic prefix)')
    .option('--from <version>', 'first version to read (default 0)')
    .option('--max <count>', 'at most this many events (with --follow: stop after this many)')
    .option('--follow', 'after the last event, print new ones as they commit, until Ctrl-C')
    .option('--partition-key <key>', 'the partition key the stream was appended with, when not its id')
    .option('--json', 'one JSON object per event (streamId, version, type, id, data, metadata, position, timestamp)')
    .action(async (stream: string, options: ConnectionFlags & StoreFlag & JsonFlag & { from?: string; max?: string; follow?: boolean; partitionKey?: string }) => {
      const streamId = streamArgument(stream);
      const from = options.from === undefined ? 0 : integerFlag(options.from, '--from', 0, Number.MAX_SAFE_INTEGER);
      const max = options.max === undefined ? undefined : integerFlag(options.max, '--max', 1, 1_000_000_000);
      const partitionKey = options.partitionKey === undefined ? undefined : streamArgument(options.partitionKey, '--partition-key');
      const print = printer(options);
      await withStore(options, options.store, {}, async ({ store }) => {
        const progress = untilDone(max);
        let next = from;
        const show = (event: RecordedEvent) => {
          if (event.version < next || (max !== undefined && next - from >= max)) return;
          next = event.version + 1;
          print(event);
          progress.counted();
        };
        // Subscribed before reading: an event committed between the read and the subscription is never missed.
        const pending: RecordedEvent[] = [];
        let reading = true;
        const live = options.follow
          ? await store.subscribe({ from: 'end' }, (event) => {
              if (event.streamId !== streamId) return;
              if (reading) pending.push(event);
              else show(event);
            })
          : undefined;
        try {
          const hideProgress = showIndexProgress(store);
          try {
            for await (const event of store.readStream(streamId, {
              fromVersion: from,
              ...(max === undefined ? {} : { maxCount: max }),
              ...(partitionKey === undefined ? {} : { partitionKey }),
            })) {
              hideProgress();
              show(event);
            }
          } catch (error) {
            if (!(error instanceof StreamNotFoundError) || !live) throw error;
          } finally {
            hideProgress();
          }
          reading = false;
          for (const event of pending.sort((a, b) => a.version - b.version)) show(event);
          if (!live) return;
          if (max === undefined || next - from < max) {
            note(`following ${streamId} in ${store.name} from version ${next} (Ctrl-C to stop)`);
            await progress.done;
          }
        } finally {
          await live?.stop();
        }
      });
    });

  appendCommand(streams);

  withConnectionFlags(streams.command('tail'))
    .description("the store's events as they commit, all streams or those whose id starts with --prefix, until Ctrl-C")
    .requiredOption('--store <name>', 'the store (its topic prefix)')
    .option('--prefix <text>', 'only streams whose id starts with this')
    .option('--max <count>', 'stop after this many events')
    .option('--json', 'one JSON object per event')
    .action(async (options: ConnectionFlags & StoreFlag & JsonFlag & { prefix?: string; max?: string }) => {
      const prefix = options.prefix;
      if (prefix !== undefined && prefix.length === 0) throw new InvalidArgumentError('--prefix', 'must not be empty (leave it out to tail every stream)');
      const max = options.max === undefined ? undefined : integerFlag(options.max, '--max', 1, 1_000_000_000);
      const print = printer(options);
      await withStore(options, options.store, {}, async ({ store }) => {
        const progress = untilDone(max);
        let printed = 0;
        const live = await store.subscribe({ from: 'end' }, (event) => {
          if (prefix !== undefined && !event.streamId.startsWith(prefix)) return;
          if (max !== undefined && printed >= max) return;
          printed++;
          print(event);
          progress.counted();
        });
        note(`tailing ${store.name}${prefix === undefined ? '' : `, streams ${prefix}*`} (Ctrl-C to stop)`);
        try {
          await progress.done;
        } finally {
          await live.stop();
        }
      });
    });
}
