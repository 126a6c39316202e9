// The README's examples are the files the tests run: a code block that follows a
// `<!-- path -->` marker must equal that file (with the package's import path).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const examples = [...readme.matchAll(/<!-- (examples\/[\w.-]+\.ts) -->\n```ts\n([\s\S]*?)```/g)];

describe('the README', () => {
  it('shows the decider example, its use, its unit test, and the event schemas example', () => {
    expect(examples.map(([, path]) => path)).toEqual(['examples/bank-account.ts', 'examples/account-usage.ts', 'examples/bank-account.spec.ts', 'examples/event-schemas.ts']);
  });

  for (const [, path, shown] of examples) {
    it(`shows ${path} as it is`, () => {
      const file = readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
      expect(shown).toBe(file.replace("'../src/index.js'", "'scribe'").replace("'../src/testing/index.js'", "'scribe/testing'"));
    });
  }
});
