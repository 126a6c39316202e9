// A projection's definition and the PostgreSQL settings, checked before anything connects:
// each refusal is INVALID_ARGUMENT naming what is wrong.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/index.js';
import { postgresSettings, projection } from '../../src/projections/index.js';
import { tablesIn } from '../../src/projections/schema.js';

function refusal(run: () => unknown): InvalidArgumentError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error('not refused');
}

describe('projection definitions', () => {
  const handle = () => undefined;

  it('are frozen, with their tables', () => {
    const p = projection({ name: 'balances', tables: ['public.balances', '"Odd Schema".ledger'], handle });
    expect(Object.isFrozen(p)).toBe(true);
    expect(p.tables).toEqual(['public.balances', '"Odd Schema".ledger']);
  });

  it('refuse a missing name, a handler that is not a function, and a table that is not a table name', () => {
    expect(refusal(() => projection({ handle } as never)).argument).toBe('definition.name');
    expect(refusal(() => projection({ name: 'x', handle: 'no' } as never)).argument).toBe('definition.handle');
    expect(refusal(() => projection({ name: 'x', handle, init: 3 } as never)).argument).toBe('definition.init');
    expect(refusal(() => projection({ name: 'x', handle, tables: 'balances' } as never)).argument).toBe('definition.tables');
    expect(refusal(() => projection({ name: 'x', handle, tables: ['balances; DROP TABLE x'] })).argument).toBe('definition.tables[0]');
  });

  it("Scribe's schema must be a plain PostgreSQL name", () => {
    expect(tablesIn('scribe').checkpoints).toBe('"scribe".projection_checkpoints');
    expect(refusal(() => tablesIn('a"; DROP')).argument).toBe('options.schema');
  });
});

describe('PostgreSQL settings', () => {
  it('take DATABASE_URL first, then PG*, over 127.0.0.1:5432 as postgres', () => {
    expect(postgresSettings({})).toEqual({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
    expect(postgresSettings({ PGHOST: 'db', PGPORT: '6543', PGUSER: 'app', PGDATABASE: 'reads', PGPASSWORD: 's' })).toEqual({ host: 'db', port: 6543, user: 'app', database: 'reads', password: 's' });
    expect(postgresSettings({ DATABASE_URL: 'postgres://u@h/d', PGHOST: 'ignored' })).toEqual({ connectionString: 'postgres://u@h/d' });
  });
});
