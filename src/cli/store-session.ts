// Opens an existing store for one command: its connection, an admin client for topic and group
// facts, and the store itself (not a writer unless asked: joining the writer group moves
// partitions away from the running writers). A store that does not exist is an error, never created.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { KafkaAdmin } from '../kafka/index.js';
import { KafkaEventStore } from '../store/event-store.js';
import { topicNames } from '../store/topics.js';
import { storeFlag } from './arguments.js';
import { connectionOf, type ConnectionFlags } from './connection-flags.js';

/** The connection of the command's flags, with the `kafka` connect option they amount to. */
export type CliConnection = ReturnType<typeof connectionOf>;

export interface StoreSession {
  readonly store: KafkaEventStore;
  readonly admin: KafkaAdmin;
  readonly connection: CliConnection;
}

/** Runs `run` with a Kafka connection and admin client only (commands that need no store). */
export async function withAdmin<T>(flags: ConnectionFlags, run: (admin: KafkaAdmin, connection: CliConnection) => Promise<T>): Promise<T> {
  const connection = connectionOf(flags, 'scribe-cli');
  const admin = KafkaAdmin.connect(connection);
  try {
    return await run(admin, connection);
  } finally {
    await admin.disconnect();
  }
}

export async function withStore<T>(flags: ConnectionFlags, storeName: unknown, options: { readonly writer?: boolean; readonly argument?: string }, run: (session: StoreSession) => Promise<T>): Promise<T> {
  let name: string;
  try {
    name = storeFlag(storeName);
  } catch (error) {
    // The same rule, said of the argument that carried the name.
    if (error instanceof InvalidArgumentError && options.argument) throw new InvalidArgumentError(options.argument, error.message.slice(error.argument.length + 2));
    throw error;
  }
  return withAdmin(flags, async (admin, connection) => {
    if (!(await admin.listTopics()).includes(topicNames(name).events)) {
      throw new InvalidArgumentError(options.argument ?? '--store', `no store "${name}" at ${connection.brokers.join(',')} (its topic ${topicNames(name).events} does not exist)`);
    }
    // The command's own index, built for this command and removed after it.
    const dataDir = mkdtempSync(join(tmpdir(), 'scribe-cli-'));
    try {
      const store = await KafkaEventStore.connect({
        brokers: connection.brokers,
        store: name,
        writer: options.writer ?? false,
        dataDir,
        clientId: 'scribe-cli',
        ...(connection.kafka ? { kafka: connection.kafka } : {}),
      });
      try {
        return await run({ store, admin, connection });
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

/** Resolves when the process is asked to stop (Ctrl-C, SIGTERM): long-running commands end cleanly. */
export function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
