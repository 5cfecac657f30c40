import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { decodeLine, type ClearingEvent } from '@clearsim/events';
import { parseRules, parseRulesYaml } from '@clearsim/rules';
import { generateInputs } from './generate';
import { parseScenario, rulesReference } from './scenario';

const ROOT = join(__dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** What the CLI does: a preset name → libs/rules/presets/<name>.yaml, raw (as written). */
function resolveRules(ref: ReturnType<typeof rulesReference>): Record<string, unknown> {
  if (ref.kind !== 'preset') throw new Error(`the examples use presets, got ${ref.kind}`);
  return parseYaml(read(`libs/rules/presets/${ref.name}.yaml`)) as Record<string, unknown>;
}

function decodeAll(lines: string[], source: string): ClearingEvent[] {
  return lines.map((line, i) => decodeLine(line, 'input', source, i + 1));
}

function expectMonotonic(events: ClearingEvent[]): void {
  for (let i = 1; i < events.length; i++) expect(events[i]!.ts).toBeGreaterThanOrEqual(events[i - 1]!.ts);
}

describe('examples/incidents/2020-03-12-black-thursday.yaml', () => {
  const scenario = parseScenario(parseYaml(read('examples/incidents/2020-03-12-black-thursday.yaml')), 'examples/incidents/2020-03-12-black-thursday.yaml');
  const ref = rulesReference(scenario);
  const generated = generateInputs(scenario, resolveRules(ref));
  const lines = generated.map((event) => JSON.stringify(event));
  const events = decodeAll(lines, 'black-thursday-2020 (generated)');

  it('uses the crypto-cross preset, recorded in its RulesActivated', () => {
    expect(ref).toEqual({ kind: 'preset', name: 'crypto-cross' });
    const first = events[0]!;
    expect(first.type).toBe('RulesActivated');
    if (first.type === 'RulesActivated') expect(parseRules(first.rules)).toEqual(parseRulesYaml(read('libs/rules/presets/crypto-cross.yaml'), 'crypto-cross.yaml'));
  });

  it('generates only valid input events, in ts order', () => {
    // a MarketMoved a minute for 47 hours (the two paths share every instant), 590 traders' deposits and opening trades
    expect(events.length).toBeGreaterThan(4000);
    expect(events.filter((e) => e.type === 'PriceUpdated')).toHaveLength(0);
    expectMonotonic(events);
    expect(events[events.length - 1]).toMatchObject({ type: 'ClockAdvanced', ts: Date.UTC(2020, 2, 13, 23) });
  });

  it('prints the cited waypoints exactly', () => {
    // the two paths share every instant: each mark is an element of a MarketMoved
    const marksOf = (instrument: string) =>
      new Map(generated.filter((e) => e.type === 'MarketMoved').flatMap((e) => (e.marks as { instrument: string; price: string }[]).filter((m) => m.instrument === instrument).map((m) => [e.ts, m.price])));
    const btc = marksOf('BTC-PERP');
    expect(btc.get('2020-03-12T00:00:00Z')).toBe('7934.57');
    expect(btc.get('2020-03-13T02:01:00Z')).toBe('3850');
    expect(btc.get('2020-03-13T02:16:00Z')).toBe('3621.81');
    expect(btc.get('2020-03-13T02:39:00Z')).toBe('5211');
    expect(btc.get('2020-03-13T04:57:00Z')).toBe('4520.62');
    const eth = marksOf('ETH-PERP');
    expect(eth.get('2020-03-12T00:00:00Z')).toBe('194.61');
    expect(eth.get('2020-03-13T02:16:00Z')).toBe('86');
    expect(eth.get('2020-03-13T23:00:00Z')).toBe('134.06');
  });

  it('opens one position per generated trader against the market maker', () => {
    const trades = events.filter((e) => e.type === 'TradeExecuted');
    expect(trades).toHaveLength(250 + 100 + 150 + 60 + 30);
    expect(trades.every((t) => t.type === 'TradeExecuted' && (t.buyer === 'mm') !== (t.seller === 'mm'))).toBe(true);
    const deposits = events.filter((e) => e.type === 'Deposited');
    expect(deposits.find((d) => d.type === 'Deposited' && d.account === 'insurance')).toMatchObject({ amount: 2_500_000_000_000n }); // 25,000
  });
});

describe('examples/ccp-margin-call.jsonl', () => {
  const lines = read('examples/ccp-margin-call.jsonl').split('\n').filter((line) => line.trim() !== '');
  const events = decodeAll(lines, 'examples/ccp-margin-call.jsonl');

  it('is a short, valid, ordered input log', () => {
    expect(lines.length).toBeGreaterThanOrEqual(20);
    expect(lines.length).toBeLessThanOrEqual(40);
    expectMonotonic(events);
  });

  it('carries the ccp-grace preset inline in its RulesActivated', () => {
    const first = events[0]!;
    expect(first.type).toBe('RulesActivated');
    if (first.type === 'RulesActivated') expect(parseRules(first.rules)).toEqual(parseRulesYaml(read('libs/rules/presets/ccp-grace.yaml'), 'ccp-grace.yaml'));
  });

  it('has the steps the README walks through', () => {
    expect(events.map((e) => e.type)).toEqual([
      'RulesActivated',
      'InstrumentListed',
      'PriceUpdated',
      'Deposited',
      'Deposited',
      'Deposited',
      'Deposited',
      'TradeExecuted',
      'WithdrawalRequested',
      'PriceUpdated',
      'PriceUpdated',
      'WithdrawalRequested',
      'Deposited',
      'Deposited',
      'PriceUpdated',
      'ClockAdvanced',
      'PriceUpdated',
      'PriceUpdated',
      'PriceUpdated',
      'ClockAdvanced',
      'WithdrawalRequested',
      'ClockAdvanced',
    ]);
  });
});

describe('examples/options-book.jsonl', () => {
  const lines = read('examples/options-book.jsonl').split('\n').filter((line) => line.trim() !== '');
  const events = decodeAll(lines, 'examples/options-book.jsonl');

  it('is a valid, ordered input log', () => {
    expect(lines).toHaveLength(114);
    expectMonotonic(events);
  });

  it('carries the portfolio-margin preset inline in its RulesActivated', () => {
    const first = events[0]!;
    expect(first.type).toBe('RulesActivated');
    if (first.type === 'RulesActivated') expect(parseRules(first.rules)).toEqual(parseRulesYaml(read('libs/rules/presets/portfolio-margin.yaml'), 'portfolio-margin.yaml'));
  });

  it('lists the two indexes, a perpetual on each, a BTC future and four BTC options of one expiry', () => {
    const listed = events.filter((e) => e.type === 'InstrumentListed').map((e) => (e.type === 'InstrumentListed' ? `${e.instrument}:${e.kind}` : ''));
    expect(listed).toEqual(['BTC:index', 'ETH:index', 'BTC-PERP:perpetual', 'BTC-0327:future', 'ETH-PERP:perpetual', 'BTC-20260327-90000-P:option', 'BTC-20260327-100000-P:option', 'BTC-20260327-100000-C:option', 'BTC-20260327-110000-C:option']);
    // every trade is against the market maker, as the README's table reads
    const trades = events.filter((e) => e.type === 'TradeExecuted');
    expect(trades).toHaveLength(11);
    expect(trades.every((t) => t.type === 'TradeExecuted' && (t.buyer === 'mm') !== (t.seller === 'mm'))).toBe(true);
  });
});
