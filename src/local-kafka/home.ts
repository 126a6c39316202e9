// Where the local Kafka lives: jars and cluster data under `.kafka/` in the project (or
// SCRIBE_KAFKA_HOME), resolved from Maven Central once by `kafka/pom.xml`.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The directory holding Scribe's package.json, found by walking up from this module. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'kafka', 'pom.xml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find kafka/pom.xml above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export function kafkaHome(): string {
  return process.env.SCRIBE_KAFKA_HOME ?? join(packageRoot(), '.kafka');
}

export function libDir(): string {
  return join(kafkaHome(), 'lib');
}

export function jarsPresent(): boolean {
  const dir = libDir();
  return existsSync(dir) && readdirSync(dir).some((name) => /^kafka_2\.13-.*\.jar$/.test(name));
}

/** Resolves the broker's jars with Maven unless they are already there. Returns seconds spent (0 when cached). */
export async function ensureKafkaJars(log: (line: string) => void = () => undefined): Promise<number> {
  if (jarsPresent()) return 0;
  const started = Date.now();
  log('resolving Apache Kafka from Maven Central (once)...');
  await run(
    'mvn',
    ['-B', '-q', '-f', join(packageRoot(), 'kafka', 'pom.xml'), 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${libDir()}`],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  if (!jarsPresent()) throw new Error(`Maven finished but no kafka_2.13 jar is in ${libDir()}`);
  const seconds = (Date.now() - started) / 1000;
  log(`Kafka jars ready in ${seconds.toFixed(1)} s`);
  return seconds;
}
