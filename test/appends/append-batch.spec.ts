// The append rules on their own (no broker): expected versions, conflicts inside a batch,
// idempotent retries, ids stored elsewhere, commands decided against the batch.
import { describe, expect, it } from 'vitest';
import { commandEventId, decideBatch, type AppendIntent, type BatchView, type CommandDecision } from '../../src/appends/append-batch.js';
import { EventIdConflictError, WrongExpectedVersionError } from '../../src/streams/errors.js';
import type { ExpectedVersion } from '../../src/streams/expected-version.js';
import { event, events, MemoryPartition, partition, type Settled } from './memory-partition.js';

function append(streamId: string, expectedVersion: ExpectedVersion, ...ids: string[]): AppendIntent {
  return { streamId, expectedVersion, events: events(...ids) };
}

function command(streamId: string, commandId: string, decide: CommandDecision['decide']): AppendIntent {
  return { streamId, expectedVersion: 'any', events: { commandId, decide } };
}

/** A command that appends `count` events, each id `<commandId>/<i>`. */
function appending(streamId: string, commandId: string, count: number): AppendIntent {
  return command(streamId, commandId, () => ({ events: Array.from({ length: count }, (_, i) => event(commandEventId(commandId, i))) }));
}

function ok(settled: Settled): { version: number; offset: string } {
  if (!settled.ok) throw new Error(`expected a result, got ${String(settled.error)}`);
  return { version: settled.result.nextExpectedVersion, offset: settled.result.position.offset };
}

function refusal(settled: Settled): unknown {
  if (settled.ok) throw new Error(`expected a refusal, got version ${settled.result.nextExpectedVersion}`);
  return settled.error;
}

/** A partition where stream `s` has events a (version 0) and b (version 1). */
function withTwoEvents(): MemoryPartition {
  const p = new MemoryPartition();
  p.run([append('s', 'no_stream', 'a', 'b')]);
  return p;
}

describe('expected versions', () => {
  it("'no_stream' writes a new stream from version 0 and is refused once it exists", () => {
    const p = new MemoryPartition();
    const [first] = p.run([append('s', 'no_stream', 'a')]);
    expect(ok(first!).version).toBe(0);
    const [second] = p.run([append('s', 'no_stream', 'b')]);
    expect(refusal(second!)).toBeInstanceOf(WrongExpectedVersionError);
    expect((refusal(second!) as WrongExpectedVersionError).actual).toBe(0);
  });

  it("'stream_exists' is refused for a new stream (actual -1) and holds for an existing one", () => {
    const p = new MemoryPartition();
    expect((refusal(p.run([append('s', 'stream_exists', 'a')])[0]!) as WrongExpectedVersionError).actual).toBe(-1);
    p.run([append('s', 'no_stream', 'a')]);
    expect(ok(p.run([append('s', 'stream_exists', 'b')])[0]!).version).toBe(1);
  });

  it("'any' always writes, at the stream's next version", () => {
    const p = withTwoEvents();
    expect(ok(p.run([append('s', 'any', 'c', 'd')])[0]!).version).toBe(3);
    expect(ok(p.run([append('t', 'any', 'e')])[0]!).version).toBe(0);
  });

  it('a number writes only when it is the version of the last event, and the refusal carries the actual one', () => {
    const p = withTwoEvents();
    const stale = refusal(p.run([append('s', 0, 'c')])[0]!) as WrongExpectedVersionError;
    expect(stale).toBeInstanceOf(WrongExpectedVersionError);
    expect([stale.expected, stale.actual]).toEqual([0, 1]);
    expect(ok(p.run([append('s', 1, 'c')])[0]!)).toEqual({ version: 2, offset: String(p.log.at(-1)!.offset) });
  });

  it('a refused append writes nothing', () => {
    const p = withTwoEvents();
    p.run([append('s', 5, 'c')]);
    expect(p.log.map((e) => e.id)).toEqual(['a', 'b']);
  });
});

describe('conflicts inside one batch', () => {
  it('of two appends with the same expected version, the first writes and the second is refused with the version the first left', () => {
    const p = withTwoEvents();
    const [first, second] = p.run([append('s', 1, 'c', 'd'), append('s', 1, 'e')]);
    expect(ok(first!).version).toBe(3);
    expect((refusal(second!) as WrongExpectedVersionError).actual).toBe(3);
    expect(p.head('s')).toBe(3);
  });

  it('appends that expect the version the earlier ones leave all write, in order', () => {
    const p = new MemoryPartition();
    const settled = p.run([append('s', 'no_stream', 'a'), append('s', 0, 'b'), append('t', 'no_stream', 'x'), append('s', 1, 'c')]);
    expect(settled.map((s) => ok(s).version)).toEqual([0, 1, 0, 2]);
    expect(p.log.filter((e) => e.streamId === 's').map((e) => [e.id, e.version])).toEqual([['a', 0], ['b', 1], ['c', 2]]);
  });
});

describe('idempotent retries (event ids)', () => {
  it('a retry of a stored append answers as the first time, whatever it expects, and writes nothing', () => {
    const p = new MemoryPartition();
    const [first] = p.run([append('s', 'no_stream', 'a', 'b')]);
    p.run([append('s', 1, 'c')]);
    const [retry] = p.run([append('s', 'no_stream', 'a', 'b')]);
    expect(ok(retry!)).toEqual(ok(first!));
    expect(p.log.map((e) => e.id)).toEqual(['a', 'b', 'c']);
  });

  it('a retry inside the same batch follows the first and gets its outcome', () => {
    const p = new MemoryPartition();
    const decisions = decideBatch(p, partition, [append('s', 'no_stream', 'a'), append('s', 'no_stream', 'a')], 0);
    expect(decisions[1]).toEqual({ kind: 'follow', of: 0 });
    const [first, retry] = p.run([append('t', 'no_stream', 'x'), append('t', 'no_stream', 'x')]);
    expect(ok(retry!)).toEqual(ok(first!));
    expect(p.log.filter((e) => e.id === 'x')).toHaveLength(1);
  });

  it('ids stored only in part are a conflict, and nothing is written', () => {
    const p = withTwoEvents();
    const error = refusal(p.run([append('s', 'any', 'b', 'new')])[0]!);
    expect(error).toBeInstanceOf(EventIdConflictError);
    expect((error as EventIdConflictError).eventId).toBe('b');
    expect(p.log.map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('ids stored in another stream are a conflict', () => {
    const p = withTwoEvents();
    const error = refusal(p.run([append('other', 'any', 'a', 'b')])[0]!);
    expect(error).toBeInstanceOf(EventIdConflictError);
    expect((error as Error).message).toMatch(/another stream/);
  });

  it('ids written in part by an earlier append of the batch, or by it in another stream, are a conflict', () => {
    const p = new MemoryPartition();
    const [, partial, elsewhere] = p.run([append('s', 'any', 'a'), append('s', 'any', 'a', 'b'), append('t', 'any', 'a')]);
    expect(refusal(partial!)).toBeInstanceOf(EventIdConflictError);
    expect(refusal(elsewhere!)).toBeInstanceOf(EventIdConflictError);
  });

  it('ids stored partly in the log and partly by this batch are a conflict (no one append wrote them)', () => {
    const p = withTwoEvents();
    const [, mixed] = p.run([append('s', 'any', 'c'), append('s', 'any', 'a', 'c')]);
    expect(refusal(mixed!)).toBeInstanceOf(EventIdConflictError);
  });
});

describe('commands', () => {
  it('are decided against the stream as the batch leaves it, and see its events of this batch', () => {
    const p = withTwoEvents();
    const seen: [number, string | undefined][] = [];
    const looking = (commandId: string): AppendIntent =>
      command('s', commandId, (current, batch: BatchView) => {
        seen.push([current, batch.event('s', current)?.id]);
        return { events: [event(commandEventId(commandId, 0))] };
      });
    const settled = p.run([append('s', 1, 'c'), looking('k1'), looking('k2')]);
    expect(seen).toEqual([
      [2, 'c'],
      [3, 'k1/0'],
    ]);
    expect(settled.map((s) => ok(s).version)).toEqual([2, 3, 4]);
  });

  it('share the batch scratch space: a later command reads what an earlier one decided', () => {
    const p = new MemoryPartition();
    const counting = (commandId: string): AppendIntent =>
      command('s', commandId, (_, batch) => {
        const count = ((batch.decisions.get('count') as number | undefined) ?? 0) + 1;
        batch.decisions.set('count', count);
        return { events: [event(commandEventId(commandId, 0))] };
      });
    p.run([counting('k1'), counting('k2'), counting('k3')]);
    expect(p.log.map((e) => e.id)).toEqual(['k1/0', 'k2/0', 'k3/0']);
  });

  it('a refusal is the command\'s own error, writes nothing, and the next command meets the stream unchanged', () => {
    const p = withTwoEvents();
    const refused = new Error('no');
    const seen: number[] = [];
    const [first, second] = p.run([
      command('s', 'k1', () => {
        throw refused;
      }),
      command('s', 'k2', (current) => {
        seen.push(current);
        return { events: [event('k2/0')] };
      }),
    ]);
    expect(refusal(first!)).toBe(refused);
    expect(seen).toEqual([1]);
    expect(ok(second!).version).toBe(2);
  });

  it('a command applied before answers with its first result (its last event), and is not decided again', () => {
    const p = withTwoEvents();
    const [first] = p.run([appending('s', 'k', 2)]);
    let decided = false;
    const [again] = p.run([
      command('s', 'k', () => {
        decided = true;
        return { events: [event('k/0')] };
      }),
    ]);
    expect(decided).toBe(false);
    expect(ok(again!)).toEqual(ok(first!));
    expect(ok(again!).version).toBe(3);
  });

  it('the same command twice in one batch: the second follows the first', () => {
    const p = new MemoryPartition();
    const [first, second] = p.run([appending('s', 'k', 1), appending('s', 'k', 1)]);
    expect(ok(second!)).toEqual(ok(first!));
    expect(p.log).toHaveLength(1);
  });

  it('a command that decides nothing answers the current version and its position', () => {
    const p = withTwoEvents();
    const [nothing] = p.run([appending('s', 'k', 0)]);
    expect(ok(nothing!)).toEqual({ version: 1, offset: String(p.event('s', 1)!.offset) });
    const [none] = p.run([appending('new', 'k2', 0)]);
    expect(ok(none!)).toEqual({ version: -1, offset: '-1' });
  });

  it('a command that decides nothing after a write of the same batch answers with that write\'s position', () => {
    const p = withTwoEvents();
    const [write, nothing] = p.run([append('s', 1, 'c'), appending('s', 'k', 0)]);
    expect(ok(nothing!)).toEqual(ok(write!));
    expect(ok(nothing!).offset).not.toBe('-1');
  });

  it('a snapshot decided with the events is written with them', () => {
    const p = new MemoryPartition();
    const snapshot = { snapshotVersion: 1, state: Buffer.from('{}') };
    const decisions = decideBatch(p, partition, [command('s', 'k', () => ({ events: [event('k/0')], snapshot }))], 0);
    expect(decisions[0]).toMatchObject({ kind: 'write', streamId: 's', firstVersion: 0, snapshot });
  });
});

describe('a batch', () => {
  it('leaves the view untouched: it is only read', () => {
    const p = withTwoEvents();
    decideBatch(p, partition, [append('s', 1, 'c'), appending('s', 'k', 2)], 0);
    expect(p.log.map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('of plain appends decides each in order and writes the events as given', () => {
    const p = new MemoryPartition();
    const intents = [append('s', 'no_stream', 'a', 'b'), append('t', 'no_stream', 'c')];
    expect(decideBatch(p, partition, intents, 0)).toEqual([
      { kind: 'write', streamId: 's', firstVersion: 0, events: intents[0]!.events },
      { kind: 'write', streamId: 't', firstVersion: 0, events: intents[1]!.events },
    ]);
  });
});
