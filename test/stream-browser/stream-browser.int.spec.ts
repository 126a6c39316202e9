// The stream browser (`scribe ui`) in a real headless Chromium, as a person on call uses it:
// find a stream, read its events, watch a new one arrive in the live tail, see who owns each
// partition and how far a subscription is behind; refused appends when read-only.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { EventStore, type KafkaEventStore, type RecordedEvent } from '../../src/index.js';
import { startScribe, type RunningCli } from '../support/scribe-cli.js';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromium);
if (!haveChromium) {
  process.stderr.write(`\n[stream browser] SKIPPED: no Chromium at ${chromium}. Install it with \`apt-get install -y chromium\` (Debian; .ci/run does) or set CHROMIUM_PATH.\n\n`);
}

const brokers = inject('brokers');

async function openUi(store: string, ...flags: string[]): Promise<{ cli: RunningCli; url: string }> {
  const cli = startScribe(brokers, 'ui', '--store', store, '--port', '0', ...flags);
  await cli.printed(/stream browser of .*: http:\/\/127\.0\.0\.1:\d+\//);
  return { cli, url: /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(cli.stdout())![1]! };
}

async function stopUi(cli: RunningCli | undefined): Promise<void> {
  if (!cli || cli.child.exitCode !== null) return;
  cli.child.kill('SIGINT');
  await cli.exited;
}

const texts = (page: Page, selector: string) => page.$$eval(selector, (nodes) => nodes.map((n) => (n.textContent ?? '').trim()));

describe.skipIf(!haveChromium)('the stream browser in Chromium', () => {
  const name = `ui-${randomUUID().slice(0, 8)}`;
  let store: KafkaEventStore;
  let browser: Browser;
  let ui: RunningCli | undefined;

  beforeAll(async () => {
    store = await EventStore.connect({ brokers, store: name, partitions: 2, dataDir: `.scribe/test/${name}` });
    await store.append('account-7', [
      { type: 'Opened', data: { owner: 'ada' }, metadata: { requestedBy: 'support' } },
      { type: 'Deposited', data: { amount: 40 } },
    ], { expectedVersion: 'no_stream' });
    for (let i = 1; i <= 3; i++) await store.append(`order-${i}`, [{ type: 'Placed', data: { sku: `sku-${i}` } }], { expectedVersion: 'no_stream' });
    // A named subscription that stopped after the first events: it shows lag.
    const seen: RecordedEvent[] = [];
    const subscription = await store.subscribe({ name: 'invoices', from: 'start' }, (event) => void seen.push(event));
    for (const deadline = Date.now() + 30_000; seen.length < 5 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
    await subscription.stop();
    await store.append('order-1', [{ type: 'Paid', data: { amount: 12 } }], { expectedVersion: 0 });
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stopUi(ui);
    await store?.close();
  });

  it('shows the streams, a stream\'s events, partition owners, subscription lag, and new events live; refuses appends when read-only', async () => {
    const opened = await openUi(name);
    ui = opened.cli;
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 860 });
    await page.goto(opened.url);
    await page.waitForSelector('body[data-ready="true"]');

    expect(await page.$eval('#store-name', (n) => n.textContent)).toBe(name);
    expect(await page.$eval('#mode', (n) => n.textContent)).toBe('read-only');
    expect(await texts(page, '#streams li .id')).toEqual(['account-7', 'order-1', 'order-2', 'order-3']);

    // Search by prefix.
    await page.type('#search', 'order-');
    await page.waitForFunction(`document.querySelectorAll('#streams li .id').length === 3`);
    expect(await texts(page, '#streams li .id')).toEqual(['order-1', 'order-2', 'order-3']);
    await page.$eval('#search', (n) => ((n as unknown as { value: string }).value = ''));
    await page.type('#search', 'account');
    await page.waitForFunction(`document.querySelectorAll('#streams li .id').length === 1`);

    // A stream's events: versions, types, data, metadata and positions.
    await page.click('#streams li[data-stream="account-7"]');
    await page.waitForFunction(`document.querySelectorAll('#events tbody tr').length === 2`);
    const rows = await page.$$eval('#events tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const partition = store.partitionOf('account-7');
    expect(rows[0]!.slice(0, 2)).toEqual(['0', 'Opened']);
    expect(JSON.parse(rows[0]![2]!)).toEqual({ owner: 'ada' });
    expect(JSON.parse(rows[0]![3]!)).toEqual({ requestedBy: 'support' });
    expect(rows[0]![4]).toMatch(new RegExp(`^${partition}/\\d+$`));
    expect(rows[1]!.slice(0, 2)).toEqual(['1', 'Deposited']);
    expect(JSON.parse(rows[1]![2]!)).toEqual({ amount: 40 });

    // Partitions and their owner (this test's process), and the subscription's lag.
    const owners = await page.$$eval('#partitions tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(owners.map((o) => o[0])).toEqual(['0', '1']);
    for (const [, owner] of owners) expect(owner).toMatch(/@127\.0\.0\.1$/);
    const subscriptions = await page.$$eval('#subscriptions tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]!.slice(0, 2)).toEqual(['invoices', 'empty']);
    expect(Number(subscriptions[0]![2])).toBeGreaterThanOrEqual(1);

    // The live tail: an event appended now appears, and the open stream shows it.
    await page.waitForSelector('body[data-tail="open"]');
    await store.append('account-7', [{ type: 'Withdrawn', data: { amount: 15 } }], { expectedVersion: 1 });
    await page.waitForFunction(`[...document.querySelectorAll('#tail li')].some((li) => li.textContent === 'account-7@2 Withdrawn {"amount":15}')`, { timeout: 30_000 });
    await page.waitForFunction(`document.querySelectorAll('#events tbody tr').length === 3`, { timeout: 30_000 });
    // The list follows: account-7 is at version 2 now.
    await page.waitForFunction(`document.querySelector('#streams li[data-stream="account-7"] .meta').textContent.startsWith('v2 ')`, { timeout: 30_000 });

    // Every stream again, the selected one still marked: the picture for the README.
    await page.evaluate(`(() => { const search = document.getElementById('search'); search.value = ''; search.dispatchEvent(new Event('input')); })()`);
    await page.waitForFunction(`document.querySelectorAll('#streams li .id').length === 4`);
    expect(await page.$eval('#streams li.selected .id', (n) => n.textContent)).toBe('account-7');
    // The README's picture is renewed on request only, so a test run leaves the tree clean.
    const picture = process.env.UPDATE_SCREENSHOT ? 'docs/images/stream-browser.png' : join(tmpdir(), `stream-browser-${name}.png`);
    mkdirSync(dirname(picture), { recursive: true });
    await page.setViewport({ width: 1400, height: 520 });
    await page.screenshot({ path: picture as `${string}.png` });
    expect(statSync(picture).size).toBeGreaterThan(10_000);

    // Read-only: the page has no append form, and the server refuses an append asked for anyway.
    expect(await page.$eval('#append-form', (n) => (n as unknown as { hidden: boolean }).hidden)).toBe(true);
    const refused = await page.evaluate(async () => {
      const response = await fetch('/api/append', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream: 'account-7', type: 'Hacked', data: {} }) });
      return { status: response.status, body: (await response.json()) as { error: { code: string } } };
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('READ_ONLY');
    const events: string[] = [];
    for await (const event of store.readStream('account-7')) events.push(event.type);
    expect(events).toEqual(['Opened', 'Deposited', 'Withdrawn']);
    await page.close();
    await stopUi(ui);
  }, 180_000);

  it('appends from the page when started with --allow-append', async () => {
    const opened = await openUi(name, '--allow-append');
    ui = opened.cli;
    const page = await browser.newPage();
    await page.goto(opened.url);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.$eval('#mode', (n) => n.textContent)).toBe('appends allowed');
    await page.click('#streams li[data-stream="order-2"]');
    await page.waitForFunction(`document.querySelectorAll('#events tbody tr').length === 1`);
    await page.type('#append-type', 'Shipped');
    await page.$eval('#append-data', (n) => ((n as unknown as { value: string }).value = '{"carrier":"post"}'));
    await page.type('#append-expected', '0');
    await page.click('#append-form button[type="submit"]');
    await page.waitForFunction(`document.getElementById('message').textContent === 'appended at version 1'`, { timeout: 30_000 });
    await page.waitForFunction(`document.querySelectorAll('#events tbody tr').length === 2`, { timeout: 30_000 });

    // A stale expected version is refused with the store's code.
    await page.click('#append-form button[type="submit"]');
    await page.waitForFunction(`(document.getElementById('message').textContent ?? '').startsWith('WRONG_EXPECTED_VERSION: ')`, { timeout: 30_000 });
    const events: [number, string, unknown][] = [];
    for await (const event of store.readStream('order-2')) events.push([event.version, event.type, event.data]);
    expect(events).toEqual([
      [0, 'Placed', { sku: 'sku-2' }],
      [1, 'Shipped', { carrier: 'post' }],
    ]);
    await page.close();
  }, 180_000);
});
