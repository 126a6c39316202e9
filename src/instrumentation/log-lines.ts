// The store's events as log lines: the `log` connect option is one listener among others.
// Every event has its one-line form; the log receives the operational ones, not the events
// that happen for every append or batch (those are for metrics: see `on`).
import type { StoreEvent, StoreListener } from './store-events.js';

/** Events that occur for every append, batch or read in normal operation: not logged. */
const routineTypes = new Set<StoreEvent['type']>(['append-settled', 'batch-committed', 'conflict', 'index-caught-up', 'subscription-lag', 'request-answered', 'request-served', 'kafka-statistics']);

/** Writer states a writer passes through for every batch. */
const batchStates = new Set(['ready', 'in-transaction', 'writing', 'committing']);

/** Whether the `log` option receives the event. */
export function isLogged(event: StoreEvent): boolean {
  if (routineTypes.has(event.type)) return false;
  if (event.type === 'writer-state-changed') return !(batchStates.has(event.from) && batchStates.has(event.to));
  return true;
}

export function formatEvent(event: StoreEvent): string {
  switch (event.type) {
    case 'notice':
      return event.message;
    case 'batch-committed':
      return `partition ${event.partition}: transaction of ${event.appends} append(s), ${event.events} event(s), ${event.bytes} bytes committed in ${event.durationMs} ms`;
    case 'batch-aborted':
      return `partition ${event.partition}: transaction of ${event.appends} append(s) failed (${abortOutcomes[event.outcome]}): ${event.reason}`;
    case 'producer-reinitialised':
      return `partition ${event.partition}: producer re-initialised (new epoch): ${event.reason}`;
    case 'writer-state-changed':
      return `partition ${event.partition}: writer ${event.from} -> ${event.to}`;
    case 'ownership-gained':
      return `writer group: partition(s) ${event.partitions.join(', ')} assigned to this process`;
    case 'ownership-lost':
      return `writer group: partition(s) ${event.partitions.join(', ')} revoked from this process`;
    case 'conflict':
      return `partition ${event.partition}: append to "${event.streamId}" expected ${event.expected}, the stream is at version ${event.actual}`;
    case 'append-settled':
      return `partition ${event.partition}: append to "${event.streamId}" (${event.owner} owner, ${event.events} event(s)): ${event.outcome} in ${event.durationMs} ms`;
    case 'index-caught-up':
      return `index: partition ${event.partition} read up to offset ${event.offset}, ${event.behind} behind`;
    case 'subscription-lag':
      return `subscription ${event.group}: partition ${event.partition} is ${event.events} record(s), ${event.seconds} s behind`;
    case 'request-answered':
      return `partition ${event.partition}: ${event.kind} request to the owner answered ${event.outcome} in ${event.durationMs} ms`;
    case 'request-served':
      return `partition ${event.partition}: ${event.kind} request for "${event.streamId}" served: ${event.outcome}${event.offset === undefined ? '' : ` at offset ${event.offset}`} in ${event.durationMs} ms`;
    case 'kafka-statistics':
      return `kafka ${event.role} ${event.client}: ${event.queuedMessages} message(s) (${event.queuedBytes} bytes) queued${event.consumerLag === undefined ? '' : `, ${event.consumerLag} behind`}; ${event.brokers.map((b) => `${b.broker} rtt ${b.rttAvgSeconds} s (p99 ${b.rttP99Seconds} s), ${b.requestsQueued} queued, ${b.requestsInFlight} in flight`).join('; ')}`;
    default:
      return unknownEvent(event);
  }
}

const abortOutcomes = { 'not-stored': 'not stored', unknown: 'outcome unknown', fenced: 'fenced, not stored' } as const;

function unknownEvent(event: never): string {
  return JSON.stringify(event);
}

/** The `log` option as a listener. */
export function logListener(log: (line: string) => void): StoreListener {
  return (event) => {
    if (isLogged(event)) log(formatEvent(event));
  };
}
