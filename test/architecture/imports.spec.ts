// The layering of docs/architecture.md, checked on the sources: which folder may import
// which, no cycles between folders, and a testing entry that loads no Kafka client.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

interface Import {
  readonly from: string;
  readonly to: string;
  /** Erased at compile time: `import type`, or an import of types only. */
  readonly typeOnly: boolean;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every import and re-export of a module, with the file or package it names. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(import|export)\s+(type\s+)?([^;]*?)\s+from\s+'([^']+)';/gms)].map(([, , type, names, target]) => {
    const typeOnly = type !== undefined || /^\{[^}]*\}$/s.test(names!) && names!.slice(1, -1).split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '));
    return { from: file, to: target!.startsWith('.') ? resolve(dirname(file), target!) : target!, typeOnly };
  });
}

/** The part a source file belongs to: its folder under src/, or `errors` and `index` for the two files at the top. */
function partOf(file: string): string {
  const path = relative(src, file);
  return path.includes('/') ? path.split('/')[0]! : path.replace(/\.(ts|js)$/, '');
}

const files = sources(src);
const imports = files.flatMap(importsOf);
const internal = imports.filter((i) => i.to.startsWith(src));

function partsImportedBy(part: string): Set<string> {
  return new Set(internal.filter((i) => partOf(i.from) === part && partOf(i.to.replace(/\.js$/, '.ts')) !== part).map((i) => partOf(i.to.replace(/\.js$/, '.ts'))));
}

describe('the architecture', () => {
  it('the append rules (appends/) depend on the domain vocabulary (streams/) alone', () => {
    expect([...partsImportedBy('appends')].sort()).toEqual(['streams']);
  });

  it('the domain vocabulary (streams/) depends on nothing but the error base', () => {
    expect([...partsImportedBy('streams')].sort()).toEqual(['errors']);
  });

  it('the store contract (contract/) names only domain types', () => {
    for (const part of partsImportedBy('contract')) expect(['aggregates', 'streams']).toContain(part);
  });

  it("scribe's main entry loads neither prom-client nor OpenTelemetry: they are optional, for scribe/metrics and scribe/opentelemetry", () => {
    const seen = new Set<string>();
    const pending = [join(src, 'index.ts')];
    const external = new Set<string>();
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const i of importsOf(file)) {
        if (i.typeOnly) continue;
        if (i.to.startsWith(src)) pending.push(i.to.replace(/\.js$/, '.ts'));
        else if (!i.to.startsWith('node:')) external.add(i.to);
      }
    }
    expect(seen.size).toBeGreaterThan(20);
    expect([...seen].map(partOf)).not.toContain('metrics');
    expect([...seen].map(partOf)).not.toContain('tracing');
    expect([...external].filter((name) => name === 'prom-client' || name.startsWith('@opentelemetry/'))).toEqual([]);
  });

  it('scribe/testing loads neither the Kafka client nor LevelDB', () => {
    const seen = new Set<string>();
    const pending = [join(src, 'testing/index.ts')];
    const external = new Set<string>();
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const i of importsOf(file)) {
        if (i.typeOnly) continue;
        if (i.to.startsWith(src)) pending.push(i.to.replace(/\.js$/, '.ts'));
        else if (!i.to.startsWith('node:')) external.add(i.to);
      }
    }
    expect([...seen].map(partOf)).not.toContain('kafka');
    expect([...external]).not.toContain('@confluentinc/kafka-javascript');
    expect([...external]).not.toContain('classic-level');
  });
});
