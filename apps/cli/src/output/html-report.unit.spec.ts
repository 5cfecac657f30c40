import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClearingEngine } from '@clearsim/clearing';
import { rulesFor } from '@clearsim/clearing/testing';
import { decodeEvent, type ClearingEvent, type InputEvent } from '@clearsim/events';
import { InMemoryEventStore, type EventStore } from '@clearsim/store';
import { collectRun, esc, writeReport } from './html-report';
import { backtestModelData, BACKTEST_AXIS } from './backtest-report';
import { deltas, dropRepeats, undeltas, type RunReportData } from './report-data';
import { embedData, readEmbedded, scriptJson } from './report-page';

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


/** The JSON the page embeds (the browser tests check the drawing; these the data). */
function embedded(html: string): { kind: string; title: string; data: { runs: RunReportData[]; labels: string[] } } {
  const json = /<script id="report-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1]!;
  return readEmbedded(json) as ReturnType<typeof embedded>;
}

function events(store: EventStore): () => AsyncIterable<ClearingEvent> {
  return async function* () {
    for await (const { event } of store.read(1)) yield event;
  };
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

  it('writes one self-contained page: uPlot and the data inline, nothing fetched, the title escaped', async () => {
    const html = await render(await crashStore(), 'Crash <b>& burn</b></script>');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<html/g)).toHaveLength(1);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    // offline: no src/href to load, and the one URL is the licence comment inside uPlot
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(html.match(/https?:\/\/[^\s"')]+/g)).toEqual(['https://github.com/leeoniya/uPlot']);
    expect(html).toContain('uPlot');
    expect(html).toContain(`<title>${esc('Crash <b>& burn</b></script>')} — clearsim report</title>`);
    // the title is in the JSON too, where </script> must not end the element
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(embedded(html).title).toBe('Crash <b>& burn</b></script>');
  });

  it('collects what happened in the crash: prices with liquidation and ADL markers, decisions, fund, bankruptcies, ADL counterparties', async () => {
    const store = await crashStore();
    const { data } = embedded(await render(store, 'crash'));
    const run = data.runs[0]!;
    expect(data.labels).toEqual(['crash-test']);
    expect(run.summary.liquidations).toBe(2);
    expect(run.summary.bankruptcies).toBe(1);
    const btc = run.instruments.find((i) => i.id === 'BTC-PERP')!;
    // the gap to 8500, then the slide to 10000 − 7 × 20 − 1500 = 8360
    expect([btc.first, btc.low, btc.last]).toEqual(['10000', '8360', '8360']);
    // alice's long was closed by ADL (no market fill below zero equity); carol's ETH by a liquidation fill
    expect([btc.liquidations.total, btc.adl.total]).toEqual([0, 1]);
    expect(undeltas(btc.t)[0]).toBe(T0 + 60_000);
    const eth = run.instruments.find((i) => i.id === 'ETH-PERP')!;
    expect([eth.first, eth.last, eth.low]).toEqual(['200', '178', '172']);
    expect(eth.liquidations.total).toBeGreaterThan(0);
    expect(eth.adl.total).toBe(0);
    // the BTC gap is at minute 18 (3 + 3 × 5): alice's liquidation, bankruptcy and bob's ADL all then
    const gap = T0 + 18 * 60_000;
    expect(undeltas(run.decisionTimes.AccountBankrupted!)).toEqual([gap]);
    expect(undeltas(run.decisionTimes.PositionAutoDeleveraged!)).toEqual([gap]);
    expect(run.bankruptcies).toHaveLength(1);
    expect(run.bankruptcies[0]).toMatchObject({ account: 'alice', ts: gap, drawn: '50', adlFills: 1 });
    // bob's profitable short was closed against alice
    expect(run.adlCounterparties).toEqual([{ account: 'bob', fills: 1, qty: { 'BTC-PERP': '1' }, against: ['alice'], first: gap, last: gap }]);
    // the fund after every change: 0 when the rules name it, 50 deposited, drawn to 0 for alice, then what carol's
    // later liquidation left it
    expect(run.fund.balance).toEqual([0, 50, 0, 17.5]);
    expect(run.fund.draws.account).toEqual(['alice']);
    expect(run.system.map((s) => [s.role, s.id])).toEqual([
      ['insurance', 'insurance'],
      ['backstop', 'backstop'],
      ['fees', 'fees'],
    ]);
    expect(run.rulesText[0]!.text).toContain('name: crash-test');
    // accounts: bankrupt first, system accounts left out
    expect(run.accounts.map((a) => [a.id, a.status])).toEqual([
      ['alice', 'bankrupt'],
      ['carol', 'liquidated'],
      ['bob', 'healthy'],
      ['dave', 'healthy'],
    ]);
    expect(Number(run.accounts[0]!.deficit)).toBeGreaterThan(0);
    expect(JSON.stringify(run)).not.toMatch(/NaN|Infinity|null,null/);
  });

  it("follows an account's equity through its maintenance margin to the liquidation, and lists every decision about it", async () => {
    const store = await crashStore();
    const run = await collectRun(events(store), {});
    const alice = run.timelines.alice!;
    const t = undeltas(alice.t);
    const gap = T0 + 18 * 60_000;
    // before the gap alice is healthy: 1000 − 20 × 2 of loss (BTC 10000 → 9960) is far above her MM
    const before = t.findIndex((ts) => ts === gap);
    expect(before).toBeGreaterThan(0);
    expect(alice.equity[before - 1]!).toBeGreaterThan(alice.mm[before - 1]!);
    // at the gap, sampled just before the liquidation: 1 BTC lost 1440 (9940 → 8500) on 1000 − 60 of equity → below MM
    expect(alice.equity[before]!).toBeLessThan(alice.mm[before]!);
    expect(alice.equity[before]!).toBeLessThan(0);
    // after the close-out: no position, no margin
    expect(alice.mm[alice.mm.length - 1]).toBe(0);
    const d = run.decisions;
    const about = d.type.map((_, i) => i).filter((i) => d.names[d.account[i]!] === 'alice' || d.names[d.counterparty[i]!] === 'alice');
    const types = about.map((i) => d.types[d.type[i]!]);
    // below zero equity: no market close-out, the deficit goes to the fund, then ADL
    expect(types).toEqual(['LiquidationStarted', 'AccountBankrupted', 'InsuranceFundDrawn', 'PositionAutoDeleveraged']);
    const adl = about.find((i) => d.types[d.type[i]!] === 'PositionAutoDeleveraged')!;
    expect(d.names[d.account[adl]!]).toBe('bob');
    expect(d.text[adl]).toContain('against bankrupt alice');
    // the accounts with a timeline when none are given: those with decisions, and the largest
    expect(Object.keys(run.timelines).sort()).toEqual(expect.arrayContaining(['alice', 'carol']));
  });

  it('sums equity and margin over every non-system account, and values open interest as the long quantity at the mark', async () => {
    const run = await collectRun(events(await crashStore()), {});
    const samples = undeltas(run.aggregate.t).map((ts, i) => [ts, run.aggregate.equity[i]!, run.aggregate.mm[i]!] as const);
    const oiAt = (minute: number, instrument: string): number | undefined => {
      const i = undeltas(run.openInterest.t).indexOf(T0 + minute * 60_000);
      return run.openInterest.notional[run.openInterest.instruments.indexOf(instrument)]![i];
    };
    // minute 2 is sampled at its first event, the BTC trade: alice's 1 BTC long at 10000 (bob is the short); no ETH yet
    expect(oiAt(2, 'BTC-PERP')).toBe(10_000);
    expect(oiAt(2, 'ETH-PERP')).toBe(0);
    // minute 3, sampled at its BTC price (10000, i = 0): carol's 10 ETH long (dave is the short) still at 200 is 2000
    expect(oiAt(3, 'BTC-PERP')).toBe(10_000);
    expect(oiAt(3, 'ETH-PERP')).toBe(2_000);
    // minute 8, at its BTC price 10000 − 1 × 20 = 9980: ETH is still minute 3's 198, 10 × 198 = 1980
    expect(oiAt(8, 'BTC-PERP')).toBe(9_980);
    expect(oiAt(8, 'ETH-PERP')).toBe(1_980);
    // the last instant (the run's last event) is the final state: the accounts table's equity and MM, summed
    // (within the chart's rounding to 7 significant digits: 0.01 on a sum of about 16,000)
    const [lastTs, lastEquity, lastMm] = samples[samples.length - 1]!;
    expect(lastTs).toBe(T0 + 60 * 60_000);
    expect(lastEquity).toBeCloseTo(run.accounts.reduce((sum, a) => sum + Number(a.equity), 0), 1);
    expect(lastMm).toBeCloseTo(run.accounts.reduce((sum, a) => sum + Number(a.mm), 0), 1);
    expect(run.accounts.map((a) => a.id)).not.toContain('insurance');
  });

  it('keeps only the accounts it is told to follow', async () => {
    const run = await collectRun(events(await crashStore()), { tracked: ['carol'], lastTs: T0 + 60 * 60_000 });
    expect(Object.keys(run.timelines)).toEqual(['carol']);
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
    const run = embedded(await render(store, 'lending')).data.runs[0]!;
    expect(run.lending).toBe(true);
    // alice: 20,000 × 0.825 / 15,000 = 1.1; bob has no debt: ∞ (null)
    expect(run.accounts.find((a) => a.id === 'alice')!.healthFactor).toBe('1.1');
    expect(run.accounts.find((a) => a.id === 'bob')!.healthFactor).toBeNull();
  });

  it("puts a market move's marks on each instrument's line", async () => {
    const store = new InMemoryEventStore();
    const inputs = [
      { type: 'RulesActivated', ts: at(0), rules: rulesFor() },
      { type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual' },
      { type: 'InstrumentListed', ts: at(0), instrument: 'ETH-PERP', kind: 'perpetual' },
      { type: 'MarketMoved', ts: at(1), marks: [{ instrument: 'BTC-PERP', price: '10000' }, { instrument: 'ETH-PERP', price: '200' }] },
      { type: 'MarketMoved', ts: at(2), marks: [{ instrument: 'BTC-PERP', price: '9000' }, { instrument: 'ETH-PERP', price: '150' }] },
    ].map((raw) => decodeEvent(raw, 'input') as InputEvent);
    await store.append(inputs, 0);
    const run = embedded(await render(store, 'moves')).data.runs[0]!;
    expect(run.instruments.map((i) => [i.id, i.price])).toEqual([
      ['BTC-PERP', [10000, 9000]],
      ['ETH-PERP', [200, 150]],
    ]);
  });

  it('renders an empty log without inventing numbers', async () => {
    const html = await render(new InMemoryEventStore(), 'empty');
    const run = embedded(html).data.runs[0]!;
    expect(run.span).toBeNull();
    expect(run.accounts).toEqual([]);
    expect(JSON.stringify(run)).not.toMatch(/NaN|Infinity/);
  });

  it('keeps a long series small but every wick in it (LTTB)', async () => {
    const store = new InMemoryEventStore();
    const inputs: InputEvent[] = [
      decodeEvent({ type: 'RulesActivated', ts: at(0), rules: rulesFor() }, 'input') as InputEvent,
      decodeEvent({ type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual' }, 'input') as InputEvent,
    ];
    for (let i = 0; i < 20_000; i++) {
      const price = i === 12_345 ? '1234' : i === 4_321 ? '99999' : String(10_000 + (i % 7));
      inputs.push(decodeEvent({ type: 'PriceUpdated', ts: new Date(T0 + i * 1000).toISOString(), instrument: 'BTC-PERP', price }, 'input') as InputEvent);
    }
    await store.append(inputs, 0);
    const html = await render(store, 'long');
    const btc = embedded(html).data.runs[0]!.instruments[0]!;
    expect(btc.points).toBe(20_000);
    expect(btc.price.length).toBe(2000);
    expect(btc.price).toContain(1234);
    expect(btc.price).toContain(99999);
    expect([btc.low, btc.high]).toEqual(['1234', '99999']);
    expect(html.length).toBeLessThan(200_000);
    // 20,000 inputs replayed twice (choosing the accounts to follow, then collecting): slow on a loaded machine
  }, 60_000);
});

describe('report data helpers', () => {
  it('deltas and undeltas are inverses', () => {
    expect(deltas([1000, 1500, 1500, 4000])).toEqual([1000, 500, 0, 2500]);
    expect(undeltas([1000, 500, 0, 2500])).toEqual([1000, 1500, 1500, 4000]);
  });

  it('dropRepeats keeps the two ends of a flat stretch and every change', () => {
    const line = { t: [0, 1, 2, 3, 4, 5], equity: [5, 5, 5, 5, 4, 4], mm: [1, 1, 1, 1, 1, 1], im: [2, 2, 2, 2, 2, 2] };
    expect(dropRepeats(line)).toEqual({ t: [0, 3, 4, 5], equity: [5, 5, 4, 4], mm: [1, 1, 1, 1], im: [2, 2, 2, 2] });
  });

  it('embedData gzips a large payload and readEmbedded reads both forms back', () => {
    const small = { a: [1, 2, 3] };
    expect(embedData(small)).toBe('{"a":[1,2,3]}');
    const large = { xs: Array.from({ length: 100_000 }, (_, i) => i % 97) };
    const text = embedData(large);
    expect(JSON.parse(text)).toEqual({ gzip: expect.any(String) });
    expect(text.length).toBeLessThan(JSON.stringify(large).length / 4);
    expect(readEmbedded(text)).toEqual(large);
    expect(readEmbedded(embedData(small))).toEqual(small);
  });

  it('scriptJson cannot close its <script> element', () => {
    const text = scriptJson({ id: '</script><script>alert(1)</script>', sep: '\u2028' });
    expect(text).not.toContain('</script');
    expect(text).not.toContain('\u2028');
    expect(JSON.parse(text)).toEqual({ id: '</script><script>alert(1)</script>', sep: '\u2028' });
  });
});

describe('backtestModelData', () => {
  it('puts every (account, period) on a time axis, draws every exceedance, and counts the points beyond the axis', () => {
    const hour = 3_600_000;
    const origin = Date.parse('2026-01-01T00:00:00Z');
    const rows = [
      { account: 'a', period: 0, margin: 100, realizedLoss: 50 }, // 0.5×
      { account: 'a', period: 1, margin: 100, realizedLoss: 150 }, // 1.5×: exceeded
      { account: 'b', period: 1, margin: 10, realizedLoss: 100 }, // 10×: above the axis (6×)
      { account: 'b', period: 2, margin: 10, realizedLoss: -40 }, // −4×: below it (−3×)
      { account: 'c', period: 2, margin: 0, realizedLoss: 5 }, // no margin held: not a point
    ];
    const data = backtestModelData({ rules: 'r', rows, summary: {}, result: { accounts: [], pooled: {} as never } }, { periodSeconds: 3600, confidence: 0.99, margin: 'initial', origin });
    expect(BACKTEST_AXIS).toEqual([-3, 6]);
    expect(data.total).toBe(4);
    expect(data.beyond).toEqual({ above: 1, below: 1 });
    expect(undeltas(data.points.t)).toEqual([origin, origin + hour, origin + hour, origin + 2 * hour]);
    expect(data.points.ratio).toEqual([0.5, 1.5, 10, -4]);
    expect(data.points.exceeded).toEqual([0, 1, 1, 0]);
    expect(data.range).toEqual([origin, origin + 2 * hour]);
  });
});
