import { EventSchemas, into } from '../src/index.js';

const deposited = { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'], additionalProperties: false };

export const schemas = new EventSchemas()
  .define('Deposited', 1, deposited)
  // Version 2 adds an optional currency; events written as version 1 are read as version 2.
  .define('Deposited', 2, { ...deposited, properties: { ...deposited.properties, currency: { type: 'string' } } }, {
    upcast: (data) => ({ currency: 'EUR', ...(data as object) }),
  })
  // A type can be renamed (or split): the upcaster returns other events.
  .define('Opened', 1, { type: 'object' })
  .define('Opened', 2, { type: 'object' }, { upcast: (data) => into({ type: 'AccountOpened', schemaVersion: 1, data }) })
  .define('AccountOpened', 1, { type: 'object', properties: { owner: { type: 'string' } }, required: ['owner'] });
