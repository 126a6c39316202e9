// The command line's arguments and flags, checked before anything connects: each refusal is
// an InvalidArgumentError naming the flag (`--to: ...`), printed with its code, exit status 2.
import { InvalidArgumentError } from '../errors.js';
import { brokersFromEnvironment, validateBrokers } from '../kafka/index.js';
import { validateStoreName, validateStreamId } from '../store/validation.js';

/** A cluster of the local Kafka: 1 node, or 3 for fault tests. */
export const clusterSizes = ['1', '3'] as const;
export const nodeActions = ['stop', 'kill', 'pause', 'resume', 'start'] as const;

const clusterNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;

function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
}

/** A positive integer written in decimal digits, from `min` to `max`. */
export function integerFlag(value: unknown, flag: string, min: number, max: number): number {
  if (typeof value !== 'string' || !/^[0-9]{1,9}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InvalidArgumentError(flag, `${typeof value === 'string' ? shown(value) : String(value)} must be an integer from ${min} to ${max}`);
  }
  return Number(value);
}

export function clusterSizeFlag(value: unknown): number {
  if (typeof value !== 'string' || !(clusterSizes as readonly string[]).includes(value)) {
    throw new InvalidArgumentError('--nodes', `${typeof value === 'string' ? shown(value) : String(value)} must be one of ${clusterSizes.join(', ')}`);
  }
  return Number(value);
}

export function clusterNameFlag(value: unknown): string {
  if (typeof value !== 'string' || !clusterNamePattern.test(value)) {
    throw new InvalidArgumentError('--name', `${typeof value === 'string' ? shown(value) : String(value)} must be 1-64 letters, digits, '_' or '-' (it names a directory)`);
  }
  return value;
}

export function nodeActionArgument(value: unknown): (typeof nodeActions)[number] {
  if (typeof value !== 'string' || !(nodeActions as readonly string[]).includes(value)) {
    throw new InvalidArgumentError('<action>', `${typeof value === 'string' ? shown(value) : String(value)} must be one of ${nodeActions.join(', ')}`);
  }
  return value as (typeof nodeActions)[number];
}

export function storeFlag(value: unknown): string {
  try {
    validateStoreName(value);
  } catch (error) {
    throw new InvalidArgumentError('--store', (error as InvalidArgumentError).message.replace(/^store: /, ''));
  }
  return value;
}

/** `--brokers host:port,...`, else KAFKA_BROKERS. */
export function brokersFlag(value: unknown): string[] {
  if (value === undefined) {
    const brokers = brokersFromEnvironment();
    if (!brokers) throw new InvalidArgumentError('--brokers', 'give --brokers host:port,... or set KAFKA_BROKERS=host:port,...');
    validateBrokers(brokers, 'KAFKA_BROKERS');
    return brokers;
  }
  if (typeof value !== 'string') throw new InvalidArgumentError('--brokers', 'must be host:port,...');
  const brokers = value.split(',').map((b) => b.trim());
  validateBrokers(brokers, '--brokers');
  return brokers;
}

/** A stream id given as an argument, checked by the store's own rules. */
export function streamArgument(value: unknown, argument = '<stream>'): string {
  validateStreamId(value, argument);
  return value;
}
