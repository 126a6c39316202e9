// `scribe projections ...`: a projection's status with its lag, rebuild, parked events listed
// and sent back for replay. PostgreSQL from DATABASE_URL or PG* (default 127.0.0.1:5432, postgres).
import type { Command } from 'commander';
import type { Pool } from 'pg';
import { InvalidArgumentError } from '../errors.js';
import { openPool } from '../projections/connection.js';
import { parkedEvents, projectionNames, projectionStatus, rebuildProjection, replayParked, type ProjectionStatus } from '../projections/admin.js';
import { defaultSchema, tablesIn } from '../projections/schema.js';
import { validateName } from '../store/validation.js';
import { withConnectionFlags } from './connection-flags.js';
import { openStore, type StoreOptions } from './partition-commands.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

interface SchemaOption {
  readonly schema?: string;
}

function schemaFlag(options: SchemaOption): string {
  return tablesIn(options.schema ?? defaultSchema, '--schema').schema;
}

function nameArgument(name: unknown): string {
  try {
    validateName(name, '<name>', 100);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new InvalidArgumentError('<name>', error.message.slice(error.argument.length + 2));
    throw error;
  }
  return name;
}

async function withPool(run: (pool: Pool) => Promise<void>): Promise<void> {
  const pool = await openPool();
  try {
    await run(pool);
  } finally {
    await pool.end();
  }
}

function printStatus(status: ProjectionStatus): void {
  out(`projection ${status.name}: ${status.state}${status.error ? ` (${status.error})` : ''}; rebuilds: ${status.rebuilds}; parked events: ${status.parked}`);
  out('  partition   position        end   lag events   lag seconds   owner');
  for (const p of status.partitions) {
    out(
      `  ${String(p.partition).padStart(9)}   ${(p.position ?? '-').padStart(8)}   ${p.end.padStart(8)}   ${String(p.events).padStart(10)}   ${p.seconds.toFixed(1).padStart(11)}   ${p.owner ?? '-'}`,
    );
  }
}

export function projectionCommands(program: Command): void {
  const projections = program.command('projections').description('read models kept in PostgreSQL by projection runners: status, rebuild, parked events');

  // The lag is read from Kafka: the connection flags of every command that talks to it.
  withConnectionFlags(projections.command('status'))
    .description("each projection's state, and per partition its position, lag in events and seconds, and the runner holding it")
    .argument('[name]', 'one projection (default: all)')
    .requiredOption('--store <name>', 'the store (its topic prefix)')
    .option('--schema <name>', `the PostgreSQL schema of the projection tables (default ${defaultSchema})`)
    .action(async (name: string | undefined, options: StoreOptions & SchemaOption) => {
      const schema = schemaFlag(options);
      if (name !== undefined) nameArgument(name);
      await withPool(async (pool) => {
        const names = name === undefined ? await projectionNames(pool, { schema }) : [name];
        if (names.length === 0) {
          out(`no projections in schema ${schema}`);
          return;
        }
        await openStore(options, async (store) => {
          for (const each of names) printStatus(await projectionStatus(store, pool, each, { schema }));
        });
      });
    });

  projections
    .command('rebuild')
    .description("empties the projection's tables and moves its checkpoints back to the start: its running runners replay the log")
    .argument('<name>', 'the projection')
    .option('--schema <name>', `the PostgreSQL schema of the projection tables (default ${defaultSchema})`)
    .action(async (name: string, options: SchemaOption) => {
      const schema = schemaFlag(options);
      await withPool(async (pool) => {
        await rebuildProjection(pool, nameArgument(name), { schema });
        out(`projection ${name}: emptied and moved back to the start; its runners replay the log (see \`scribe projections status\`)`);
      });
    });

  projections
    .command('parked')
    .description("lists the projection's parked events: position, stream, type, error")
    .argument('<name>', 'the projection')
    .option('--schema <name>', `the PostgreSQL schema of the projection tables (default ${defaultSchema})`)
    .action(async (name: string, options: SchemaOption) => {
      const schema = schemaFlag(options);
      await withPool(async (pool) => {
        const parked = await parkedEvents(pool, nameArgument(name), { schema });
        if (parked.length === 0) out(`projection ${name}: no parked events`);
        for (const p of parked) {
          out(`${p.id}\t${p.partition}/${p.offset}\t${p.streamId}@${p.version}\t${p.type}\tattempts ${p.attempts}${p.replayRequested ? '\treplay asked' : ''}\t${p.error}`);
        }
      });
    });

  projections
    .command('replay')
    .description('asks the running runners to apply parked events again (all, or those --id): applied ones leave the list')
    .argument('<name>', 'the projection')
    .option('--id <ids...>', 'parked event ids (default: all)')
    .option('--schema <name>', `the PostgreSQL schema of the projection tables (default ${defaultSchema})`)
    .action(async (name: string, options: SchemaOption & { id?: string[] }) => {
      const schema = schemaFlag(options);
      for (const id of options.id ?? []) if (!/^[0-9]{1,18}$/.test(id)) throw new InvalidArgumentError('--id', `${JSON.stringify(id.slice(0, 40))} must be a parked event id (digits)`);
      await withPool(async (pool) => {
        const marked = await replayParked(pool, nameArgument(name), options.id, { schema });
        out(`projection ${name}: ${marked} parked event(s) marked for replay`);
      });
    });
}
