// The `scribe` command line.
import { Command } from 'commander';
import { kafkaCommands } from './kafka-commands.js';
import { partitionCommands } from './partition-commands.js';

const program = new Command('scribe').description('Scribe: an event store on Apache Kafka with safe concurrent writes');
kafkaCommands(program);
partitionCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`scribe: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
