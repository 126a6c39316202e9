// How commands print: a table or lines for people, `--json` for scripts (one document, or one
// event per line for commands that stream events).
import type { RecordedEvent } from '../streams/event.js';

export const out = (line: string): void => void process.stdout.write(`${line}\n`);
export const note = (line: string): void => void process.stderr.write(`${line}\n`);

export interface JsonFlag {
  readonly json?: boolean;
}

/** JSON of anything a command prints; BigInt (state codecs keep it) as a decimal string. */
export function json(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent);
}


/** One event as one line: where it is, what it is, its data (and metadata when it has any). */
export function eventLine(event: RecordedEvent): string {
  const metadata = Object.keys(event.metadata).length > 0 ? `  metadata ${json(event.metadata)}` : '';
  return `${event.streamId}@${event.version}  ${event.type}  ${event.position.partition}/${event.position.offset}  ${event.timestamp.toISOString()}  ${json(event.data)}${metadata}`;
}

/** Columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
