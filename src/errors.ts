// The base of every error Scribe throws: a stable `code` to branch on, `retriable` to
// decide whether the same call may simply be made again, and the `cause` when there is one.

export abstract class ScribeError extends Error {
  /** Stable identifier, safe to match on; never changes between releases. */
  abstract readonly code: string;
  /** True when the same call may succeed if it is made again unchanged. */
  readonly retriable: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // Derived from the class so that it cannot drift from it.
    this.name = new.target.name;
  }
}

/** Input that Scribe refuses before anything reaches Kafka. */
export class InvalidArgumentError extends ScribeError {
  readonly code = 'INVALID_ARGUMENT';
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(`${argument}: ${message}`);
  }
}

/** A call into Kafka did not answer within Scribe's own bound. Its outcome is unknown. */
export class TimeoutError extends ScribeError {
  readonly code = 'TIMEOUT';
  override readonly retriable = true;
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation} did not complete within ${timeoutMs} ms`);
  }
}

/** Runs `work` but gives up after `timeoutMs`: librdkafka calls can block indefinitely (librdkafka #5456). */
export async function withTimeout<T>(operation: string, timeoutMs: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(operation, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A short, safe description of any value for an error message: never throws, never huge. */
export function describeValue(value: unknown): string {
  try {
    if (value === null) return 'null';
    if (Array.isArray(value)) return `an array of ${value.length}`;
    switch (typeof value) {
      case 'string': {
        const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
        return `the string ${shown}${value.length > 40 ? ` (${value.length} characters)` : ''}`;
      }
      case 'number':
        return `the number ${String(value)}`;
      case 'bigint':
        return `the BigInt ${String(value).slice(0, 40)}n`;
      case 'boolean':
        return String(value);
      case 'undefined':
        return 'undefined';
      case 'function':
        return 'a function';
      case 'symbol':
        return 'a symbol';
      default:
        return 'an object';
    }
  } catch {
    return `a ${typeof value}`;
  }
}
