// The `scribe` command line.
import { Command } from 'commander';
import { ScribeError } from '../errors.js';
import { aclCommands } from './acl-commands.js';
import { kafkaCommands } from './kafka-commands.js';
import { partitionCommands } from './partition-commands.js';
import { projectionCommands } from './projection-commands.js';

const program = new Command('scribe').description('Scribe: an event store on Apache Kafka with safe concurrent writes');
kafkaCommands(program);
partitionCommands(program);
projectionCommands(program);
aclCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  const code = error instanceof ScribeError ? ` (${error.code})` : '';
  process.stderr.write(`scribe: ${error instanceof Error ? error.message : String(error)}${code}\n`);
  process.exitCode = 1;
});
