// The read model the projection tests use (in the test process and in runner processes).
import { projection, type Projection } from '../../src/projections/index.js';

/**
 * The read model of the tests: every event applied goes to `applied` (no key, so a second
 * application shows), and `totals` counts each stream's events with a non-idempotent
 * increment. An event whose data says `poison: true` fails until its id is in `cured`.
 */
export function countingProjection(schema: string, name = 'counting'): Projection {
  const q = `"${schema}"`;
  return projection({
    name,
    tables: [`${q}.applied`, `${q}.totals`],
    async init(tx) {
      await tx.query(`CREATE TABLE IF NOT EXISTS ${q}.applied (seq bigserial, event_id text NOT NULL, stream_id text NOT NULL, version integer NOT NULL, data jsonb)`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${q}.totals (stream_id text PRIMARY KEY, events integer NOT NULL, last_version integer NOT NULL)`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${q}.cured (event_id text PRIMARY KEY)`);
    },
    async handle(batch, tx) {
      for (const event of batch.events) {
        if ((event.data as { poison?: boolean } | null)?.poison === true) {
          const cured = await tx.query(`SELECT 1 FROM ${q}.cured WHERE event_id = $1`, [event.id]);
          if (cured.rowCount === 0) throw new Error(`poison event ${event.id}`);
        }
      }
      if (batch.events.length === 0) return;
      await tx.query(`INSERT INTO ${q}.applied (event_id, stream_id, version, data) SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::jsonb[])`, [
        batch.events.map((e) => e.id),
        batch.events.map((e) => e.streamId),
        batch.events.map((e) => e.version),
        batch.events.map((e) => JSON.stringify(e.data)),
      ]);
      await tx.query(
        `INSERT INTO ${q}.totals AS t (stream_id, events, last_version) SELECT stream_id, count(*), max(version) FROM unnest($1::text[], $2::int[]) AS e(stream_id, version) GROUP BY stream_id
         ON CONFLICT (stream_id) DO UPDATE SET events = t.events + EXCLUDED.events, last_version = GREATEST(t.last_version, EXCLUDED.last_version)`,
        [batch.events.map((e) => e.streamId), batch.events.map((e) => e.version)],
      );
    },
  });
}

