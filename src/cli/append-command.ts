// `scribe streams append`: one event from the command line, through the stream's owner (a
// running writer process); `--writer` makes this process a writer for the one append, for a
// store that has none running.
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { writerGroupId } from '../ownership/writer-group.js';
import { OwnershipChangedError } from '../streams/errors.js';
import { expectedVersionStates, type ExpectedVersion } from '../streams/expected-version.js';
import type { JsonValue } from '../streams/event.js';
import { withConnectionFlags, type ConnectionFlags } from './connection-flags.js';
import { json, out, type JsonFlag } from './output.js';
import { withStore } from './store-session.js';
import { streamArgument } from './arguments.js';

interface AppendFlags extends ConnectionFlags, JsonFlag {
  readonly store: string;
  readonly type: string;
  readonly data: string;
  readonly metadata?: string;
  readonly id?: string;
  readonly expectedVersion?: string;
  readonly partitionKey?: string;
  readonly writer?: boolean;
}

function jsonFlag(text: string, flag: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new InvalidArgumentError(flag, `is not JSON: ${(error as Error).message}`);
  }
}

export function expectedVersionFlag(value: string | undefined): ExpectedVersion {
  if (value === undefined) return 'any';
  if (/^[0-9]{1,15}$/.test(value)) return Number(value);
  if ((expectedVersionStates as readonly string[]).includes(value)) return value as ExpectedVersion;
  throw new InvalidArgumentError('--expected-version', `${JSON.stringify(value.slice(0, 40))} must be a version (0, 1, ...) or one of ${expectedVersionStates.join(', ')}`);
}

export function appendCommand(streams: Command): void {
  withConnectionFlags(streams.command('append'))
    .description('appends one event to a stream through its owner; prints the stream\'s new version and the event\'s position')
    .argument('<stream>', 'the stream id')
    .requiredOption('--store <name>', 'the store (its topic prefix)')
    .requiredOption('--type <type>', "the event's type")
    .requiredOption('--data <json>', "the event's data, JSON")
    .option('--metadata <json>', "the event's metadata, a JSON object")
    .option('--id <id>', 'the event id: the same id appended again is applied once (default: a new UUID, printed)')
    .option('--expected-version <version>', `the version the stream must be at: a number or ${expectedVersionStates.join(', ')} (default any)`)
    .option('--partition-key <key>', 'the partition key the stream was appended with, when not its id')
    .option('--writer', "join the store's writer group for this append (for a store with no writer running; takes partitions from running writers for a moment)")
    .option('--json', 'print JSON')
    .action(async (stream: string, options: AppendFlags) => {
      const streamId = streamArgument(stream);
      const data = jsonFlag(options.data, '--data');
      const metadata = options.metadata === undefined ? undefined : jsonFlag(options.metadata, '--metadata');
      if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
        throw new InvalidArgumentError('--metadata', 'must be a JSON object');
      }
      const expectedVersion = expectedVersionFlag(options.expectedVersion);
      const partitionKey = options.partitionKey === undefined ? undefined : streamArgument(options.partitionKey, '--partition-key');
      const id = options.id ?? randomUUID();
      await withStore(options, options.store, { writer: options.writer === true }, async ({ store, admin }) => {
        if (options.writer !== true) {
          // Without a writer the request would wait out appendTimeoutMs and end "outcome unknown": say why now.
          const writers = await admin.describeGroup(writerGroupId(store.name));
          if (writers.members.length === 0) {
            throw new OwnershipChangedError(store.partitionOf(partitionKey ?? streamId), `no writer process runs for ${store.name} (its group ${writers.groupId} is ${writers.state}): start one, or append with --writer`);
          }
        }
        const result = await store.append(streamId, [{ type: options.type, data, id, ...(metadata === undefined ? {} : { metadata: metadata as Record<string, JsonValue> }) }], {
          expectedVersion,
          ...(partitionKey === undefined ? {} : { partitionKey }),
        });
        if (options.json) out(json({ streamId, id, version: result.nextExpectedVersion, position: result.position }, 2));
        else out(`appended ${options.type} to ${streamId} at version ${result.nextExpectedVersion} (event ${id}, partition ${result.position.partition}, offset ${result.position.offset})`);
      });
    });
}
