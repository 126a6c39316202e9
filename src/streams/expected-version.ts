// Optimistic concurrency: what an append may state about the stream's current version, and
// the one pure rule that decides whether it holds.
import { InvalidArgumentError } from '../errors.js';

export const expectedVersionStates = ['no_stream', 'stream_exists', 'any'] as const;

/**
 * `no_stream`: the stream has no event yet. `stream_exists`: it has at least one.
 * `any`: no check (last write wins; an explicit opt-in). A number: the version of the stream's last event.
 */
export type ExpectedVersion = (typeof expectedVersionStates)[number] | number;

/** The version of a stream with no events. */
export const noStreamVersion = -1;

export function matchesExpectedVersion(current: number, expected: ExpectedVersion): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current === noStreamVersion;
    case 'stream_exists':
      return current > noStreamVersion;
    default:
      return current === expected;
  }
}

export function validateExpectedVersion(expected: unknown): asserts expected is ExpectedVersion {
  if (typeof expected === 'string' && (expectedVersionStates as readonly string[]).includes(expected)) return;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= noStreamVersion) return;
  throw new InvalidArgumentError(
    'expectedVersion',
    `${shown(expected)} is not one of ${expectedVersionStates.map((s) => `'${s}'`).join(', ')} or an integer >= -1`,
  );
}

function shown(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n (a BigInt; give a number)`;
  try {
    return JSON.stringify(value)?.slice(0, 60) ?? String(value);
  } catch {
    return `a ${typeof value}`;
  }
}
