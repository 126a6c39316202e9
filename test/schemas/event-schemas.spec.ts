// The event catalog on its own: validation that names the field, and upcasters chained from
// any version to the latest, renaming and splitting, with the unknown-event policies.
import { describe, expect, it } from 'vitest';
import { schemas as readmeSchemas } from '../../examples/event-schemas.js';
import { EventSchemas, InvalidArgumentError, InvalidEventError, into, UnknownEventError } from '../../src/index.js';

const deposited = {
  v1: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] },
  v2: { type: 'object', properties: { amount: { type: 'number' }, currency: { type: 'string' } }, required: ['amount', 'currency'] },
  v3: {
    type: 'object',
    properties: { money: { type: 'object', properties: { cents: { type: 'integer' }, currency: { type: 'string' } }, required: ['cents', 'currency'] } },
    required: ['money'],
  },
};

function catalog(): EventSchemas {
  return new EventSchemas()
    .define('Deposited', 1, deposited.v1)
    .define('Deposited', 2, deposited.v2, { upcast: (data) => ({ ...(data as object), currency: 'EUR' }) })
    .define('Deposited', 3, deposited.v3, {
      upcast: (data) => {
        const { amount, currency } = data as { amount: number; currency: string };
        return { money: { cents: Math.round(amount * 100), currency } };
      },
    })
    .define('AccountOpened', 1, { type: 'object', properties: { owner: { type: 'string' } }, required: ['owner'] })
    // Version 2 of "Opened" became "AccountOpened"; version 2 of "Transferred" is two events.
    .define('Opened', 1, { type: 'object' })
    .define('Opened', 2, { type: 'object' }, { upcast: (data) => into({ type: 'AccountOpened', schemaVersion: 1, data }) })
    .define('Transferred', 1, { type: 'object' })
    .define('Transferred', 2, { type: 'object' }, {
      upcast: (data) => {
        const { amount } = data as { amount: number };
        return into({ type: 'Deposited', schemaVersion: 1, data: { amount } }, { type: 'Deposited', schemaVersion: 1, data: { amount: -amount } });
      },
    });
}

describe('event schemas', () => {
  it('validates data against the latest version and names the offending field', () => {
    const schemas = catalog();
    expect(schemas.validate(0, 'Deposited', { money: { cents: 5, currency: 'EUR' } })).toBe(3);
    expect(() => schemas.validate(2, 'Deposited', { money: { cents: 'five', currency: 'EUR' } })).toThrow(InvalidEventError);
    expect(() => schemas.validate(2, 'Deposited', { money: { cents: 'five', currency: 'EUR' } })).toThrow(/event 2: data\.money\.cents: must be integer \(Deposited version 3\)/);
    expect(() => schemas.validate(0, 'Deposited', { money: { cents: 5 } })).toThrow(/data\.money\.currency: must have required property 'currency'/);
    expect(() => schemas.validate(0, 'Withdrawn', {})).toThrow(/type "Withdrawn" is not defined/);
  });

  it('upcasts version 1 through two upcasters to version 3', () => {
    expect(catalog().upcast({ type: 'Deposited', schemaVersion: 1, data: { amount: 1.5 } }, 'fail')).toEqual([
      { type: 'Deposited', schemaVersion: 3, data: { money: { cents: 150, currency: 'EUR' } } },
    ]);
    expect(catalog().upcast({ type: 'Deposited', schemaVersion: 3, data: { money: { cents: 1, currency: 'USD' } } }, 'fail')).toEqual([
      { type: 'Deposited', schemaVersion: 3, data: { money: { cents: 1, currency: 'USD' } } },
    ]);
  });

  it('renames a type and splits an event through upcasters, each result upcast in turn', () => {
    const schemas = catalog();
    expect(schemas.upcast({ type: 'Opened', schemaVersion: 1, data: { owner: 'ada' }, metadata: { by: 'x' } }, 'fail')).toEqual([
      { type: 'AccountOpened', schemaVersion: 1, data: { owner: 'ada' }, metadata: { by: 'x' } },
    ]);
    expect(schemas.upcast({ type: 'Transferred', schemaVersion: 1, data: { amount: 2 } }, 'fail')).toEqual([
      { type: 'Deposited', schemaVersion: 3, data: { money: { cents: 200, currency: 'EUR' } } },
      { type: 'Deposited', schemaVersion: 3, data: { money: { cents: -200, currency: 'EUR' } } },
    ]);
  });

  it('applies the unknown-event policy to unknown types and to versions newer than the catalog', () => {
    const schemas = catalog();
    const unknownType = { type: 'Closed', schemaVersion: 1, data: {} };
    const newer = { type: 'Deposited', schemaVersion: 4, data: {} };
    expect(() => schemas.upcast(unknownType, 'fail')).toThrow(UnknownEventError);
    expect(() => schemas.upcast(newer, 'fail')).toThrow(/version 4 cannot be read: the catalog knows versions 1-3/);
    expect(schemas.upcast(newer, 'skip')).toEqual([]);
    expect(schemas.upcast(unknownType, 'raw')).toEqual([unknownType]);
  });

  it('refuses versions out of order, a later version without upcaster, and a schema Ajv cannot compile', () => {
    expect(() => new EventSchemas().define('A', 2, {})).toThrow(InvalidArgumentError);
    expect(() => new EventSchemas().define('A', 1, {}).define('A', 2, {})).toThrow(/needs an upcaster/);
    expect(() => new EventSchemas().define('A', 1, { type: 'no-such-type' })).toThrow(/A version 1/);
  });

  it("the README's catalog reads version 1 as version 2 and an old type under its new name", () => {
    expect(readmeSchemas.upcast({ type: 'Deposited', schemaVersion: 1, data: { amount: 3 } }, 'fail')).toEqual([{ type: 'Deposited', schemaVersion: 2, data: { currency: 'EUR', amount: 3 } }]);
    expect(readmeSchemas.upcast({ type: 'Opened', schemaVersion: 1, data: { owner: 'ada' } }, 'fail')).toEqual([{ type: 'AccountOpened', schemaVersion: 1, data: { owner: 'ada' } }]);
  });
});
