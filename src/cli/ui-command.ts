// `scribe ui --store <store>`: serves the stream browser (src/stream-browser/) until Ctrl-C.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { StreamCatalog } from '../operator/stream-catalog.js';
import { startStreamBrowser } from '../stream-browser/server.js';
import { topicNames } from '../store/topics.js';
import { integerFlag } from './arguments.js';
import { withConnectionFlags, type ConnectionFlags } from './connection-flags.js';
import { note, out } from './output.js';
import { untilInterrupted, withStore } from './store-session.js';

interface UiFlags extends ConnectionFlags {
  readonly store: string;
  readonly port?: string;
  readonly host?: string;
  readonly allowAppend?: boolean;
}

export function uiCommand(program: Command): void {
  withConnectionFlags(program.command('ui'))
    .description("serves a stream browser: streams, a stream's events, the live tail, partition owners, subscription lag (read-only unless --allow-append)")
    .requiredOption('--store <name>', 'the store (its topic prefix)')
    .option('--port <port>', 'the port to listen on (default 8080; 0: a free one)', '8080')
    .option('--host <address>', 'the address to listen on (default 127.0.0.1: this machine only; the page shows every event to whoever reaches it)', '127.0.0.1')
    .option('--allow-append', 'let the page append events (through the streams\' owners)')
    .action(async (options: UiFlags) => {
      const port = integerFlag(options.port, '--port', 0, 65_535);
      const host = options.host ?? '127.0.0.1';
      if (!/^[0-9a-zA-Z.:[\]-]{1,255}$/.test(host)) throw new InvalidArgumentError('--host', `${JSON.stringify(host.slice(0, 60))} must be an IP address or host name`);
      await withStore(options, options.store, {}, async ({ store, admin }) => {
        const events = topicNames(store.name).events;
        const all = Array.from({ length: store.partitions }, (_, p) => p);
        const catalog = await StreamCatalog.start(store, await admin.endOffsets(events, all, 'read_committed'));
        try {
          const bar = new cliProgress.SingleBar({ format: 'reading the streams [{bar}] {value}/{total} records', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
          bar.start(catalog.historyEvents, 0);
          await catalog.caughtUp(store, (read) => bar.update(Math.min(read, catalog.historyEvents)));
          bar.update(catalog.historyEvents);
          bar.stop();
          const browser = await startStreamBrowser({ store, admin, catalog, host, port, allowAppend: options.allowAppend === true });
          out(`stream browser of ${store.name}: ${browser.url} (${options.allowAppend ? 'appends allowed' : 'read-only'}; ${catalog.size} streams; Ctrl-C to stop)`);
          try {
            await untilInterrupted();
          } finally {
            note('stream browser: stopping');
            await browser.close();
          }
        } finally {
          await catalog.stop();
        }
      });
    });
}
