// Keeps a librdkafka handle alive while a call on it runs in Node's thread pool: destroying a
// handle under a running call deadlocks librdkafka (docs/decisions/0007-native-calls.md).
// Callers get a bounded promise; the handle is destroyed only once every call has returned.
import { TimeoutError, withTimeout } from '../errors.js';
import { kafkaError, kafkaErrorCodes, KafkaOperationError, type CallResources } from './errors.js';
import type { SecurityWatch } from './security-watch.js';

/** Handles closed while a call still ran: destroyed when it returns. Named for diagnostics. */
const parked = new Set<NativeClient>();

/** The clients closed by Scribe whose destruction waits for a native call to return, with those calls. */
export function parkedClients(): string[] {
  return [...parked].map((client) => `${client.name} (waiting for ${client.describeCalls()})`);
}

export type NativeDone<T> = (error: unknown, value?: T) => void;

export class NativeClient {
  private running = 0;
  /** The calls running now, by when they started: what a parked client waits for. */
  private readonly calls = new Map<symbol, { operation: string; since: number }>();
  private closing: Promise<'closed' | 'parked'> | undefined;
  private readonly idleWaiters = new Set<() => void>();

  constructor(
    readonly name: string,
    /** Ends calls at once when the brokers refuse the client's credentials or certificate. */
    private readonly security?: SecurityWatch,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Runs one call that completes through `done` (from a libuv worker). The promise settles
   * within `timeoutMs` (TimeoutError, outcome unknown) while the native call may run on;
   * `alsoUses` are other handles the call reads (the group consumer of sendOffsetsToTransaction),
   * kept alive with this one.
   */
  call<T>(operation: string, timeoutMs: number, start: (done: NativeDone<T>) => void, alsoUses: readonly NativeClient[] = [], resources?: CallResources): Promise<T> {
    const users = [this, ...alsoUses];
    const closed = users.find((client) => client.closed);
    if (closed) return Promise.reject(closedError(operation, closed.name));
    const id = Symbol(operation);
    for (const client of users) client.started(id, operation);
    const native = new Promise<T>((resolve, reject) => {
      let returned = false;
      const done: NativeDone<T> = (error, value) => {
        if (returned) return;
        returned = true;
        for (const client of users) client.returned(id);
        if (error) reject(kafkaError(operation, error, resources));
        else resolve(value as T);
      };
      try {
        start(done);
      } catch (error) {
        done(error);
      }
    });
    const watch = this.security;
    if (!watch) return withTimeout(operation, timeoutMs, native);
    // A refused password shows as a timeout or "transport failure": the watch says which.
    const refused = watch.next();
    const bounded = withTimeout(operation, timeoutMs, Promise.race([native, refused.failure.then((failure) => Promise.reject(failure))]));
    return bounded.then(
      (value) => {
        refused.cancel();
        watch.succeeded();
        return value;
      },
      (error: unknown) => {
        refused.cancel();
        throw watch.failure && !(error instanceof KafkaOperationError && error.code !== 'KAFKA_ERROR') ? watch.failure : error;
      },
    );
  }

  /** Runs a synchronous call on the handle, refused once the handle is closing. */
  sync<T>(operation: string, work: () => T): T {
    if (this.closed) throw closedError(operation, this.name);
    try {
      return work();
    } catch (error) {
      throw kafkaError(operation, error);
    }
  }

  /**
   * Refuses new calls, then destroys the handle once no call runs. Resolves within
   * `graceMs + destroyMs` whatever the brokers do: 'parked' when a call was still running
   * after `graceMs` (the handle is destroyed later, when it returns).
   */
  close(destroy: () => Promise<void>, graceMs: number, destroyMs: number): Promise<'closed' | 'parked'> {
    this.closing ??= (async () => {
      if (!(await this.idle(graceMs))) {
        parked.add(this);
        void this.idle(Number.POSITIVE_INFINITY)
          .then(() => destroy())
          .catch(() => undefined)
          .finally(() => parked.delete(this));
        return 'parked';
      }
      // The destruction itself runs in the thread pool (it may wait for brokers): bounded too.
      await withTimeout(`${this.name} disconnect`, destroyMs, destroy()).catch((error: unknown) => {
        if (!(error instanceof TimeoutError)) throw error;
      });
      return 'closed';
    })();
    return this.closing;
  }

  /** The running calls, e.g. "sendOffsetsToTransaction for 12.3 s". */
  describeCalls(): string {
    const now = Date.now();
    return [...this.calls.values()].map((call) => `${call.operation} for ${((now - call.since) / 1000).toFixed(1)} s`).join(', ');
  }

  private started(id: symbol, operation: string): void {
    this.running++;
    this.calls.set(id, { operation, since: Date.now() });
  }

  private returned(id: symbol): void {
    this.calls.delete(id);
    this.running--;
    if (this.running > 0) return;
    for (const wake of this.idleWaiters) wake();
    this.idleWaiters.clear();
  }

  /** Whether no call runs, waiting up to `ms` for the running ones to return. */
  private idle(ms: number): Promise<boolean> {
    if (this.running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => {
        this.idleWaiters.delete(wake);
        resolve(false);
      }, ms) : undefined;
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.add(wake);
    });
  }
}

function closedError(operation: string, name: string): KafkaOperationError {
  return new KafkaOperationError(operation, { message: `${name} is closed`, code: kafkaErrorCodes.ERR__DESTROY, errno: 0, origin: 'scribe' });
}
