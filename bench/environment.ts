// The facts recorded with every benchmark result: the machine, and the versions of Node,
// Kafka and the Kafka client library.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { libDir, packageRoot } from '../src/local-kafka/home.js';

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  /** 1-minute load average when the run started: other work on the machine skews figures. */
  readonly loadAverage1m: number;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    node: process.version,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

const require = createRequire(join(packageRoot(), 'package.json'));

/** The installed version of an npm package, or undefined when it is not installed. */
export function packageVersion(name: string): string | undefined {
  // Packages whose `exports` leave out package.json (Emmett's) are read from node_modules directly.
  const candidates = [() => require.resolve(`${name}/package.json`), () => join(packageRoot(), 'node_modules', name, 'package.json')];
  for (const file of candidates) {
    try {
      return (JSON.parse(readFileSync(file(), 'utf8')) as { version: string }).version;
    } catch {
      // Not resolvable this way: try the next.
    }
  }
  return undefined;
}

/** Kafka's version, from the broker jar the local cluster runs (kafka_2.13-X.jar), else from kafka/pom.xml. */
export function kafkaVersion(): string | undefined {
  const dir = libDir();
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) {
      const match = /^kafka_2\.13-(.+)\.jar$/.exec(name);
      if (match) return match[1];
    }
  }
  const pom = readFileSync(join(packageRoot(), 'kafka', 'pom.xml'), 'utf8');
  return /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
}

export function versions(): Record<string, string> {
  const entries: [string, string | undefined][] = [
    ['kafka', kafkaVersion()],
    ['@confluentinc/kafka-javascript', packageVersion('@confluentinc/kafka-javascript')],
    ['librdkafka', librdkafkaVersion()],
  ];
  return Object.fromEntries(entries.filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** The librdkafka the native addon was built from, as the addon reports it. */
function librdkafkaVersion(): string | undefined {
  try {
    return (require('@confluentinc/kafka-javascript') as { librdkafkaVersion: string }).librdkafkaVersion;
  } catch {
    return undefined;
  }
}
