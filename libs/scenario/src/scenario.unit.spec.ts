import { parseFixed } from '@clearsim/money';
import { parseScenario, rulesReference, ScenarioError } from './scenario';
import { populationAccountIds } from './scenario.schema';

const valid = () => ({
  name: 'unit',
  rules: 'crypto-cross',
  seed: 1,
  start: '2020-03-12T00:00:00Z',
  instruments: { 'BTC-PERP': { kind: 'perpetual', underlying: 'BTC' } } as Record<string, Record<string, unknown>>,
  prices: {
    every: 60,
    paths: {
      'BTC-PERP': [
        { at: '2020-03-12T00:00:00Z', price: '8000' },
        { at: '2020-03-12T01:00:00Z', price: 7000.5 },
      ],
    } as Record<string, { at: string; price: string | number }[]>,
  },
  accounts: { mm: { deposit: '1000000' } },
  population: [{ prefix: 'long', count: 2, side: 'long', instrument: 'BTC-PERP', leverage: [2, 25], collateral: ['500', '50000'], counterparty: 'mm' }],
});

/** The field paths named by the ScenarioError thrown for `raw`. */
function fieldsOf(raw: unknown): string[] {
  try {
    parseScenario(raw, 'bad.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as Error).message).toMatch(/^invalid scenario in bad\.yaml:/);
    return (error as ScenarioError).issues.map((i) => i.path);
  }
  throw new Error('expected a ScenarioError');
}

describe('parseScenario', () => {
  it('accepts a valid scenario and fills the defaults', () => {
    const s = parseScenario(valid(), 'ok.yaml');
    expect(s.seed).toBe(1n);
    expect(s.start).toBe(Date.UTC(2020, 2, 12));
    expect(s.prices.noise).toBe(0n);
    expect(s.prices.decimals).toBe(2);
    expect(s.prices.paths['BTC-PERP']![1]!.price).toBe(parseFixed('7000.5'));
    expect(s.instruments['BTC-PERP']).toEqual({ kind: 'perpetual', underlying: 'BTC', settlementAsset: 'USD', multiplier: parseFixed('1') });
    expect(s.accounts.mm).toEqual({ deposit: parseFixed('1000000'), asset: 'USD' });
    expect(s.events).toEqual([]);
  });

  it.each<[string, (s: ReturnType<typeof valid> & Record<string, unknown>) => void, string]>([
    ['a reversed leverage range', (s) => (s.population[0]!.leverage = [25, 2]), 'population.0.leverage'],
    ['a zero collateral', (s) => (s.population[0]!.collateral = ['0', '10']), 'population.0.collateral.0'],
    ['an unknown counterparty', (s) => (s.population[0]!.counterparty = 'nobody'), 'population.0.counterparty'],
    ['an unknown population instrument', (s) => (s.population[0]!.instrument = 'XRP-PERP'), 'population.0.instrument'],
    ['a bad side', (s) => ((s.population[0] as Record<string, unknown>).side = 'flat'), 'population.0.side'],
    ['a fractional count', (s) => (s.population[0]!.count = 1.5), 'population.0.count'],
    ['a negative seed', (s) => (s.seed = -1), 'seed'],
    ['a bad start', (s) => (s.start = 'yesterday'), 'start'],
    ['a missing price path', (s) => (s.instruments = { ...s.instruments, 'ETH-PERP': { kind: 'perpetual', underlying: 'ETH' } }), 'prices.paths.ETH-PERP'],
    ['a path for an unknown instrument', (s) => (s.prices.paths = { ...s.prices.paths, 'ETH-PERP': [{ at: '2020-03-12T00:00:00Z', price: '1' }] }), 'prices.paths.ETH-PERP'],
    ['a first waypoint after start', (s) => (s.prices.paths['BTC-PERP']![0]!.at = '2020-03-12T00:01:00Z'), 'prices.paths.BTC-PERP.0.at'],
    ['waypoints out of order', (s) => (s.prices.paths['BTC-PERP']![1]!.at = '2020-03-12T00:00:00Z'), 'prices.paths.BTC-PERP.1.at'],
    ['a waypoint finer than prices.decimals', (s) => (s.prices.paths['BTC-PERP']![1]!.price = '7000.555'), 'prices.paths.BTC-PERP.1.price'],
    ['a negative price', (s) => (s.prices.paths['BTC-PERP']![1]!.price = '-1'), 'prices.paths.BTC-PERP.1.price'],
    ['a noise above 0.5', (s) => ((s.prices as Record<string, unknown>).noise = '0.6'), 'prices.noise'],
    ['a zero interval', (s) => (s.prices.every = 0), 'prices.every'],
    ['an end before the last waypoint', (s) => (s.end = '2020-03-12T00:30:00Z'), 'end'],
    ['an unknown field', (s) => (s.colour = 'red'), ''],
    ['an unknown kind', (s) => ((s.instruments['BTC-PERP'] as Record<string, unknown>).kind = 'swap'), 'instruments.BTC-PERP.kind'],
    ['a bad deposit', (s) => (s.accounts.mm.deposit = 'lots'), 'accounts.mm.deposit'],
    ['a bad extra event field', (s) => (s.events = [{ type: 'Deposited', ts: '2020-03-12T00:10:00Z', account: 'mm', asset: 'USD', amount: '-5' }]), 'events.0.amount'],
    ['an unknown extra event type', (s) => (s.events = [{ type: 'MarginCallIssued', ts: '2020-03-12T00:10:00Z' }]), 'events.0.type'],
    ['an extra event before start', (s) => (s.events = [{ type: 'ClockAdvanced', ts: '2020-03-11T00:00:00Z' }]), 'events.0.ts'],
    ['a missing name', (s) => delete (s as Record<string, unknown>).name, 'name'],
  ])('names the field for %s', (_case, mutate, field) => {
    const s = valid() as ReturnType<typeof valid> & Record<string, unknown>;
    mutate(s);
    expect(fieldsOf(s)).toContain(field);
  });

  it('refuses a population whose generated accounts collide with an explicit account', () => {
    const s = valid();
    (s.accounts as Record<string, unknown>)['long-1'] = {};
    expect(fieldsOf(s)).toContain('population.0.prefix');
  });

  it('names unknown fields in the message', () => {
    expect(() => parseScenario({ ...valid(), colour: 'red' }, 'bad.yaml')).toThrow(/\(root\): unknown field\(s\) "colour"/);
  });
});

describe('populationAccountIds', () => {
  it('zero-pads to the width of the count so that ids sort in order', () => {
    expect(populationAccountIds('long', 3)).toEqual(['long-1', 'long-2', 'long-3']);
    expect(populationAccountIds('long', 100).slice(0, 2)).toEqual(['long-001', 'long-002']);
    expect(populationAccountIds('long', 100)[99]).toBe('long-100');
  });
});

describe('rulesReference', () => {
  it('tells presets, paths and inline rules apart', () => {
    expect(rulesReference({ rules: 'crypto-cross' })).toEqual({ kind: 'preset', name: 'crypto-cross' });
    expect(rulesReference({ rules: './my-rules.yaml' })).toEqual({ kind: 'path', path: './my-rules.yaml' });
    expect(rulesReference({ rules: 'rules/ccp.yaml' })).toEqual({ kind: 'path', path: 'rules/ccp.yaml' });
    expect(rulesReference({ rules: { name: 'x' } })).toEqual({ kind: 'inline', rules: { name: 'x' } });
  });
});
