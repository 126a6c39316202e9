// The states of a partition's transactional writer and the moves allowed between them, in
// one table, so that an illegal move is a bug that throws rather than a silent corruption.

export const writerStates = [
  'starting', // creating the producer and fencing earlier owners (initTransactions)
  'recovering', // reading the partition up to its end into the index
  'ready', // accepting appends; no transaction open
  'writing', // a transaction is open: producing, then committing
  'aborting', // a definite failure: aborting, then a new producer
  'reinitialising', // an outcome was unknown or the producer was fenced: new producer, then recover
  'closed', // ownership given up; never writes again
] as const;

export type WriterState = (typeof writerStates)[number];

const transitions: Record<WriterState, readonly WriterState[]> = {
  starting: ['recovering', 'closed'],
  recovering: ['ready', 'closed'],
  ready: ['writing', 'closed'],
  writing: ['ready', 'aborting', 'reinitialising', 'closed'],
  aborting: ['reinitialising', 'closed'],
  reinitialising: ['starting', 'closed'],
  closed: [],
};

export class IllegalWriterTransition extends Error {
  constructor(from: WriterState, to: WriterState) {
    super(`partition writer cannot move from ${from} to ${to}`);
  }
}

export class TransactionState {
  private current: WriterState = 'starting';

  get state(): WriterState {
    return this.current;
  }

  transitionTo(next: WriterState): void {
    if (!transitions[this.current].includes(next)) throw new IllegalWriterTransition(this.current, next);
    this.current = next;
  }

  /**
   * Like `transitionTo`, but a writer that was closed meanwhile stays closed and this answers
   * false: ownership is revoked from outside, at any moment, so every step must expect it.
   */
  advance(next: WriterState): boolean {
    if (this.current === 'closed') return false;
    this.transitionTo(next);
    return true;
  }

  is(...states: WriterState[]): boolean {
    return states.includes(this.current);
  }
}
