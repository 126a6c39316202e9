// Folders of src/ depend on each other in one direction only: no folder reaches itself again
// through the folders it imports (src/index.ts, the public surface, imports everything and is
// left out; src/errors.ts counts as a folder of its own).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = join(dirname(fileURLToPath(import.meta.url)), '../../src');

/** The folder (or top-level module) a path under src/ belongs to. */
function partOf(path: string): string {
  const [first, second] = relative(src, path).split('/');
  return second === undefined ? first!.replace(/\.(ts|js)$/, '') : first!;
}

function importGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts') && path !== join(src, 'index.ts')) {
        const from = partOf(path);
        for (const [, target] of readFileSync(path, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
          const to = partOf(normalize(join(dir, target!)));
          if (to !== from) (graph.get(from) ?? graph.set(from, new Set()).get(from)!).add(to);
        }
      }
    }
  };
  visit(src);
  return graph;
}

/** Every folder that reaches itself again, with one path that does. */
function cycles(graph: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  for (const start of graph.keys()) {
    const seen = new Set<string>();
    const stack: string[][] = [...(graph.get(start) ?? [])].map((next) => [start, next]);
    while (stack.length > 0) {
      const path = stack.pop()!;
      const at = path[path.length - 1]!;
      if (at === start) {
        found.push(path.join(' -> '));
        break;
      }
      if (seen.has(at)) continue;
      seen.add(at);
      for (const next of graph.get(at) ?? []) stack.push([...path, next]);
    }
  }
  return found;
}

describe('the folders of src/', () => {
  it('import each other without cycles', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(10);
    expect(cycles(graph)).toEqual([]);
  });
});
