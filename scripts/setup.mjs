#!/usr/bin/env node
// Builds what `npm ci` leaves unbuilt: the Kafka client's native addon (librdkafka).
// `.npmrc` turns install scripts off because the addon's own install step downloads a
// prebuilt binary, which this network refuses; here it is compiled against Debian's
// OpenSSL and zlib instead (docs/decisions/0001-kafka-client.md). Idempotent and quick
// when everything is already built.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node');
const debianPackages = ['libssl-dev', 'zlib1g-dev', 'g++', 'make', 'python3'];

function log(message) {
  process.stderr.write(`[setup] ${message}\n`);
}

function missingDebianPackages() {
  return debianPackages.filter((name) => {
    try {
      const status = execFileSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return !status.includes('install ok installed');
    } catch {
      return true;
    }
  });
}

function ensureDebianPackages() {
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages ${missing.join(', ')}: run apt-get install -y ${missing.join(' ')} as root`);
  }
  log(`installing Debian packages: ${missing.join(', ')}`);
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-q', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function ensureKafkaAddon() {
  if (existsSync(addon)) return;
  ensureDebianPackages();
  log('building @confluentinc/kafka-javascript against the system OpenSSL (about a minute, once)');
  const started = Date.now();
  execFileSync('npm', ['rebuild', '@confluentinc/kafka-javascript', '--ignore-scripts=false'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CKJS_LINKING: 'dynamic' },
  });
  log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
}

ensureKafkaAddon();
const require = createRequire(join(root, 'package.json'));
const kafka = require('@confluentinc/kafka-javascript');
log(`librdkafka ${kafka.librdkafkaVersion} ready`);
