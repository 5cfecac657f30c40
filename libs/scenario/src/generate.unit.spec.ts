import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { decodeLine, parseTimestamp } from '@clearsim/events';
import { parseFixed } from '@clearsim/money';
import fc from 'fast-check';
import { formatFixed } from '@clearsim/money';
import { generateInputs, generateInputStream, inverseOpeningQty, openingQty, type GeneratedPath, type InputJson } from './generate';
import { parseScenario } from './scenario';

const rules = parseYaml(readFileSync(join(__dirname, '../../rules/presets/crypto-cross.yaml'), 'utf8')) as Record<string, unknown>;

/** A small two-instrument scenario: 10 minutes down, an off-grid waypoint, a withdrawal, an end. */
const raw = () => ({
  name: 'unit',
  rules: 'crypto-cross',
  seed: 42,
  start: '2020-03-12T00:00:00Z',
  end: '2020-03-12T01:00:00Z',
  instruments: {
    'BTC-PERP': { kind: 'perpetual', underlying: 'BTC', multiplier: '1' },
    'ETH-PERP': { kind: 'perpetual', underlying: 'ETH' },
  },
  prices: {
    every: 60,
    noise: '0',
    paths: {
      'BTC-PERP': [
        { at: '2020-03-12T00:00:00Z', price: '8000' },
        { at: '2020-03-12T00:10:00Z', price: '7000' },
        { at: '2020-03-12T00:10:30Z', price: '7100.55' },
      ],
      'ETH-PERP': [
        { at: '2020-03-12T00:00:00Z', price: '200' },
        { at: '2020-03-12T00:05:00Z', price: '150.5' },
      ],
    },
  },
  accounts: { insurance: { deposit: '1000' }, fees: {}, mm: { deposit: '1000000' } },
  population: [
    { prefix: 'long', count: 12, side: 'long', instrument: 'BTC-PERP', leverage: [2, 25], collateral: ['500', '50000'], counterparty: 'mm' },
    { prefix: 'short', count: 3, side: 'short', instrument: 'ETH-PERP', leverage: [1, 5], collateral: ['1000', '20000'], counterparty: 'mm' },
  ],
  events: [
    { type: 'WithdrawalRequested', ts: '2020-03-12T00:05:00Z', requestId: 'w1', account: 'mm', asset: 'USD', amount: 10 },
    { type: 'FundingRateApplied', ts: '2020-03-12T00:02:30Z', instrument: 'BTC-PERP', rate: '0.0001' },
  ],
});

const generate = (scenario: unknown = raw()) => generateInputs(parseScenario(scenario, 'unit.yaml'), rules);
const lines = (events: InputJson[]) => events.map((e) => JSON.stringify(e)).join('\n');
/** An instrument's generated marks by ts, from its PriceUpdated and its element of each MarketMoved. */
const prices = (events: InputJson[], instrument: string) =>
  new Map(
    events.flatMap((e): [string, string][] => {
      if (e.type === 'PriceUpdated') return e.instrument === instrument ? [[e.ts, e.price as string]] : [];
      if (e.type === 'MarketMoved') return (e.marks as { instrument: string; price: string }[]).filter((m) => m.instrument === instrument).map((m) => [e.ts, m.price]);
      return [];
    }),
  );

describe('generateInputs', () => {
  describe('determinism', () => {
    it('gives byte-identical output for the same scenario and seed', () => {
      expect(lines(generate())).toBe(lines(generate()));
    });

    it('gives different traders and different noise for a different seed', () => {
      const noisy = (seed: number) => ({ ...raw(), seed, prices: { ...raw().prices, noise: '0.01' } });
      const a = generate(noisy(1));
      const b = generate(noisy(2));
      const deposits = (events: InputJson[]) => events.filter((e) => e.type === 'Deposited').map((e) => e.amount);
      expect(deposits(a)).not.toEqual(deposits(b));
      expect([...prices(a, 'BTC-PERP').values()]).not.toEqual([...prices(b, 'BTC-PERP').values()]);
    });

    it('keeps the price path when the population changes (independent streams)', () => {
      const noisy = { ...raw(), prices: { ...raw().prices, noise: '0.01' } };
      const fewer = { ...noisy, population: noisy.population.slice(1) };
      expect(prices(generate(fewer), 'BTC-PERP')).toEqual(prices(generate(noisy), 'BTC-PERP'));
    });
  });

  describe('price path', () => {
    it('hits every waypoint exactly and interpolates linearly on the grid when noise is 0', () => {
      const btc = prices(generate(), 'BTC-PERP');
      expect(btc.get('2020-03-12T00:00:00Z')).toBe('8000');
      expect(btc.get('2020-03-12T00:05:00Z')).toBe('7500'); // halfway from 8000 to 7000
      expect(btc.get('2020-03-12T00:01:00Z')).toBe('7900');
      expect(btc.get('2020-03-12T00:10:00Z')).toBe('7000');
      expect(btc.get('2020-03-12T00:10:30Z')).toBe('7100.55'); // off the 60 s grid, still printed
      expect(btc.size).toBe(1 + 10 + 1); // start, 10 grid ticks, the off-grid waypoint
      const eth = prices(generate(), 'ETH-PERP');
      expect(eth.get('2020-03-12T00:05:00Z')).toBe('150.5');
      expect(eth.get('2020-03-12T00:01:00Z')).toBe('190.1'); // 200 − 49.5/5
      expect(eth.get('2020-03-12T00:03:00Z')).toBe('170.3');
      expect(eth.has('2020-03-12T00:06:00Z')).toBe(false); // stops at its last waypoint
    });

    it('keeps waypoints exact and the noise within its band when noise > 0', () => {
      const btc = prices(generate({ ...raw(), prices: { ...raw().prices, noise: '0.002' } }), 'BTC-PERP');
      expect(btc.get('2020-03-12T00:10:00Z')).toBe('7000');
      expect(btc.get('2020-03-12T00:10:30Z')).toBe('7100.55');
      const mid = Number(btc.get('2020-03-12T00:05:00Z'));
      expect(mid).not.toBe(7500);
      expect(Math.abs(mid - 7500)).toBeLessThanOrEqual(7500 * 0.002 + 0.005);
      for (const price of btc.values()) expect(price).toMatch(/^\d+(\.\d{1,2})?$/);
    });

    it('rounds generated prices to prices.decimals', () => {
      const scenario = raw();
      scenario.prices.paths['BTC-PERP'][2]!.price = '7100.5';
      const btc = prices(generate({ ...scenario, prices: { ...scenario.prices, decimals: 1, noise: '0.003' } }), 'BTC-PERP');
      for (const price of btc.values()) expect(price).toMatch(/^\d+(\.\d)?$/);
    });
  });

  describe('population', () => {
    it('sizes the opening trade as collateral × leverage / price, rounded down to 8 decimals', () => {
      const scenario = { ...raw(), population: [{ prefix: 'p', count: 1, side: 'long', instrument: 'BTC-PERP', leverage: [3, 3], collateral: ['1000', '1000'], counterparty: 'mm' }] };
      scenario.prices.paths['BTC-PERP'][0]!.price = '7000';
      const trade = generate(scenario).find((e) => e.type === 'TradeExecuted')!;
      // 1000 × 3 / 7000 = 0.428571428571… → 0.42857142 (down)
      expect(trade).toEqual({
        type: 'TradeExecuted',
        ts: '2020-03-12T00:00:00Z',
        tradeId: 'open-p-1',
        instrument: 'BTC-PERP',
        buyer: 'p-1',
        seller: 'mm',
        qty: '0.42857142',
        price: '7000',
        buyerFee: '0',
        sellerFee: '0',
      });
    });

    it('divides by the multiplier too, and rounds down', () => {
      // 1000 × 3 / (7000 × 0.1) = 4.285714285… → 4.28571428
      expect(openingQty(parseFixed('1000'), parseFixed('3'), parseFixed('7000'), parseFixed('0.1'))).toBe(parseFixed('4.28571428'));
      // 2 × 1 / 3 = 0.6666… → 0.66666666, never 0.66666667
      expect(openingQty(parseFixed('2'), parseFixed('1'), parseFixed('3'), parseFixed('1'))).toBe(parseFixed('0.66666666'));
    });

    it('an inverse opening is collateral × leverage × price ÷ face contracts, rounded down to whole contracts', () => {
      // 0.5 BTC at 10x on XBTUSD (face 1 USD) at 7,934.57: 0.5 × 10 × 7934.57 / 1 = 39,672.85 → 39,672 contracts,
      // a coin notional of 39672 / 7934.57 = 4.99989… BTC (≤ collateral × leverage)
      expect(inverseOpeningQty(parseFixed('0.5'), parseFixed('10'), parseFixed('7934.57'), parseFixed('1'))).toBe(parseFixed('39672'));
      // Deribit's US$10 contracts: 0.0666 BTC at 15x at 600 = 599.4 USD → 59 contracts (not 59.94)
      expect(inverseOpeningQty(parseFixed('0.0666'), parseFixed('15'), parseFixed('600'), parseFixed('10'))).toBe(parseFixed('59'));
    });

    it('draws collateral and leverage inside their ranges on a 0.01 grid, one unique trade per trader', () => {
      const events = generate();
      const deposits = events.filter((e) => e.type === 'Deposited' && String(e.account).startsWith('long-'));
      expect(deposits.map((e) => e.account)).toEqual(Array.from({ length: 12 }, (_, i) => `long-${String(i + 1).padStart(2, '0')}`));
      for (const { amount } of deposits) {
        expect(amount).toMatch(/^\d+(\.\d{1,2})?$/);
        expect(Number(amount)).toBeGreaterThanOrEqual(500);
        expect(Number(amount)).toBeLessThanOrEqual(50000);
      }
      const trades = events.filter((e) => e.type === 'TradeExecuted');
      expect(new Set(trades.map((t) => t.tradeId)).size).toBe(15);
      for (const trade of trades.filter((t) => t.buyer !== 'mm')) {
        const collateral = Number(deposits.find((d) => d.account === trade.buyer)!.amount);
        const leverage = (Number(trade.qty) * 8000) / collateral;
        expect(leverage).toBeGreaterThanOrEqual(2 - 1e-6);
        expect(leverage).toBeLessThanOrEqual(25 + 1e-6);
      }
      const shorts = trades.filter((t) => t.instrument === 'ETH-PERP');
      expect(shorts.every((t) => t.buyer === 'mm' && String(t.seller).startsWith('short-'))).toBe(true);
    });
  });

  describe('order', () => {
    it('emits the header in the documented order, then prices and extras by ts, then ClockAdvanced', () => {
      const events = generate();
      const types = events.map((e) => e.type);
      expect(types.slice(0, 4)).toEqual(['RulesActivated', 'InstrumentListed', 'InstrumentListed', 'MarketMoved']);
      expect(events[0]).toEqual({ type: 'RulesActivated', ts: '2020-03-12T00:00:00Z', rules });
      expect(events.slice(1, 3).map((e) => e.instrument)).toEqual(['BTC-PERP', 'ETH-PERP']);
      expect(events[1]).toEqual({ type: 'InstrumentListed', ts: '2020-03-12T00:00:00Z', instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', settlementAsset: 'USD', multiplier: '1' });
      // the opening marks of both instruments: one input
      expect(events[3]).toEqual({
        type: 'MarketMoved',
        ts: '2020-03-12T00:00:00Z',
        marks: [
          { instrument: 'BTC-PERP', price: '8000' },
          { instrument: 'ETH-PERP', price: '200' },
        ],
      });
      expect(events.slice(4, 6).map((e) => e.account)).toEqual(['insurance', 'mm']); // explicit accounts first, fees has no deposit
      expect(types.slice(6, 21)).toEqual(Array(15).fill('Deposited'));
      expect(types.slice(21, 36)).toEqual(Array(15).fill('TradeExecuted'));
      expect(types[types.length - 1]).toBe('ClockAdvanced');
      expect(events[events.length - 1]).toEqual({ type: 'ClockAdvanced', ts: '2020-03-12T01:00:00Z' });

      const ts = events.map((e) => parseTimestamp(e.ts)!);
      for (let i = 1; i < ts.length; i++) expect(ts[i]!).toBeGreaterThanOrEqual(ts[i - 1]!);
    });

    it('merges extra events by ts, after the generated prices of the same instant, with decimals as strings', () => {
      const events = generate();
      const at5 = events.filter((e) => e.ts === '2020-03-12T00:05:00Z').map((e) => `${e.type}:${e.instrument ?? e.requestId}`);
      expect(at5).toEqual(['MarketMoved:undefined', 'WithdrawalRequested:w1']);
      const funding = events.findIndex((e) => e.type === 'FundingRateApplied');
      expect(events[funding - 1]!.ts).toBe('2020-03-12T00:02:00Z');
      expect(events[funding + 1]!.ts).toBe('2020-03-12T00:03:00Z');
      expect(events.find((e) => e.type === 'WithdrawalRequested')).toEqual({ type: 'WithdrawalRequested', ts: '2020-03-12T00:05:00Z', requestId: 'w1', account: 'mm', asset: 'USD', amount: '10' });
    });

    it('moves the instruments that share an instant in one MarketMoved (written order), a lone one in a PriceUpdated', () => {
      const events = generate();
      // both paths tick every minute up to ETH's last waypoint (00:05); after it only BTC ticks, and 00:10:30 is BTC's alone
      expect(events.find((e) => e.ts === '2020-03-12T00:01:00Z')).toEqual({
        type: 'MarketMoved',
        ts: '2020-03-12T00:01:00Z',
        marks: [
          { instrument: 'BTC-PERP', price: '7900' },
          { instrument: 'ETH-PERP', price: '190.1' },
        ],
      });
      expect(events.filter((e) => e.ts === '2020-03-12T00:06:00Z')).toEqual([{ type: 'PriceUpdated', ts: '2020-03-12T00:06:00Z', instrument: 'BTC-PERP', price: '7400' }]);
      expect(events.filter((e) => e.ts === '2020-03-12T00:10:30Z')).toEqual([{ type: 'PriceUpdated', ts: '2020-03-12T00:10:30Z', instrument: 'BTC-PERP', price: '7100.55' }]);
      // one mark input per instant: 00:00 to 00:10 by the minute, and 00:10:30
      expect(events.filter((e) => e.type === 'PriceUpdated' || e.type === 'MarketMoved')).toHaveLength(12);
    });

    it('writes only valid input events, with plain decimal strings', () => {
      const decimal = /^-?\d+(\.\d{1,8})?$/;
      generate({ ...raw(), prices: { ...raw().prices, noise: '0.005' } }).forEach((event, i) => {
        expect(() => decodeLine(JSON.stringify(event), 'input', 'generated', i + 1)).not.toThrow();
        for (const key of ['amount', 'price', 'qty', 'rate', 'multiplier', 'buyerFee', 'sellerFee']) {
          if (key in event) expect(event[key]).toMatch(decimal);
        }
      });
    });
  });

  describe('checks against the rules', () => {
    it('refuses invalid rules', () => {
      expect(() => generateInputs(parseScenario(raw(), 'unit.yaml'), { ...rules, model: 'portfolio' })).toThrow(/portfolio/);
    });

    it('refuses an instrument the rules cannot margin', () => {
      const instruments = { ...(rules.instruments as Record<string, unknown>) };
      delete instruments['*'];
      delete instruments['ETH-PERP'];
      expect(() => generateInputs(parseScenario(raw(), 'unit.yaml'), { ...rules, instruments })).toThrow(/instruments\.ETH-PERP: rules "crypto-cross" have no tiers/);
    });

    it('refuses a system account as counterparty', () => {
      const scenario = raw();
      scenario.population[0]!.counterparty = 'insurance';
      expect(() => generate(scenario)).toThrow(/population\.0\.counterparty: "insurance" is a system account/);
    });
  });
});

describe('generateInputs: leveraged tokens issued at start', () => {
  const tokenRules = {
    ...rules,
    tokens: {
      BTCBULL: { instrument: 'BTC-PERP', account: 'btcbull', counterparty: 'mm', targetLeverage: '3', band: { max: '4' }, dailyAt: '00:02' },
      ETHBEAR: { instrument: 'ETH-PERP', account: 'ethbear', counterparty: 'mm', targetLeverage: '-3', band: { max: '4.5' } },
    },
  };
  const withTokens = (tokens: Record<string, unknown>) => generateInputs(parseScenario({ ...raw(), tokens }, 'unit.yaml'), tokenRules);

  it("funds each token's fund with units × nav and trades its basket at the start price", () => {
    // BTCBULL: 1,000 units × 20 = 20,000; basket 3 × 20,000 / 8,000 = 7.5 bought from mm.
    // ETHBEAR: 300 units × 10.5 = 3,150; basket 3 × 3,150 / 200 = 47.25 sold to mm.
    const events = withTokens({ BTCBULL: { units: '1000', nav: '20' }, ETHBEAR: { units: '300', nav: '10.5' } });
    const issue = events.filter((e) => e.account === 'btcbull' || e.account === 'ethbear' || String(e.tradeId).startsWith('issue-'));
    expect(issue).toEqual([
      { type: 'Deposited', ts: '2020-03-12T00:00:00Z', account: 'btcbull', asset: 'USD', amount: '20000' },
      { type: 'TradeExecuted', ts: '2020-03-12T00:00:00Z', tradeId: 'issue-BTCBULL', instrument: 'BTC-PERP', buyer: 'btcbull', seller: 'mm', qty: '7.5', price: '8000', buyerFee: '0', sellerFee: '0' },
      { type: 'Deposited', ts: '2020-03-12T00:00:00Z', account: 'ethbear', asset: 'USD', amount: '3150' },
      { type: 'TradeExecuted', ts: '2020-03-12T00:00:00Z', tradeId: 'issue-ETHBEAR', instrument: 'ETH-PERP', buyer: 'mm', seller: 'ethbear', qty: '47.25', price: '200', buyerFee: '0', sellerFee: '0' },
    ]);
    // issued after the population's opening trades, before the first generated tick
    const firstTick = events.findIndex((e) => e.ts !== '2020-03-12T00:00:00Z');
    expect(events.findIndex((e) => e.tradeId === 'issue-ETHBEAR')).toBe(firstTick - 1);
    // a scenario without tokens generates exactly what it did
    expect(lines(generateInputs(parseScenario(raw(), 'unit.yaml'), tokenRules)).includes('issue-')).toBe(false);
  });

  it('holders create the units before the first mark, each deposited what it pays; the fund then buys its basket', () => {
    // 1,000.00000001 units among 3: 333.33333333 each, the last 1,000.00000001 − 666.66666666 = 333.33333335.
    // Costs (rounded up): 333.33333333 × 20 (the issue price) = 6,666.6666666; then units × fund / outstanding:
    // 333.33333333 × 6,666.6666666 / 333.33333333 = 6,666.6666666; 333.33333335 × 13,333.3333332 / 666.66666666
    // = 6,666.666667. The fund holds 20,000.0000002: basket 3 × 20,000.0000002 / 8,000 = 7.50000000 (down).
    const events = withTokens({ BTCBULL: { units: '1000.00000001', nav: '20', holders: ['long-01', 'long-02', 'mm'] } });
    const ts = '2020-03-12T00:00:00Z';
    const firstMark = events.findIndex((e) => e.type === 'PriceUpdated' || e.type === 'MarketMoved');
    expect(events.slice(firstMark - 6, firstMark)).toEqual([
      { type: 'Deposited', ts, account: 'long-01', asset: 'USD', amount: '6666.6666666' },
      { type: 'TokenUnitsCreated', ts, requestId: 'issue-BTCBULL-1', account: 'long-01', token: 'BTCBULL', units: '333.33333333', nav: '20' },
      { type: 'Deposited', ts, account: 'long-02', asset: 'USD', amount: '6666.6666666' },
      { type: 'TokenUnitsCreated', ts, requestId: 'issue-BTCBULL-2', account: 'long-02', token: 'BTCBULL', units: '333.33333333' },
      { type: 'Deposited', ts, account: 'mm', asset: 'USD', amount: '6666.666667' },
      { type: 'TokenUnitsCreated', ts, requestId: 'issue-BTCBULL-3', account: 'mm', token: 'BTCBULL', units: '333.33333335' },
    ]);
    // no deposit into the fund: the holders paid it
    expect(events.filter((e) => e.account === 'btcbull')).toEqual([]);
    expect(events.find((e) => e.tradeId === 'issue-BTCBULL')).toMatchObject({ buyer: 'btcbull', seller: 'mm', qty: '7.5', price: '8000' });
    // with a creation fee of 0.1 % each holder is deposited its cost + the fee, rounded up: 6,666.6666666 + 6.6666666666 → 6,673.33333327
    const feeRules = { ...tokenRules, tokens: { ...tokenRules.tokens, BTCBULL: { ...tokenRules.tokens.BTCBULL, creationFee: '0.001' } } };
    const withFee = generateInputs(parseScenario({ ...raw(), tokens: { BTCBULL: { units: '1000.00000001', nav: '20', holders: ['long-01', 'long-02', 'mm'] } } }, 'unit.yaml'), feeRules);
    expect(withFee.find((e) => e.type === 'Deposited' && e.account === 'long-01' && e.amount !== undefined && e.ts === ts)).toMatchObject({ amount: '6673.33333327' });
    // with a lower band edge the first mark makes the fund buy (docs/rules.md §12): no basket trade is written
    const banded = { ...tokenRules, tokens: { BTCBULL: { ...tokenRules.tokens.BTCBULL, band: { min: '2', max: '4' } } } };
    expect(generateInputs(parseScenario({ ...raw(), tokens: { BTCBULL: { units: '10', nav: '20', holders: ['mm'] } } }, 'unit.yaml'), banded).some((e) => e.tradeId === 'issue-BTCBULL')).toBe(false);
  });

  it('refuses holders that are not accounts of the scenario, the fund, system accounts or repeated, naming the holder', () => {
    const refused = (holders: string[], units = '10') => {
      try {
        withTokens({ BTCBULL: { units, nav: '20', holders } });
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused(['long-1'])).toMatch(/tokens\.BTCBULL\.holders\.0: "long-1" is not an account of the scenario/);
    expect(refused(['mm', 'insurance'])).toMatch(/tokens\.BTCBULL\.holders\.1: "insurance" is a system account: it cannot hold units/);
    expect(refused(['mm', 'long-03', 'mm'])).toMatch(/tokens\.BTCBULL\.holders\.2: "mm" is already a holder \(holders\.0\)/);
    expect(refused(['mm', 'long-01'], '0.00000001')).toMatch(/tokens\.BTCBULL\.units: 0\.00000001 units cannot be split among 2 holders/);
    expect(() => parseScenario({ ...raw(), tokens: { BTCBULL: { units: '1', nav: '1', holders: [] } } }, 'unit.yaml')).toThrow(/tokens\.BTCBULL\.holders: at least one holder/);
  });

  it('refuses a token the rules do not define, or whose counterparty the scenario does not fund, naming the field', () => {
    expect(() => withTokens({ BTCBEAR: { units: '1', nav: '1' } })).toThrow(/tokens\.BTCBEAR: rules "crypto-cross" define no token "BTCBEAR" \(their tokens: BTCBULL, ETHBEAR\)/);
    expect(() => generateInputs(parseScenario({ ...raw(), accounts: { insurance: { deposit: '1000' }, mm: {} }, tokens: { BTCBULL: { units: '1', nav: '1' } } }, 'unit.yaml'), tokenRules)).toThrow(
      /tokens\.BTCBULL: its counterparty "mm" \(rules "crypto-cross"\) must be an account of the scenario with a deposit/,
    );
    expect(() => parseScenario({ ...raw(), tokens: { BTCBULL: { units: '0', nav: '1' } } }, 'unit.yaml')).toThrow(/tokens\.BTCBULL\.units: must be greater than 0/);
  });
});

describe('the price paths merged as they are made (generateInputStream)', () => {
  const base = Date.UTC(2020, 2, 12);
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  /** Instruments with waypoints on and off a grid of `every` seconds, extra events at any second: the instants shared or not. */
  const scenarios = fc
    .record({
      every: fc.integer({ min: 1, max: 90 }),
      paths: fc.array(fc.uniqueArray(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
      extras: fc.array(fc.integer({ min: 0, max: 650 }), { maxLength: 6 }),
      seed: fc.integer({ min: 0, max: 1_000_000 }),
    })
    .map(({ every, paths, extras, seed }) => {
      const ids = paths.map((_, i) => `I${i}-PERP`);
      const last = Math.max(...paths.map((offsets) => Math.max(...offsets)));
      return {
        name: 'merge',
        rules: 'crypto-cross',
        seed,
        start: iso(base),
        end: iso(base + (last + 60) * 1000),
        instruments: Object.fromEntries(ids.map((id) => [id, { kind: 'perpetual', underlying: id.slice(0, 2) }])),
        prices: {
          every,
          noise: '0.01',
          paths: Object.fromEntries(
            paths.map((offsets, i) => [ids[i]!, [{ at: iso(base), price: '100' }, ...[...offsets].sort((a, b) => a - b).map((s, k) => ({ at: iso(base + s * 1000), price: String(90 + 7 * k + i) }))]]),
          ),
        },
        accounts: { insurance: { deposit: '1000' }, mm: { deposit: '1000000' } },
        population: [],
        events: extras.map((s, k) => ({ type: 'Deposited', ts: iso(base + Math.min(s, last) * 1000), account: 'mm', asset: 'USD', amount: String(k + 1) })),
      };
    });

  it('gives the order of a stable sort of every tick on time (ties in written order), the extra events before the marks of a later instant', () => {
    fc.assert(
      fc.property(scenarios, (input) => {
        const scenario = parseScenario(input, 'merge.yaml');
        // the whole paths, as the generator makes them: an identity reshape hands them over
        let captured: GeneratedPath[] = [];
        const events = generateInputs(scenario, rules, { reshapePaths: (paths) => (captured = paths) });
        expect(lines([...generateInputStream(scenario, rules)])).toBe(lines(events));
        // the reference: every tick, sorted on (time, instrument's place), grouped by instant, the extras merged by time
        const ticks = captured.flatMap(({ instrument, ticks: path }, index) => path.map((tick) => ({ ...tick, index, instrument }))).sort((a, b) => a.at - b.at || a.index - b.index);
        const extras = input.events.map((event) => ({ at: parseTimestamp(event.ts)!, event })).sort((a, b) => a.at - b.at);
        const expected: string[] = [];
        let e = 0;
        for (let i = 0; i < ticks.length; ) {
          let j = i;
          while (j < ticks.length && ticks[j]!.at === ticks[i]!.at) j++;
          while (e < extras.length && extras[e]!.at < ticks[i]!.at) expected.push(`extra ${extras[e++]!.event.amount}`);
          expected.push(`${iso(ticks[i]!.at)} ${ticks.slice(i, j).map((t) => `${t.instrument}=${formatFixed(t.price)}`).join(' ')}`);
          i = j;
        }
        while (e < extras.length) expected.push(`extra ${extras[e++]!.event.amount}`);
        const opening = 4 + Object.keys(input.instruments).length; // the rules, the listings, the opening marks, two deposits
        const got = events.slice(opening, -1).map((event) =>
          event.type === 'Deposited'
            ? `extra ${String(event.amount)}`
            : `${event.ts} ${event.type === 'PriceUpdated' ? `${String(event.instrument)}=${String(event.price)}` : (event.marks as { instrument: string; price: string }[]).map((m) => `${m.instrument}=${m.price}`).join(' ')}`,
        );
        expect(got).toEqual(expected);
        expect(events[events.length - 1]!.type).toBe('ClockAdvanced');
      }),
      { numRuns: 150 },
    );
  });
});
