// The options the scenarios share, defined once: the same flag, meaning and parser wherever it
// appears. A scenario picks the ones it takes and may give its own default.
import type { Command } from 'commander';
import { positiveInteger, positiveIntegers } from './scenario.js';

interface OptionDefinition<T> {
  readonly flags: string;
  readonly description: string;
  readonly defaultValue: string;
  readonly parse: (flag: string, value: unknown) => T;
}

const integer = (flags: string, description: string, defaultValue: string): OptionDefinition<number> => ({ flags, description, defaultValue, parse: positiveInteger });
const integers = (flags: string, description: string, defaultValue: string): OptionDefinition<number[]> => ({ flags, description, defaultValue, parse: positiveIntegers });

export const sharedOptions = {
  partitions: integer('--partitions <n>', 'partitions of the fresh store', '12'),
  replicationFactor: integer('--replication-factor <n>', 'replication factor of the fresh store', '1'),
  eventSize: integer('--event-size <bytes>', "size of each event's encoded (JSON) data", '256'),
  streams: integer('--streams <n>', 'distinct streams the appends go to', '1000'),
  appends: integer('--appends <n>', 'appends (one event each) per measurement', '4000'),
  writers: integers('--writers <list>', 'concurrent writers on the one stream, one measurement per value', '8,32'),
  commitEvery: integers('--commit-every <list>', 'raw transactional reference: commit every N records, one measurement per N', '100,1000'),
  rawTransactions: integer('--raw-transactions <n>', 'raw transactional reference: transactions per measurement', '100'),
  caseTimeoutMs: integer('--case-timeout-ms <n>', 'give up on one raw measurement after this long', '180000'),
} as const;

export type SharedOption = keyof typeof sharedOptions;
type Parsed<Name extends SharedOption> = (typeof sharedOptions)[Name] extends OptionDefinition<infer T> ? T : never;

/** The flag of an option name: `eventSize` is `--event-size`. */
function flagOf(name: SharedOption): string {
  return sharedOptions[name].flags.split(' ')[0]!.slice(2);
}

/** Adds the shared options `names` to the command, with the scenario's own descriptions or defaults where given. */
export function defineShared(command: Command, names: readonly SharedOption[], own: Partial<Record<SharedOption, { readonly description?: string; readonly defaultValue?: string }>> = {}): Command {
  for (const name of names) {
    const definition = sharedOptions[name];
    command.option(definition.flags, own[name]?.description ?? definition.description, own[name]?.defaultValue ?? definition.defaultValue);
  }
  return command;
}

/** Parses the shared options `names` from commander's values. */
export function parseShared<Name extends SharedOption>(raw: Record<string, unknown>, names: readonly Name[]): { [N in Name]: Parsed<N> } {
  const parsed: Record<string, unknown> = {};
  for (const name of names) parsed[name] = sharedOptions[name].parse(flagOf(name), raw[name]);
  return parsed as { [N in Name]: Parsed<N> };
}
