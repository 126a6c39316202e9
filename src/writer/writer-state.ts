// The lifecycle of a partition's transactional writer: its states, the moves allowed between
// them in one table, and the one transition function, which reports every move. An illegal
// move is a bug in Scribe: it throws, and the writer ends as `failed`.

export const writerStates = [
  'starting', // creating the producer and fencing earlier owners (initTransactions)
  'recovering', // reading the partition up to its end into the index
  'ready', // accepting appends; no transaction open
  'in-transaction', // a transaction is open: producing records, replies, request offsets
  'committing', // commitTransaction was called: a failure now leaves the outcome unknown
  'abortable', // a definite failure: the transaction is aborted, then the producer replaced
  'reinitialising', // replacing the producer (new epoch: KAFKA-17754), then recovering again
  'fenced', // a newer owner holds the transactional id: this writer never writes again
  'failed', // the writer could not start, or Scribe's own code failed: it never writes again
  'closed', // ownership given up; never writes again
] as const;

export type WriterState = (typeof writerStates)[number];

/** The states a writer never leaves. */
export const finalStates: readonly WriterState[] = ['fenced', 'failed', 'closed'];

const stops: readonly WriterState[] = ['fenced', 'failed', 'closed'];

/** From each state, where it may go. Every live state may stop: fenced, failed, or closed. */
export const writerTransitions: Readonly<Record<WriterState, readonly WriterState[]>> = {
  starting: ['recovering', ...stops],
  recovering: ['ready', ...stops],
  ready: ['in-transaction', ...stops],
  'in-transaction': ['committing', 'abortable', ...stops],
  // A commit refused with an abortable error is a definite failure; any other failure in
  // commit is an unknown outcome, answered and then made safe by a new producer.
  committing: ['ready', 'abortable', 'reinitialising', ...stops],
  abortable: ['reinitialising', ...stops],
  reinitialising: ['starting', ...stops],
  fenced: [],
  failed: [],
  closed: [],
};

/** A state the writer's own rules exclude: a bug in Scribe, never a failure of Kafka. */
export class WriterInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class IllegalWriterTransition extends WriterInvariantError {
  constructor(
    readonly from: WriterState,
    readonly to: WriterState,
  ) {
    super(`partition writer cannot move from ${from} to ${to}`);
  }
}

export class WriterLifecycle {
  private current: WriterState = 'starting';

  /** `onTransition` hears every move, after it is made. */
  constructor(private readonly onTransition: (from: WriterState, to: WriterState) => void) {}

  get state(): WriterState {
    return this.current;
  }

  /** Whether the writer has stopped for good (fenced, failed or closed). */
  get stopped(): boolean {
    return finalStates.includes(this.current);
  }

  /**
   * Moves to `next`, or answers false when the writer has stopped meanwhile: ownership is
   * revoked from outside at any moment, so every step must expect it. A move the table does
   * not allow throws IllegalWriterTransition.
   */
  transitionTo(next: WriterState): boolean {
    const from = this.current;
    if (finalStates.includes(from)) return false;
    if (!writerTransitions[from].includes(next)) throw new IllegalWriterTransition(from, next);
    this.current = next;
    this.onTransition(from, next);
    return true;
  }

  is(state: WriterState): boolean {
    return this.current === state;
  }
}
