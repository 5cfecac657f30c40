import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClearingEngine } from '@clearsim/clearing';
import { rulesFor } from '@clearsim/clearing/testing';
import { decodeEvent, type ClearingEvent, type InputEvent } from '@clearsim/events';
import { InMemoryEventStore, type EventStore } from '@clearsim/store';
import { downsample, esc, niceTicks, writeReport } from './html-report';

const T0 = Date.parse('2026-03-12T00:00:00Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

/**
 * A real run: alice is long 1 BTC on 1000 of margin and BTC gaps 10000 → 8500
 * (bankrupt: the 50 insurance fund pays part, bob's profitable short is
 * deleveraged for the rest); carol's ETH long slides into a plain liquidation.
 */
async function crashStore(): Promise<InMemoryEventStore> {
  const store = new InMemoryEventStore();
  const engine = ClearingEngine.create();
  let trades = 0;
  const feed = async (minutes: number, raw: Record<string, unknown>): Promise<void> => {
    const input = decodeEvent({ ts: at(minutes), ...raw }, 'input') as InputEvent;
    const { decisions } = engine.handle(input);
    await store.append([input, ...decisions], await store.head());
  };
  const deposit = (minutes: number, account: string, amount: string) => feed(minutes, { type: 'Deposited', account, asset: 'USD', amount });
  const price = (minutes: number, instrument: string, value: string) => feed(minutes, { type: 'PriceUpdated', instrument, price: value });
  const trade = (minutes: number, instrument: string, buyer: string, seller: string, qty: string, value: string) =>
    feed(minutes, { type: 'TradeExecuted', tradeId: `t${++trades}`, instrument, buyer, seller, qty, price: value });

  await feed(0, { type: 'RulesActivated', rules: rulesFor({ name: 'crash-test', marginCall: { graceSeconds: 0, cureAt: 'initial' }, bankruptcy: 'adl' }) });
  await feed(0, { type: 'InstrumentListed', instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC' });
  await feed(0, { type: 'InstrumentListed', instrument: 'ETH-PERP', kind: 'perpetual', underlying: 'ETH' });
  await deposit(0, 'insurance', '50');
  await deposit(0, 'alice', '1000');
  await deposit(0, 'bob', '5000');
  await deposit(0, 'carol', '300');
  await deposit(0, 'dave', '10000');
  await price(1, 'BTC-PERP', '10000');
  await price(1, 'ETH-PERP', '200');
  await trade(2, 'BTC-PERP', 'alice', 'bob', '1', '10000');
  await trade(2, 'ETH-PERP', 'carol', 'dave', '10', '200');
  const eth = ['198', '195', '190', '184', '180', '175', '172', '178'];
  for (let i = 0; i < eth.length; i++) {
    await price(3 + i * 5, 'BTC-PERP', i === 3 ? '8500' : String(10_000 - i * 20 - (i > 3 ? 1500 : 0)));
    await price(3 + i * 5, 'ETH-PERP', eth[i]!);
  }
  await feed(60, { type: 'ClockAdvanced' });
  expect(engine.invariantViolations()).toEqual([]);
  return store;
}

describe('writeReport', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'clearsim-report-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function render(store: EventStore, title: string): Promise<string> {
    const file = join(dir, 'report.html');
    await writeReport(file, store, { title });
    return readFileSync(file, 'utf8');
  }

  it('renders a crash as one self-contained HTML page: three charts, counts, hash, tables', async () => {
    const store = await crashStore();
    const events: ClearingEvent[] = [];
    for await (const { event } of store.read()) events.push(event);
    const types = events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['LiquidationStarted', 'AccountBankrupted', 'InsuranceFundDrawn', 'PositionAutoDeleveraged']));
    const replay = ClearingEngine.create();
    for (const event of events) replay.apply(event);
    const summary = replay.summary();

    const html = await render(store, 'Crash <b>& burn</b>');

    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<html/g)).toHaveLength(1);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/); // offline, no JS
    expect(html).toContain(`<h1>${esc('Crash <b>& burn</b>')}</h1>`);
    expect(html).not.toContain('<b>& burn');
    expect(html).toContain('crash-test');
    expect(summary.liquidations).toBe(2);
    expect(html).toContain(`<dt>liquidations</dt><dd>${summary.liquidations}</dd>`);
    expect(html).toContain(`<dt>bankruptcies</dt><dd>1</dd>`);
    expect(html).toContain(summary.outputHash);
    expect(html).not.toMatch(/NaN|undefined|Infinity/);

    const bankruptcies = html.slice(html.indexOf('<h2>Largest bankruptcies'), html.indexOf('<h2>Worst final equity'));
    expect(bankruptcies).toContain('<td>alice</td>');
    expect(bankruptcies).not.toContain('carol'); // liquidated, not bankrupt
    const worst = html.slice(html.indexOf('<h2>Worst final equity'));
    expect(worst).toMatch(/<td>alice<\/td><td><span class="badge bankrupt">bankrupt<\/span>/);
    expect(worst).not.toContain('<td>insurance</td>'); // system accounts are not ranked
    // both instruments in the price legend, the draw marked on the fund chart
    expect(html).toContain('BTC-PERP: 10,000 → ');
    expect(html).toContain('ETH-PERP: 200 → 178');
    expect(html).toMatch(/drawn for alice/);
  });

  it('shows each lending account’s health factor in the accounts table', async () => {
    const store = new InMemoryEventStore();
    const engine = ClearingEngine.create();
    const feed = async (raw: Record<string, unknown>): Promise<void> => {
      const input = decodeEvent({ ts: at(0), ...raw }, 'input') as InputEvent;
      await store.append([input, ...engine.handle(input).decisions], await store.head());
    };
    await feed({ type: 'RulesActivated', rules: rulesFor({ name: 'lend', model: 'lending', marginCall: { graceSeconds: 0 }, instruments: {}, lending: { assets: { ETH: { ltv: '0.8', liquidationThreshold: '0.825' } } } }) });
    await feed({ type: 'InstrumentListed', instrument: 'ETH', kind: 'index' });
    await feed({ type: 'PriceUpdated', instrument: 'ETH', price: '2000' });
    await feed({ type: 'Deposited', account: 'backstop', asset: 'USD', amount: '100000' });
    await feed({ type: 'Deposited', account: 'alice', asset: 'ETH', amount: '10' });
    await feed({ type: 'Deposited', account: 'bob', asset: 'ETH', amount: '1' });
    await feed({ type: 'WithdrawalRequested', requestId: 'b', account: 'alice', asset: 'USD', amount: '15000' });
    const worst = (await render(store, 'lending')).split('<h2>Worst final equity')[1]!;
    expect(worst).toContain('<th class="n">health factor</th>');
    // alice: 20,000 × 0.825 / 15,000 = 1.1; bob has no debt: ∞
    expect(worst).toMatch(/<td>alice<\/td>.*?<td class="n">1\.1<\/td>/);
    expect(worst).toMatch(/<td>bob<\/td>.*?<td class="n">∞<\/td>/);
  });

  it("draws a market move's marks on each instrument's line", async () => {
    const store = new InMemoryEventStore();
    const inputs = [
      { type: 'RulesActivated', ts: at(0), rules: rulesFor() },
      { type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual' },
      { type: 'InstrumentListed', ts: at(0), instrument: 'ETH-PERP', kind: 'perpetual' },
      { type: 'MarketMoved', ts: at(1), marks: [{ instrument: 'BTC-PERP', price: '10000' }, { instrument: 'ETH-PERP', price: '200' }] },
      { type: 'MarketMoved', ts: at(2), marks: [{ instrument: 'BTC-PERP', price: '9000' }, { instrument: 'ETH-PERP', price: '150' }] },
    ].map((raw) => decodeEvent(raw, 'input') as InputEvent);
    await store.append(inputs, 0);
    const html = await render(store, 'moves');
    expect(html).toContain('BTC-PERP: 10,000 → 9,000');
    expect(html).toContain('ETH-PERP: 200 → 150');
    expect(html).not.toContain('no PriceUpdated or MarketMoved in the log');
  });

  it('renders an empty log without inventing numbers', async () => {
    const html = await render(new InMemoryEventStore(), 'empty');
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(html).toContain('No account went bankrupt.');
    expect(html).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('keeps a long series small but every wick in it', async () => {
    const store = new InMemoryEventStore();
    const engine = ClearingEngine.create();
    const inputs: InputEvent[] = [
      decodeEvent({ type: 'RulesActivated', ts: at(0), rules: rulesFor() }, 'input') as InputEvent,
      decodeEvent({ type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual' }, 'input') as InputEvent,
    ];
    for (let i = 0; i < 20_000; i++) {
      const price = i === 12_345 ? '1234' : i === 4_321 ? '99999' : String(10_000 + (i % 7));
      inputs.push(decodeEvent({ type: 'PriceUpdated', ts: new Date(T0 + i * 1000).toISOString(), instrument: 'BTC-PERP', price }, 'input') as InputEvent);
    }
    for (const input of inputs) engine.handle(input);
    await store.append(inputs, 0);
    const html = await render(store, 'long');
    const path = /<path d="(M[^"]+)" fill="none"/.exec(html)![1]!;
    expect(path.split(/[ML]/).length - 1).toBeLessThanOrEqual(1500);
    expect(html).toContain('low 1,234, high 99,999');
    expect(html.length).toBeLessThan(200_000);
  });
});

describe('chart helpers', () => {
  it('niceTicks covers the range with round steps', () => {
    expect(niceTicks(0, 7)).toEqual({ min: 0, max: 8, step: 2, ticks: [0, 2, 4, 6, 8] });
    expect(niceTicks(43.7, 101.2)).toMatchObject({ min: 40, max: 110, step: 10 });
    expect(niceTicks(0.1, 0.37).ticks).toEqual([0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]);
    expect(niceTicks(5, 5).ticks.every(Number.isFinite)).toBe(true);
    expect(niceTicks(0, 0).ticks).toContain(0);
  });

  it('downsample keeps the min and max of every bucket, in time order', () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => i);
    const ys = xs.map((i) => (i === 5000 ? -50 : i === 5001 ? 500 : Math.sin(i)));
    const out = downsample(xs, ys, [0, 9999], 1000);
    expect(out.xs.length).toBeLessThanOrEqual(1000);
    expect(out.ys).toContain(-50);
    expect(out.ys).toContain(500);
    expect([...out.xs].sort((a, b) => a - b)).toEqual(out.xs);
    expect(downsample([1, 2], [3, 4], [1, 2])).toEqual({ xs: [1, 2], ys: [3, 4] });
  });

  it('esc escapes markup and quotes', () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });
});
