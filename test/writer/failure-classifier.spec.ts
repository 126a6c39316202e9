// What a partition writer does about a failure, as a table of (error, phase) -> decision (no
// broker). The phase says whether anything can be visible: before commit nothing is; once the
// commit was asked for, only the broker's definite "aborted" or "fenced" makes it definite.
import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../../src/errors.js';
import { KafkaOperationError } from '../../src/kafka/index.js';
import { kafkaErrorCodes } from '../../src/kafka/errors.js';
import { classifyFailure, failureDecisions, isProgrammingError, writerPhases, type FailureDecision, type WriterPhase } from '../../src/writer/failure-classifier.js';
import { IllegalWriterTransition, WriterInvariantError } from '../../src/writer/writer-state.js';

/** An error as librdkafka reports it, classified by Scribe's Kafka layer. */
function kafka(code: number, flags: { isRetriable?: boolean; isTxnRequiresAbort?: boolean; isFatal?: boolean } = {}): KafkaOperationError {
  return new KafkaOperationError('commitTransaction', { message: `code ${code}`, code, errno: code, origin: 'kafka', ...flags });
}

const errors = {
  fenced: kafka(kafkaErrorCodes.ERR__FENCED, { isFatal: true }),
  'timed out': kafka(kafkaErrorCodes.ERR__TIMED_OUT, { isRetriable: true }),
  'transport failure': kafka(kafkaErrorCodes.ERR__TRANSPORT),
  abortable: kafka(kafkaErrorCodes.ERR_INVALID_RECORD, { isTxnRequiresAbort: true }),
  'abortable, timed out': kafka(kafkaErrorCodes.ERR__TIMED_OUT, { isTxnRequiresAbort: true }),
  'no flag set': kafka(kafkaErrorCodes.ERR_UNKNOWN),
  "Scribe's own bound passed": new TimeoutError('commitTransaction', 12_000),
  'an illegal state move': new IllegalWriterTransition('ready', 'committing'),
  'a TypeError in Scribe': new TypeError("Cannot read properties of undefined (reading 'offset')"),
  'the local index failing': Object.assign(new Error('IO error: No space left on device'), { code: 'LEVEL_IO_ERROR' }),
};

type Kind = keyof typeof errors;

const retry: FailureDecision = 'retry-in-new-transaction';
const unknown: FailureDecision = 'outcome-unknown-reinitialise';
const fenced: FailureDecision = 'fenced-give-up';
const unavailable: FailureDecision = 'unavailable-give-up';
const failed: FailureDecision = 'failed';

/** Per kind of error, the decision in each phase (in the order of writerPhases). */
const table: Record<Kind, Record<WriterPhase, FailureDecision>> = {
  //                      connect      init         recover      decide  begin   produce send-offsets commit   abort   apply
  fenced: row(fenced, fenced, fenced, failed, fenced, fenced, fenced, fenced, fenced, failed),
  'timed out': row(unavailable, unavailable, unavailable, failed, retry, retry, retry, unknown, retry, failed),
  'transport failure': row(unavailable, unavailable, unavailable, failed, retry, retry, retry, unknown, retry, failed),
  abortable: row(unavailable, unavailable, unavailable, failed, retry, retry, retry, retry, retry, failed),
  'abortable, timed out': row(unavailable, unavailable, unavailable, failed, retry, retry, retry, unknown, retry, failed),
  'no flag set': row(unavailable, unavailable, unavailable, failed, retry, retry, retry, unknown, retry, failed),
  "Scribe's own bound passed": row(unavailable, unavailable, unavailable, failed, retry, retry, retry, unknown, retry, failed),
  'an illegal state move': row(failed, failed, failed, failed, failed, failed, failed, failed, failed, failed),
  'a TypeError in Scribe': row(failed, failed, failed, failed, failed, failed, failed, failed, failed, failed),
  'the local index failing': row(unavailable, unavailable, unavailable, failed, retry, retry, retry, unknown, retry, failed),
};

function row(...decisions: FailureDecision[]): Record<WriterPhase, FailureDecision> {
  expect(decisions).toHaveLength(writerPhases.length);
  return Object.fromEntries(writerPhases.map((phase, i) => [phase, decisions[i]!])) as Record<WriterPhase, FailureDecision>;
}

describe('the failure classifier', () => {
  for (const [kind, decisions] of Object.entries(table) as [Kind, Record<WriterPhase, FailureDecision>][]) {
    it(`${kind}: ${writerPhases.map((phase) => `${phase} -> ${decisions[phase]}`).join(', ')}`, () => {
      for (const phase of writerPhases) expect(classifyFailure(errors[kind], phase), `${kind} in ${phase}`).toBe(decisions[phase]);
    });
  }

  it('before commit nothing is ever "outcome unknown"', () => {
    const beforeCommit = writerPhases.slice(0, writerPhases.indexOf('commit'));
    for (const error of Object.values(errors)) for (const phase of beforeCommit) expect(classifyFailure(error, phase)).not.toBe(unknown);
  });

  it("Scribe's own bugs always fail the writer, in every phase, and are never taken for Kafka's", () => {
    for (const bug of [errors['an illegal state move'], errors['a TypeError in Scribe'], new WriterInvariantError('the writer is ready without a producer'), new RangeError('Invalid array length'), new ReferenceError('x is not defined')]) {
      expect(isProgrammingError(bug)).toBe(true);
      for (const phase of writerPhases) expect(classifyFailure(bug, phase)).toBe(failed);
    }
    for (const notBug of [errors.fenced, errors['timed out'], errors["Scribe's own bound passed"], errors['the local index failing'], 'a string', undefined]) {
      expect(isProgrammingError(notBug)).toBe(false);
    }
  });

  it('answers only decisions of its list', () => {
    for (const error of [...Object.values(errors), null, 42]) for (const phase of writerPhases) expect(failureDecisions).toContain(classifyFailure(error, phase));
  });
});
