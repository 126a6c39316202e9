// The record format of docs/record-format.md: what goes into a Kafka record and back.
import { describe, expect, it } from 'vitest';
import { eventHeaders, headerValue, recordedEvent, storedEventFrom } from '../../src/records/event-record.js';
import { encodeEvents } from '../../src/store/validation.js';

describe('the event record format', () => {
  const [event] = encodeEvents([{ id: 'e-1', type: 'Deposited', data: { amount: 5 }, metadata: { user: 'ada' } }], 1_000_000);

  it('puts the event identity in headers and the data, as JSON, in the value', () => {
    const headers = eventHeaders('account-42', 3, event!);
    expect(headerValue(headers, 'scribe.stream')).toBe('account-42');
    expect(headerValue(headers, 'scribe.version')).toBe('3');
    expect(headerValue(headers, 'scribe.type')).toBe('Deposited');
    expect(headerValue(headers, 'scribe.id')).toBe('e-1');
    expect(headerValue(headers, 'content-type')).toBe('application/json');
    expect(headerValue(headers, 'scribe.metadata')).toBe('{"user":"ada"}');
    expect(event!.data.toString()).toBe('{"amount":5}');
  });

  it('reads back what it wrote, as a recorded event with its position', () => {
    const stored = storedEventFrom({ headers: eventHeaders('account-42', 3, event!), value: event!.data, partition: 2, offset: 1234, timestamp: 1_700_000_000_000 });
    expect(recordedEvent(stored!)).toEqual({
      streamId: 'account-42',
      version: 3,
      type: 'Deposited',
      data: { amount: 5 },
      metadata: { user: 'ada' },
      id: 'e-1',
      position: { partition: 2, offset: '1234' },
      timestamp: new Date(1_700_000_000_000),
    });
  });

  it('ignores records that are not Scribe events', () => {
    expect(storedEventFrom({ headers: [{ other: 'x' }], value: Buffer.from('{}'), partition: 0, offset: 0 })).toBeUndefined();
  });

  it('generates an id for an event that has none', () => {
    const [generated] = encodeEvents([{ type: 'Opened', data: null }], 1_000_000);
    expect(generated!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated!.data.toString()).toBe('null');
  });
});
