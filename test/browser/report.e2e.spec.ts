import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWithChromium, launchBrowser } from './chromium';

/**
 * The reports in a real browser (Debian's chromium driven by playwright-core,
 * test/browser/chromium.ts): the built CLI writes each report type, the page
 * is opened from disk (offline) and used as a newcomer would. Screenshots go to
 * test/artifacts/ (gitignored; CI keeps them as artifacts).
 */
const ROOT = join(__dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test', 'artifacts');
// relative to ROOT (the CLI's cwd), as a newcomer types it: the report's title shows it
const BLACK_THURSDAY = 'examples/incidents/2020-03-12-black-thursday.yaml';
const FIXTURE = join(ROOT, 'test', 'fixtures', 'margin-call.jsonl');
const STRESS = join(ROOT, 'test', 'fixtures', 'stress-small.yaml');

jest.setTimeout(180_000);

function clearsim(...args: string[]): void {
  const result = spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd: ROOT, timeout: 170_000 });
  if (result.status !== 0) throw new Error(`clearsim ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
}

/** Opens a report from disk; collects console errors and page errors; waits until it has drawn. */
async function open(browser: Browser, file: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => {
    if (!request.url().startsWith('file:')) errors.push(`fetched ${request.url()}`);
  });
  await page.goto(`file://${file}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  return { page, errors };
}

const points = (page: Page, selector: string): Promise<number[]> => page.$$eval(selector, (els) => els.map((e) => Number(e.getAttribute('data-points'))));

describeWithChromium('the reports in Chromium', () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'clearsim-browser-'));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Black Thursday: zoom into 10:30–10:50, click the worst account, see its equity fall through MM to the liquidation, see the ADL counterparties', async () => {
    const report = join(dir, 'black-thursday.html');
    clearsim('run', BLACK_THURSDAY, '--store', `file:${dir}/bt`, '--reset', '--no-progress', '--report', report);
    const { page, errors } = await open(browser, report);

    // every chart holds data: one per instrument, the fund, equity against margin, open interest, the system accounts
    const prices = await points(page, '#prices .chart');
    expect(prices).toHaveLength(2); // BTC-PERP and ETH-PERP, each in its own units
    for (const n of prices) expect(n).toBeGreaterThan(100);
    for (const id of ['#fund', '#aggregate', '#system']) for (const n of await points(page, `${id} .chart`)) expect(n).toBeGreaterThan(0);
    expect(await page.textContent('#prices')).toContain('BTC-PERP: 7,934.57 → 5,622.74');
    const buckets = async () => page.$eval('#decisions', (e) => ({ n: Number(e.getAttribute('data-buckets')), ms: Number(e.getAttribute('data-bucket-ms')) }));
    const whole = await buckets();
    expect(whole.ms).toBe(30 * 60_000); // ~2 days in 30-minute buckets
    await page.screenshot({ path: join(ARTIFACTS, 'black-thursday-1-whole-run.png'), fullPage: false });

    // zoom as a newcomer would: type the window, press zoom; the decision buckets follow (15 s for 20 minutes)
    await page.fill('#zoom-from', '10:30');
    await page.fill('#zoom-to', '10:50');
    await page.click('#zoom-apply');
    expect(await page.textContent('#zoom-label')).toBe('2020-03-12 10:30:00Z → 2020-03-12 10:50:00Z (20 min)');
    const zoomed = await buckets();
    expect(zoomed).toEqual({ n: 80, ms: 15_000 });
    // the cascade is inside the window: the zoomed bars hold decisions
    expect((await points(page, '#decisions .chart'))[0]).toBeGreaterThan(100);
    // the README's picture (docs/img/report.png is this file): marks, liquidations, ADL and the decisions in the window
    await page.setViewportSize({ width: 1280, height: 1220 });
    await page.screenshot({ path: join(ARTIFACTS, 'black-thursday-2-zoomed-10h30-10h50.png'), fullPage: false });
    await page.setViewportSize({ width: 1280, height: 900 });

    // the worst account is the first row (bankrupt, largest deficit); click it
    const worst = (await page.getAttribute('#accounts-body tr:first-child', 'data-account'))!;
    expect(await page.textContent('#accounts-body tr:first-child')).toContain('bankrupt');
    await page.click('#accounts-body tr:first-child');
    await page.waitForSelector(`#drill[data-account="${worst}"] #drill-chart`);
    expect((await points(page, '#drill .chart'))[0]).toBeGreaterThan(3);
    // its timeline in the zoomed window: above its maintenance margin, then below it, then liquidated
    const fall = await page.evaluate(() => {
      const report = (globalThis as unknown as { clearsimReport: { charts: { root: { closest(selector: string): unknown }; data: (number | null)[][]; scales: { x: { min: number; max: number } } }[] } }).clearsimReport;
      const chart = report.charts.find((u) => u.root.closest('#drill'))!;
      const [t, equity, mm] = chart.data as number[][];
      const inView = t!.map((ts, i) => ({ ts, equity: equity![i]!, mm: mm![i]! })).filter((p) => p.ts >= chart.scales.x.min && p.ts <= chart.scales.x.max);
      const above = inView.findIndex((p) => p.equity > p.mm && p.mm > 0);
      const below = inView.findIndex((p, i) => i > above && p.equity < p.mm);
      return { above, below, points: inView.length, range: [chart.scales.x.min, chart.scales.x.max] };
    });
    expect(fall.range).toEqual([Date.parse('2020-03-12T10:30:00Z'), Date.parse('2020-03-12T10:50:00Z')]);
    expect(fall.above).toBeGreaterThanOrEqual(0);
    expect(fall.below).toBeGreaterThan(fall.above);
    const decisions = await page.textContent('#drill-decisions');
    expect(decisions).toContain('LiquidationStarted');
    expect(decisions).toContain('AccountBankrupted');
    expect(decisions).toContain('PositionAutoDeleveraged');
    await (await page.$('#drill'))!.screenshot({ path: join(ARTIFACTS, 'black-thursday-3-worst-account-drill-down.png') });

    // the ADL counterparties: the traders whose profitable positions closed the bankrupt accounts
    const adl = await page.$$eval('#adl .adl-table tbody tr', (rows) => rows.map((r) => r.getAttribute('data-account')));
    expect(adl.length).toBeGreaterThan(0);
    await (await page.$('#adl'))!.screenshot({ path: join(ARTIFACTS, 'black-thursday-4-adl-counterparties.png') });
    // a click there drills into that counterparty
    await page.click('#adl .adl-table tbody tr:first-child');
    await page.waitForSelector(`#drill[data-account="${adl[0]}"]`);
    expect(await page.textContent('#drill-decisions')).toContain('against bankrupt');

    // the search box finds an account
    await page.fill('#account-search', worst);
    expect(await page.$$eval('#accounts-body tr', (rows) => rows.map((r) => r.getAttribute('data-account')))).toContain(worst);
    // the rules as YAML
    expect(await page.textContent('#rules pre')).toContain('name: crypto-cross');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('run: dragging across a chart zooms every chart, a double-click zooms out; the indexed view draws all instruments', async () => {
    const report = join(dir, 'black-thursday.html');
    const { page, errors } = await open(browser, report);
    const buckets = () => page.$eval('#decisions', (e) => Number(e.getAttribute('data-bucket-ms')));
    expect(await buckets()).toBe(30 * 60_000);
    const over = (await page.$('#fund .u-over'))!;
    const box = (await over.boundingBox())!;
    await over.scrollIntoViewIfNeeded();
    const b = (await over.boundingBox())!;
    await page.mouse.move(b.x + b.width * 0.2, b.y + b.height / 2);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width * 0.22, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
    expect(box.width).toBeGreaterThan(300);
    // 2 % of ~2 days is about an hour: the buckets shrink to 30 s
    expect(await buckets()).toBeLessThan(5 * 60_000);
    await over.dblclick({ position: { x: b.width / 2, y: b.height / 2 } });
    await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { getAttribute(name: string): string | null } } }).document.getElementById('decisions').getAttribute('data-bucket-ms') === String(30 * 60_000));
    await page.check('#indexed');
    expect((await points(page, '#price-indexed .chart'))[0]).toBeGreaterThan(100);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('diff: both rule sets on the same axes, a decisions chart each, the drill-down showing both', async () => {
    const report = join(dir, 'diff.html');
    clearsim('diff', BLACK_THURSDAY, '--rules', 'crypto-cross', '--rules', 'ccp-grace', '--report', report);
    const { page, errors } = await open(browser, report);
    expect(await page.$$('#decisions .decision-chart')).toHaveLength(2);
    expect(await page.$$('dl.stats')).toHaveLength(2);
    const legend = await page.textContent('#fund');
    expect(legend).toContain('(crypto-cross)');
    expect(legend).toContain('(ccp-grace)');
    for (const n of await points(page, '#fund .chart')) expect(n).toBeGreaterThan(0);
    await page.click('#accounts-body tr:first-child');
    await page.waitForSelector('#drill #drill-chart');
    expect(await page.textContent('#drill')).toContain('crypto-cross');
    expect(await page.textContent('#drill')).toContain('ccp-grace');
    // nothing wider than the window (the rules' long YAML lines scroll inside their box)
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    await page.screenshot({ path: join(ARTIFACTS, 'diff.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('backtest: a time axis, the points beyond it counted, the per-account table', async () => {
    const report = join(dir, 'backtest.html');
    clearsim('backtest', FIXTURE, '--rules', 'ccp-grace', '--rules', 'crypto-cross', '--period', '60', '--report', report);
    const { page, errors } = await open(browser, report);
    expect(await page.$$('section.model')).toHaveLength(2);
    for (const n of await points(page, 'section.model .chart')) expect(n).toBeGreaterThan(0);
    const notes = await page.$$eval('section.model .beyond', (els) => els.map((e) => e.textContent));
    for (const note of notes) expect(note).toMatch(/\d+ points above and \d+ below it are drawn on its edge/);
    // a time axis (uPlot draws it on the canvas): the x scale is time, over the fixture's minutes (periods of 60 s)
    const x = await page.evaluate(() => (globalThis as unknown as { clearsimReport: { charts: { scales: { x: { time: boolean; min: number; max: number } } }[] } }).clearsimReport.charts.map((u) => u.scales.x));
    expect(x).toHaveLength(2);
    for (const scale of x) {
      expect(scale.time).toBe(true);
      expect(new Date(scale.min).toISOString()).toMatch(/^20\d\d-/);
      expect(scale.max - scale.min).toBeGreaterThanOrEqual(60_000);
    }
    expect(await page.$$eval('section.model .bt-accounts tbody tr', (rows) => rows.length)).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'backtest.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('stress: the distribution of each figure over the paths, per rule set, with its percentiles', async () => {
    const report = join(dir, 'stress.html');
    clearsim('stress', STRESS, '--paths', '20', '--workers', '1', '--rules', 'crypto-cross', '--rules', 'ccp-grace', '--no-progress', '--report', report);
    const { page, errors } = await open(browser, report);
    const metrics = await page.$$eval('section.metric', (els) => els.map((e) => e.getAttribute('data-metric')));
    expect(metrics).toEqual(['bankruptcies', 'insuranceFundLow', 'autoDeleverages', 'socializedLoss', 'marginHeld']);
    // every histogram holds a value per path and rule set: 20 × 2
    expect(await points(page, 'section.metric .chart')).toEqual([40, 40, 40, 40, 40]);
    const rows = await page.$$eval('section.metric[data-metric="bankruptcies"] .percentiles tbody tr', (trs) => trs.map((tr) => tr.textContent));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('crypto-cross');
    await page.screenshot({ path: join(ARTIFACTS, 'stress.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
