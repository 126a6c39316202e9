// I5 for commands run at the owner: they take the append path's writer and transaction, so a
// frozen owner (SIGSTOP with a transaction open, past its session timeout) cannot make any of
// its in-flight commands visible after another process took over, and their callers get errors.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { account } from '../../examples/bank-account.js';
import { EventStore } from '../../src/index.js';
import { KafkaAdmin } from '../../src/kafka/index.js';
import { hasOpenTransaction, readEventsTopic } from '../support/log-check.js';
import { owningAll } from '../support/ownership.js';
import { WriterProcess } from '../support/writer-processes.js';

const brokers = inject('brokers');
const partitions = 2;

describe('I5 for commands at the owner', () => {
  const writers: WriterProcess[] = [];
  const stores: EventStore[] = [];
  afterAll(async () => {
    for (const w of writers) w.kill('SIGCONT');
    await Promise.all([...writers.map((w) => w.close()), ...stores.map((s) => s.close())]);
  });

  it('I5: none of a frozen owner\'s in-flight commands becomes visible after another process took over', async () => {
    const name = `zombie-cmd-${randomUUID().slice(0, 8)}`;
    const options = { brokers, store: name, partitions, sessionTimeoutMs: 6_000, transactionTimeoutMs: 20_000, appendTimeoutMs: 20_000 };
    const streams = Array.from({ length: 6 }, (_, i) => `acc-${i}`);
    // A short append deadline: after the resume the zombie's callers give up instead of
    // sending their commands on to the new owner (which would legitimately apply them), so
    // any in-flight command that is stored was committed by the zombie itself.
    const zombie = await WriterProcess.start({ ...options, appendTimeoutMs: 3_000, dataDir: `.scribe/test/${name}/zombie` });
    writers.push(zombie);
    while ((await zombie.owned()).length < partitions) await new Promise((r) => setTimeout(r, 100));
    zombie.send({ cmd: 'deposits', streams, workers: 8 });
    while (zombie.reports.filter((r) => r.type === 'ack').length < 100) await new Promise((r) => setTimeout(r, 20));

    const admin = KafkaAdmin.connect({ brokers });
    let frozen = false;
    for (let tries = 0; tries < 200 && !frozen; tries++) {
      zombie.kill('SIGSTOP');
      if (await hasOpenTransaction(admin, `${name}.events`, partitions)) frozen = true;
      else {
        zombie.kill('SIGCONT');
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      }
    }
    admin.disconnect();
    expect(frozen, 'the owner was frozen while a transaction was open').toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    const answered = new Set(zombie.reports.flatMap((r) => (r.type === 'ack' || r.type === 'failed' ? [r.id] : [])));
    const inFlight = zombie.reports.flatMap((r) => (r.type === 'attempt' && !answered.has(r.id) ? [r.id] : []));
    expect(inFlight.length).toBeGreaterThan(0);

    const successor = await EventStore.connect({ ...options, dataDir: `.scribe/test/${name}/successor` });
    stores.push(successor);
    successor.register('account', { ...account, snapshot: { every: 1 } });
    await owningAll(successor);
    const successorIds: string[] = [];
    for (const streamId of streams) {
      const commandId = randomUUID();
      await successor.execute('account', streamId, { type: 'Deposit', amount: 1 }, { commandId });
      successorIds.push(`${commandId}/0`);
    }

    zombie.kill('SIGCONT');
    const deadline = Date.now() + 60_000;
    const settled = () => inFlight.every((id) => zombie.reports.some((r) => (r.type === 'ack' || r.type === 'failed') && r.id === id));
    while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(settled(), 'every command in flight at the freeze has ended').toBe(true);
    zombie.kill('SIGKILL');
    // Resumed, the zombie rejoined the group as a new member and may have owned partitions
    // again (legitimately, after fencing the successor) when it was killed: read the log only
    // once the successor owns everything again and whatever the killed process left open is
    // committed or aborted, so that the log and the successor's reads are of one moment.
    await owningAll(successor);
    const settledAdmin = KafkaAdmin.connect({ brokers });
    const quiet = Date.now() + 60_000;
    while ((await hasOpenTransaction(settledAdmin, `${name}.events`, partitions)) && Date.now() < quiet) await new Promise((r) => setTimeout(r, 100));
    settledAdmin.disconnect();

    const log = await readEventsTopic(brokers, `${name}.events`);
    expect(log.violations).toEqual([]);
    for (const id of inFlight) {
      const answer = zombie.reports.find((r) => (r.type === 'ack' || r.type === 'failed') && r.id === id)!;
      const stored = log.idCounts.get(`${id}/0`) ?? 0;
      // A commit sent just before the freeze may land while its caller, resumed past its
      // deadline, can only say "outcome unknown"; anything else that was stored was acknowledged.
      if (stored === 1) expect(answer.type === 'ack' || (answer.type === 'failed' && answer.code === 'APPEND_OUTCOME_UNKNOWN'), JSON.stringify(answer)).toBe(true);
      else expect(stored, JSON.stringify(answer)).toBe(answer.type === 'ack' ? 1 : 0);
    }
    // What the zombie had in flight and stored precedes the successor's first event in its stream.
    const inFlightEvents = new Set(inFlight.map((id) => `${id}/0`));
    for (const history of log.streams.values()) {
      const first = history.ids.findIndex((id) => successorIds.includes(id));
      if (first >= 0) expect(history.ids.slice(first).filter((id) => inFlightEvents.has(id))).toEqual([]);
    }
    // The balances are the deposits that were stored, each once.
    for (const streamId of streams) {
      const history = log.streams.get(streamId)!;
      expect((await successor.load(account, streamId)).state.balance).toBe(history.ids.length - 1);
    }
    console.log(`${inFlight.length} commands in flight at the freeze; ${inFlight.filter((id) => log.idCounts.has(`${id}/0`)).length} of them stored (committed before the takeover)`);
  }, 240_000);
});
