// Given/when/then for deciders, with no store at all: given past events, when a command, then
// these events (or this refusal, or this state). Deciding runs through the same checks as in
// a store, so a decider that passes here behaves the same in `handle` and `execute`.
import { deepStrictEqual } from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { decideOrRefuse } from '../aggregates/command-runner.js';
import type { Decider, DomainEvent } from '../aggregates/decider.js';

/** What a refusal must be: an error class, a predicate, or a message (substring or pattern). */
export type RefusalCheck = (new (...args: never[]) => Error) | ((error: unknown) => boolean) | string | RegExp;

export interface DeciderOutcome<State, Event extends DomainEvent> {
  /** The command decided exactly these events (compared deeply, in order). */
  then(expected: readonly Event[]): void;
  /** The command decided no events. */
  thenNothing(): void;
  /** The state after folding the given and the decided events. */
  thenState(expected: State): void;
  /** The decider refused the command; returns the refusal for further checks. */
  thenThrows(check?: RefusalCheck): Error;
}

export interface DeciderGiven<State, Command, Event extends DomainEvent> {
  when(command: Command): DeciderOutcome<State, Event>;
}

export interface DeciderSpecification<State, Command, Event extends DomainEvent> {
  given(events: readonly Event[]): DeciderGiven<State, Command, Event>;
}

export const DeciderSpecification = {
  for<State, Command, Event extends DomainEvent>(decider: Decider<State, Command, Event>): DeciderSpecification<State, Command, Event> {
    return { given: (events) => ({ when: (command) => outcome(decider, events, command) }) };
  },
};

function outcome<State, Command, Event extends DomainEvent>(decider: Decider<State, Command, Event>, given: readonly Event[], command: Command): DeciderOutcome<State, Event> {
  const before = given.reduce((state, event) => decider.evolve(state, event), decider.initialState());
  let decided: { events: readonly Event[] } | { refusal: unknown } | undefined;
  // Decided once, on first use, so a `then` of a refused command reports the refusal.
  const decide = () =>
    (decided ??= (() => {
      try {
        return { events: decideOrRefuse(decider as Decider<State, unknown, DomainEvent>, command, before, 'specification') as readonly Event[] };
      } catch (refusal) {
        return { refusal };
      }
    })());
  const events = (): readonly Event[] => {
    const result = decide();
    if ('refusal' in result) throw new AssertionError({ message: `expected events, but the decider refused the command: ${describe(result.refusal)}` });
    return result.events;
  };
  return {
    then: (expected) => deepStrictEqual(events(), expected, 'the decided events differ from the expected ones'),
    thenNothing: () => deepStrictEqual(events(), [], 'expected no events'),
    thenState: (expected) =>
      deepStrictEqual(
        events().reduce((state, event) => decider.evolve(state, event), before),
        expected,
        'the state after the decided events differs from the expected one',
      ),
    thenThrows: (check) => {
      const result = decide();
      if (!('refusal' in result)) throw new AssertionError({ message: `expected a refusal, but the decider decided ${result.events.length} event(s)`, actual: result.events });
      const refusal = result.refusal as Error;
      if (check !== undefined && !matches(refusal, check)) {
        throw new AssertionError({ message: `the refusal does not match ${describeCheck(check)}: ${describe(refusal)}`, actual: refusal });
      }
      return refusal;
    },
  };
}

function matches(refusal: Error, check: RefusalCheck): boolean {
  if (typeof check === 'string') return refusal.message.includes(check);
  if (check instanceof RegExp) return check.test(refusal.message);
  // A class has a prototype that is an Error's; a predicate (arrow or plain function) is called.
  if (check.prototype instanceof Error || check === Error) return refusal instanceof (check as new (...args: never[]) => Error);
  return (check as (error: unknown) => boolean)(refusal);
}

function describeCheck(check: RefusalCheck): string {
  if (typeof check === 'string') return `the message ${JSON.stringify(check)}`;
  if (check instanceof RegExp) return `the pattern ${String(check)}`;
  return check.prototype instanceof Error || check === Error ? `the class ${check.name}` : 'the predicate';
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
