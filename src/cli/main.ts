// The `scribe` command line.
import { Command } from 'commander';
import { ScribeError } from '../errors.js';
import { aclCommands } from './acl-commands.js';
import { kafkaCommands } from './kafka-commands.js';
import { partitionCommands } from './partition-commands.js';
import { projectionCommands } from './projection-commands.js';
import { snapshotCommands } from './snapshot-commands.js';
import { storeCommands } from './store-commands.js';
import { streamCommands } from './stream-commands.js';
import { subscriptionCommands } from './subscription-commands.js';
import { uiCommand } from './ui-command.js';

const program = new Command('scribe').description('Scribe: an event store on Apache Kafka with safe concurrent writes');
kafkaCommands(program);
partitionCommands(program);
projectionCommands(program);
aclCommands(program);
storeCommands(program);
streamCommands(program);
subscriptionCommands(program);
snapshotCommands(program);
uiCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  const code = error instanceof ScribeError ? ` (${error.code})` : '';
  process.stderr.write(`scribe: ${error instanceof Error ? error.message : String(error)}${code}\n`);
  process.exitCode = 1;
});
