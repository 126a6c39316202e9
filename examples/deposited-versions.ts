import { EventSchemas } from '../src/index.js';

// Three versions of one event type, as the registry tests and the codec benchmark use them.
// Closed content models: adding an optional property is then a BACKWARD-compatible change
// (with open ones the registry rightly calls it a narrowing: old data may hold any value there).
const v1 = {
  type: 'object',
  properties: { amount: { type: 'number' }, account: { type: 'string' }, note: { type: 'string' } },
  required: ['amount'],
  additionalProperties: false,
};
const v2 = { ...v1, properties: { ...v1.properties, currency: { type: 'string' } } };
const v3 = { ...v2, properties: { ...v2.properties, cents: { type: 'integer' } } };

/** What code that knew only version 1 declares. */
export const depositedV1 = () => new EventSchemas().define('Deposited', 1, v1);

/** What code at version 3 declares: two upcasters on the way from version 1. */
export const depositedV3 = () =>
  depositedV1()
    .define('Deposited', 2, v2, { upcast: (data) => ({ currency: 'EUR', ...(data as object) }) })
    .define('Deposited', 3, v3, { upcast: (data) => ({ ...(data as object), cents: Math.round((data as { amount: number }).amount * 100) }) });
