// The partition writer's lifecycle as a table (no broker): which moves are allowed, that every
// move is reported, that the final states are final, and that an illegal move throws.
import { describe, expect, it } from 'vitest';
import { finalStates, IllegalWriterTransition, WriterLifecycle, writerStates, writerTransitions, type WriterState } from '../../src/writer/writer-state.js';

/** Walks a lifecycle along `path` from 'starting'. */
function along(path: WriterState[]): { lifecycle: WriterLifecycle; heard: [WriterState, WriterState][] } {
  const heard: [WriterState, WriterState][] = [];
  const lifecycle = new WriterLifecycle((from, to) => heard.push([from, to]));
  for (const state of path) lifecycle.transitionTo(state);
  return { lifecycle, heard };
}

/** A path from 'starting' to each state, through allowed moves only. */
const pathTo: Record<WriterState, WriterState[]> = {
  starting: [],
  recovering: ['recovering'],
  ready: ['recovering', 'ready'],
  'in-transaction': ['recovering', 'ready', 'in-transaction'],
  committing: ['recovering', 'ready', 'in-transaction', 'committing'],
  abortable: ['recovering', 'ready', 'in-transaction', 'abortable'],
  reinitialising: ['recovering', 'ready', 'in-transaction', 'abortable', 'reinitialising'],
  fenced: ['fenced'],
  failed: ['failed'],
  closed: ['closed'],
};

describe('the writer state machine', () => {
  it('a batch goes ready -> in-transaction -> committing -> ready, and every move is reported once, in order', () => {
    const { lifecycle, heard } = along(['recovering', 'ready', 'in-transaction', 'committing', 'ready']);
    expect(lifecycle.state).toBe('ready');
    expect(heard).toEqual([
      ['starting', 'recovering'],
      ['recovering', 'ready'],
      ['ready', 'in-transaction'],
      ['in-transaction', 'committing'],
      ['committing', 'ready'],
    ]);
  });

  it('a definite failure aborts, then replaces the producer and recovers: abortable -> reinitialising -> starting', () => {
    const { lifecycle } = along([...pathTo.abortable, 'reinitialising', 'starting', 'recovering', 'ready']);
    expect(lifecycle.state).toBe('ready');
  });

  it('an unknown commit outcome replaces the producer without an abort: committing -> reinitialising', () => {
    expect(along([...pathTo.committing, 'reinitialising']).lifecycle.state).toBe('reinitialising');
  });

  it('an abortable error in commit is definite: committing -> abortable', () => {
    expect(along([...pathTo.committing, 'abortable']).lifecycle.state).toBe('abortable');
  });

  it('every live state may stop: fenced, failed or closed', () => {
    for (const state of writerStates.filter((s) => !finalStates.includes(s))) {
      for (const stop of finalStates) {
        const { lifecycle } = along(pathTo[state]);
        expect(lifecycle.transitionTo(stop), `${state} -> ${stop}`).toBe(true);
        expect(lifecycle.stopped).toBe(true);
      }
    }
  });

  it('allows exactly the moves of its table, and throws IllegalWriterTransition (naming both states) for any other', () => {
    for (const from of writerStates.filter((s) => !finalStates.includes(s))) {
      for (const to of writerStates) {
        const { lifecycle, heard } = along(pathTo[from]);
        const before = heard.length;
        if (writerTransitions[from].includes(to)) {
          expect(lifecycle.transitionTo(to)).toBe(true);
          expect(heard.slice(before)).toEqual([[from, to]]);
        } else {
          expect(() => lifecycle.transitionTo(to), `${from} -> ${to}`).toThrow(IllegalWriterTransition);
          expect(() => lifecycle.transitionTo(to)).toThrow(`from ${from} to ${to}`);
          expect(lifecycle.state).toBe(from);
          expect(heard.length).toBe(before);
        }
      }
    }
  });

  it('a stopped writer stays stopped: every move answers false, nothing is reported', () => {
    for (const stop of finalStates) {
      for (const to of writerStates) {
        const { lifecycle, heard } = along(pathTo[stop]);
        const before = heard.length;
        expect(lifecycle.transitionTo(to)).toBe(false);
        expect(lifecycle.state).toBe(stop);
        expect(heard.length).toBe(before);
      }
    }
  });

  it('the table names only known states, and the final states lead nowhere', () => {
    for (const [from, targets] of Object.entries(writerTransitions)) {
      expect(writerStates).toContain(from);
      for (const to of targets) expect(writerStates).toContain(to);
    }
    for (const stop of finalStates) expect(writerTransitions[stop]).toEqual([]);
  });

  it('every state is reachable from starting', () => {
    const reached = new Set<WriterState>(['starting']);
    for (let grew = true; grew; ) {
      grew = false;
      for (const from of [...reached]) for (const to of writerTransitions[from]) if (!reached.has(to)) (reached.add(to), (grew = true));
    }
    expect([...reached].sort()).toEqual([...writerStates].sort());
  });
});
