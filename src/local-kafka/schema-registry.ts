// A real schema registry for tests and benchmarks: Apicurio Registry (its Confluent-compatible
// API under /apis/ccompat/v7) resolved from Maven Central once, run as plain `java` with
// in-memory storage on a free loopback port. Not part of the event store.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from './cluster.js';
import { kafkaHome } from './home.js';

const run = promisify(execFile);

/** 3.0.x ships a runner jar plus lib/ (3.1.5 and later: a Quarkus fast-jar). */
export const apicurioVersion = '3.0.9';

function registryHome(): string {
  return join(kafkaHome(), 'registry', apicurioVersion);
}

function runnerJar(): string | undefined {
  const home = registryHome();
  if (!existsSync(home)) return undefined;
  const jar = readdirSync(home).find((name) => name.endsWith('-runner.jar'));
  return jar && join(home, jar);
}

/** Resolves the registry's `zip:all` assembly with Maven and unpacks it (with the JDK's `jar`) unless present. */
async function ensureRegistry(log: (line: string) => void = () => undefined): Promise<string> {
  const present = runnerJar();
  if (present) return present;
  const started = Date.now();
  const home = registryHome();
  mkdirSync(home, { recursive: true });
  log(`resolving Apicurio Registry ${apicurioVersion} from Maven Central (once)...`);
  await run('mvn', ['-B', '-q', 'dependency:copy', `-Dartifact=io.apicurio:apicurio-registry-app:${apicurioVersion}:zip:all`, `-DoutputDirectory=${home}`], { maxBuffer: 16 * 1024 * 1024 });
  await run('jar', ['xf', `apicurio-registry-app-${apicurioVersion}-all.zip`], { cwd: home });
  const jar = runnerJar();
  if (!jar) throw new Error(`the Apicurio assembly in ${home} has no runner jar`);
  log(`registry ready to run in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return jar;
}

export class LocalSchemaRegistry {
  private constructor(
    private readonly child: ChildProcess,
    /** The Confluent-compatible API: what `schemaRegistry.url` takes. */
    readonly url: string,
  ) {}

  static async start(options: { log?: (line: string) => void; timeoutMs?: number } = {}): Promise<LocalSchemaRegistry> {
    const log = options.log ?? (() => undefined);
    const jar = await ensureRegistry(log);
    const [port] = await freePorts(1);
    const logFile = join(registryHome(), `registry-${port}.log`);
    const child = spawn('java', ['-Xmx256m', `-Dquarkus.http.port=${port}`, '-Dquarkus.http.host=127.0.0.1', '-jar', jar], {
      cwd: registryHome(),
      stdio: ['ignore', openSync(logFile, 'w'), openSync(logFile, 'a')],
    });
    const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
    const registry = new LocalSchemaRegistry(child, url);
    const started = Date.now();
    const deadline = started + (options.timeoutMs ?? 120_000);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the registry exited with ${child.exitCode}; see ${logFile}`);
      try {
        if ((await fetch(`${url}/subjects`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await registry.stop();
        throw new Error(`the registry did not answer within ${options.timeoutMs ?? 120_000} ms; see ${logFile}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    log(`schema registry at ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return registry;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
