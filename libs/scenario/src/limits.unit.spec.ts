import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseFixed } from '@clearsim/money';
import { generateInputs, generateInputStream, type InputJson } from './generate';
import { checkHeldInputs, parseScenario, ScenarioError } from './scenario';
import { generatedInputCount, MAX_GENERATED_INPUTS, MAX_POPULATION_TOTAL } from './scenario.schema';

/**
 * Defects found by fuzzing `clearsim run SCENARIO.yaml`: a field out of range
 * computed with anyway, sizes checked only after building them, YAML numbers
 * rounded silently, and errors blamed on a generated line instead of the field.
 */

const rules = parseYaml(readFileSync(join(__dirname, '../../rules/presets/crypto-cross.yaml'), 'utf8')) as Record<string, unknown>;

type Raw = Record<string, unknown> & {
  instruments: Record<string, Record<string, unknown>>;
  prices: Record<string, unknown> & { paths: Record<string, { at: string; price: string | number }[]> };
  accounts: Record<string, Record<string, unknown>>;
  population: Record<string, unknown>[];
};

const valid = (): Raw => ({
  name: 'limits',
  rules: 'crypto-cross',
  seed: 1,
  start: '2020-03-12T10:00:00Z',
  instruments: { 'BTC-PERP': { kind: 'perpetual', underlying: 'BTC' } },
  prices: {
    every: 60,
    paths: {
      'BTC-PERP': [
        { at: '2020-03-12T10:00:00Z', price: '8000' },
        { at: '2020-03-12T11:00:00Z', price: '7000' },
      ],
    },
  },
  accounts: { insurance: { deposit: '250000' }, mm: { deposit: '50000000' } },
  population: [{ prefix: 'long', count: 3, side: 'long', instrument: 'BTC-PERP', leverage: [2, 25], collateral: ['500', '50000'], counterparty: 'mm' }],
});

/** The issues of the ScenarioError that parseScenario (or `run`) throws; fails on any other outcome (a RangeError included). */
function issuesOf(raw: unknown, run: (raw: unknown) => unknown = (r) => parseScenario(r, 'case.yaml')): { path: string; message: string }[] {
  try {
    run(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as ScenarioError).issues;
  }
  throw new Error('expected a ScenarioError');
}

const withAll = (mutate: (s: Raw) => void): Raw => {
  const s = valid();
  mutate(s);
  return s;
};

describe('prices.decimals out of range (defect 1)', () => {
  it.each([9, 20, 1000])('refuses decimals %d with the field named, not a RangeError from the price step', (decimals) => {
    expect(issuesOf(withAll((s) => (s.prices.decimals = decimals)))).toEqual([{ path: 'prices.decimals', message: 'must be between 0 and 8' }]);
  });

  it('refuses −1 without checking the waypoints against a step of 10^9', () => {
    // before: the cross-field check ran with decimals −1 and also called 7001 (not a multiple of 10) too fine for it
    const s = withAll((r) => {
      r.prices.decimals = -1;
      r.prices.paths['BTC-PERP']![1]!.price = '7001';
    });
    expect(issuesOf(s)).toEqual([{ path: 'prices.decimals', message: 'must be between 0 and 8' }]);
  });

  it('still accepts 0 and 8', () => {
    expect(parseScenario(withAll((s) => (s.prices.decimals = 0)), 'ok.yaml').prices.decimals).toBe(0);
    expect(parseScenario(withAll((s) => (s.prices.decimals = 8)), 'ok.yaml').prices.decimals).toBe(8);
  });
});

describe('population sizes (defect 2)', () => {
  it.each([1_000_001, 20_000_000, 100_000_000, 4_294_967_296, 1e20])('refuses count %d at the field, before any account id is built', (count) => {
    // before: 4294967296 was "Invalid array length" from populationAccountIds, 20,000,000 ran out of memory
    const issues = issuesOf(withAll((s) => (s.population[0]!.count = count)));
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['population.0.count']));
    expect(issues.every((i) => i.path === 'population.0.count')).toBe(true);
    expect(issues.map((i) => i.message)).toContain('must be at most 1000000');
  });

  it('refuses groups whose counts add up to more than the total bound, naming the population', () => {
    const issues = issuesOf(
      withAll((s) => {
        s.population = [
          { ...s.population[0]!, prefix: 'long', count: 600_000 },
          { ...s.population[0]!, prefix: 'short', side: 'short', count: 400_001 },
        ];
      }),
    );
    expect(issues).toEqual([{ path: 'population', message: `the groups' counts add up to 1,000,001 traders; at most 1,000,000 in all` }]);
    expect(MAX_POPULATION_TOTAL).toBe(1_000_000);
  });
});

describe('the number of generated inputs (defect 3)', () => {
  const tenYears = () =>
    withAll((s) => {
      s.prices.every = 1;
      s.prices.paths['BTC-PERP']![1]!.at = '2030-03-12T10:00:00Z';
    });
  const heldIssues = (raw: unknown): { path: string; message: string }[] => {
    try {
      checkHeldInputs(parseScenario(raw, 'x.yaml'), 'x.yaml');
    } catch (error) {
      if (error instanceof ScenarioError) return error.issues;
      throw error;
    }
    return [];
  };

  it('a one-second path over ten years parses, and streams: its first events come at once, the path is made as it is taken', () => {
    // 2020-03-12 → 2030-03-12 is 3,652 days (2024 and 2028 are leap years): 315,532,800 s. Built whole (as before the
    // stream), this needs ~300 GB; taken one by one, the first 1,000 events cost what 1,000 events cost.
    const scenario = parseScenario(tenYears(), 'ok.yaml');
    expect(generatedInputCount(scenario).marks).toBe(315_532_800);
    const stream = generateInputStream(scenario, rules);
    const first: InputJson[] = [];
    for (const event of stream) {
      first.push(event);
      if (first.length === 1_000) break;
    }
    // 11 opening inputs, then one mark a second from 10:00:01
    expect(first.slice(0, 11).map((e) => e.type)).toEqual(['RulesActivated', 'InstrumentListed', 'PriceUpdated', 'Deposited', 'Deposited', 'Deposited', 'Deposited', 'Deposited', 'TradeExecuted', 'TradeExecuted', 'TradeExecuted']);
    expect(first[11]).toMatchObject({ type: 'PriceUpdated', ts: '2020-03-12T10:00:01Z', instrument: 'BTC-PERP' });
    expect(first[999]).toMatchObject({ type: 'PriceUpdated', ts: '2020-03-12T10:16:29Z' }); // 10:00:00 + 989 s
  });

  it('a command that holds every input (stress) refuses it at prices.every, before generating it', () => {
    expect(heldIssues(tenYears())).toEqual([
      {
        path: 'prices.every',
        message:
          'the scenario would generate 315,532,800 price marks (every 1 s from 2020-03-12T10:00:00Z to 2030-03-12T10:00:00Z) and 11 other inputs; ' +
          'at most 3,000,000 generated inputs when they are all held at once: raise prices.every or shorten the paths',
      },
    ]);
    expect(MAX_GENERATED_INPUTS).toBe(3_000_000);
  });

  it('counts each instrument’s marks: grid ticks up to its last waypoint plus the off-grid waypoints', () => {
    const s = parseScenario(
      withAll((r) => {
        r.instruments['ETH-PERP'] = { kind: 'perpetual', underlying: 'ETH' };
        r.prices.paths['BTC-PERP']!.push({ at: '2020-03-12T11:00:30Z', price: '7100' }); // off the minute grid
        r.prices.paths['ETH-PERP'] = [
          { at: '2020-03-12T10:00:00Z', price: '200' },
          { at: '2020-03-12T10:05:00Z', price: '150' },
        ];
      }),
      'ok.yaml',
    );
    const count = generatedInputCount(s);
    // BTC: 60 minute ticks + 11:00:30; ETH: 5 minute ticks
    expect(count.marks).toBe(66);
    const events = generateInputs(s, rules);
    const marks = (e: InputJson) => (e.type === 'PriceUpdated' ? 1 : e.type === 'MarketMoved' ? (e.marks as unknown[]).length : 0);
    // the generated marks after the opening one (one per instrument at start)
    expect(events.reduce((n, e) => n + marks(e), 0) - 2).toBe(count.marks);
    // an upper bound of the inputs: the instants two instruments share are one MarketMoved
    expect(count.total).toBeGreaterThanOrEqual(events.length);
    expect(count.total - count.marks).toBe(events.length - events.filter((e) => marks(e) > 0).length + 1); // + the opening marks, one input
  });

  it('holding them: accepts exactly the bound and refuses one more (counting only: nothing is generated)', () => {
    // 1 RulesActivated, 1 listing, 1 opening mark, 2 account deposits and 2 per trader (3): 11 other inputs
    const at = (marks: number) =>
      withAll((s) => {
        s.prices.every = 1;
        s.prices.paths['BTC-PERP']![1]!.at = new Date(Date.UTC(2020, 2, 12, 10) + marks * 1000).toISOString();
      });
    const other = generatedInputCount(parseScenario(valid(), 'ok.yaml')).total - 60; // every 60 s for an hour
    expect(other).toBe(11);
    expect(generatedInputCount(parseScenario(at(MAX_GENERATED_INPUTS - other), 'ok.yaml')).total).toBe(MAX_GENERATED_INPUTS);
    expect(heldIssues(at(MAX_GENERATED_INPUTS - other))).toEqual([]);
    expect(heldIssues(at(MAX_GENERATED_INPUTS - other + 1)).map((i) => i.path)).toEqual(['prices.every']);
    // parsing alone does not refuse it: run, diff and backtest stream them
    expect(generatedInputCount(parseScenario(at(MAX_GENERATED_INPUTS - other + 1), 'ok.yaml')).total).toBe(MAX_GENERATED_INPUTS + 1);
  });
});

describe('YAML numbers that cannot be represented exactly (defect 4)', () => {
  const yaml = (deposit: string) =>
    parseYaml(`
name: exact
rules: crypto-cross
seed: 1
start: 2020-03-12T10:00:00Z
instruments:
  BTC-PERP: { kind: perpetual, underlying: BTC }
prices:
  every: 60
  paths:
    BTC-PERP:
      - { at: 2020-03-12T10:00:00Z, price: "8000" }
accounts:
  insurance: { deposit: ${deposit} }
`);

  it.each([
    ['12345678901234567', '12345678901234568'],
    ['123456789012345678901234567890', '1.2345678901234568e+29'],
    ['0.12345678901234567', '0.12345678901234566'],
  ])('refuses the unquoted %s, naming the field and saying to quote it', (written, read) => {
    expect(issuesOf(yaml(written))).toEqual([
      { path: 'accounts.insurance.deposit', message: `the YAML number read as ${read} cannot be represented exactly (more than 15 significant digits): write it as a decimal string, in quotes` },
    ]);
  });

  it('accepts the same values quoted, and unquoted numbers of up to 15 significant digits, exactly', () => {
    expect(parseScenario(yaml('"12345678901234567"'), 'ok.yaml').accounts.insurance!.deposit).toBe(parseFixed('12345678901234567'));
    expect(parseScenario(yaml('123456789012345'), 'ok.yaml').accounts.insurance!.deposit).toBe(parseFixed('123456789012345'));
    expect(parseScenario(yaml('0.00000001'), 'ok.yaml').accounts.insurance!.deposit).toBe(1n); // read as 1e-8: an exponent, yet exact
    expect(parseScenario(yaml('1234.5678'), 'ok.yaml').accounts.insurance!.deposit).toBe(parseFixed('1234.5678'));
  });

  it('applies to every decimal field, the seed and the extra events', () => {
    const big = Number('12345678901234567'); // what the YAML parser makes of it: 12345678901234568
    const fields = (mutate: (s: Raw) => void) => issuesOf(withAll(mutate)).map((i) => i.path);
    expect(fields((s) => (s.prices.paths['BTC-PERP']![1]!.price = big))).toEqual(['prices.paths.BTC-PERP.1.price']);
    expect(fields((s) => (s.instruments['BTC-PERP']!.multiplier = big))).toEqual(['instruments.BTC-PERP.multiplier']);
    expect(fields((s) => (s.population[0]!.collateral = [500, big]))).toEqual(['population.0.collateral.1']);
    expect(issuesOf(withAll((s) => (s.seed = big)))).toEqual([{ path: 'seed', message: 'a seed above 2^53 must be written as a string of digits, in quotes' }]);
    expect(fields((s) => (s.seed = 1234567890123456))).toEqual(['seed']); // 16 digits: 1234567890123456.4 reads the same
    expect(parseScenario(withAll((s) => (s.seed = '12345678901234567')), 'ok.yaml').seed).toBe(12345678901234567n);
    expect(fields((s) => (s.events = [{ type: 'Deposited', ts: '2020-03-12T10:30:00Z', account: 'mm', asset: 'USD', amount: big }]))).toEqual(['events.0.amount']);
    expect(fields((s) => (s.events = [{ type: 'MarketMoved', ts: '2020-03-12T10:30:00Z', marks: [{ instrument: 'BTC-PERP', price: big }] }]))).toEqual(['events.0.marks.0.price']);
  });
});

describe('fields checked against the limits of the events they generate (defect 5)', () => {
  const long = 'x'.repeat(200);

  it.each<[string, (s: Raw) => void, string]>([
    ['an underlying', (s) => (s.instruments['BTC-PERP']!.underlying = long), 'instruments.BTC-PERP.underlying'],
    ['a settlement asset', (s) => (s.instruments['BTC-PERP']!.settlementAsset = long), 'instruments.BTC-PERP.settlementAsset'],
    ['an account asset', (s) => (s.accounts.mm!.asset = long), 'accounts.mm.asset'],
    ['a population counterparty', (s) => (s.population[0]!.counterparty = long), 'population.0.counterparty'],
  ])('refuses %s of more than 128 characters at its field', (_what, mutate, path) => {
    expect(issuesOf(withAll(mutate))).toContainEqual({ path, message: 'must be at most 128 characters' });
  });

  it('refuses an instrument or account id of more than 128 characters at its key', () => {
    const issues = issuesOf(withAll((s) => (s.accounts[long] = { deposit: '1' })));
    expect(issues).toEqual([{ path: `accounts.${long}`, message: 'the id must be at most 128 characters' }]);
  });

  it.each<[string, (s: Raw) => void, string, string]>([
    ['an underlying', (s) => (s.instruments['BTC-PERP']!.underlying = 'B\u001b[2JTC'), 'instruments.BTC-PERP.underlying', 'U+001B at index 1'],
    ['an account asset', (s) => (s.accounts.mm!.asset = 'US\u0000D'), 'accounts.mm.asset', 'U+0000 at index 2'],
    ['a population counterparty', (s) => (s.population[0]!.counterparty = 'm\u009bm'), 'population.0.counterparty', 'U+009B at index 1'],
  ])('refuses %s holding a control character at its field', (_what, mutate, path, where) => {
    expect(issuesOf(withAll(mutate))).toContainEqual({ path, message: `must not contain control characters (${where})` });
  });

  it('refuses an instrument or account id holding a control character at its key', () => {
    const issues = issuesOf(withAll((s) => (s.accounts['a\u007fb'] = { deposit: '1' })));
    expect(issues).toEqual([{ path: 'accounts.a\u007fb', message: 'the id must not contain control characters (U+007F at index 1)' }]);
    // letters of any script and symbols stay ids
    expect(parseScenario(withAll((s) => (s.accounts['ünï-😀'] = { deposit: '1' })), 'ok.yaml').accounts['ünï-😀']).toBeDefined();
  });

  it('refuses a prefix whose trade ids (open-<prefix>-<n>) would pass 128 characters, with the longest it may be', () => {
    // count 3: "open-" + prefix + "-3" — at most 121 characters of prefix
    expect(parseScenario(withAll((s) => (s.population[0]!.prefix = 'p'.repeat(121))), 'ok.yaml').population[0]!.prefix).toHaveLength(121);
    expect(issuesOf(withAll((s) => (s.population[0]!.prefix = 'p'.repeat(122))))).toEqual([
      { path: 'population.0.prefix', message: 'must be at most 121 characters with a count of 3: its trade ids "open-<prefix>-<n>" are ids of at most 128 characters' },
    ]);
  });

  it('refuses a token id whose generated ids (issue-<token>-<n>) would pass 128 characters', () => {
    const token = 'T'.repeat(121); // with one holder: "issue-" + token + "-1" is 129 characters
    expect(issuesOf(withAll((s) => (s.tokens = { [token]: { units: '10', nav: '1', holders: ['mm'] } })))).toEqual([
      { path: `tokens.${token}`, message: 'the token id must be at most 120 characters here: its generated ids "issue-<token>-<n>" are ids of at most 128 characters' },
    ]);
  });

  it.each<[string, Record<string, unknown>, { path: string; message: string }]>([
    ['an option without a strike', { kind: 'option', underlying: 'BTC-PERP', optionType: 'call', expiry: '2020-03-27T08:00:00Z' }, { path: 'instruments.BTC-C.strike', message: 'an option needs it' }],
    ['an option on an instrument not written before it', { kind: 'option', underlying: 'BTC', optionType: 'call', strike: '8000', expiry: '2020-03-27T08:00:00Z' }, { path: 'instruments.BTC-C.underlying', message: '"BTC" must be an instrument written before the option (e.g. kind index)' }],
    ['an inverse option', { kind: 'option', underlying: 'BTC-PERP', optionType: 'call', strike: '8000', expiry: '2020-03-27T08:00:00Z', payoff: 'inverse' }, { path: 'instruments.BTC-C.payoff', message: 'payoff inverse applies to perpetuals and futures, not to kind option' }],
  ])('refuses %s at the instrument, as the clearing core would refuse its listing', (_what, spec, issue) => {
    const s = withAll((r) => {
      r.instruments['BTC-C'] = spec;
      r.prices.paths['BTC-C'] = [{ at: '2020-03-12T10:00:00Z', price: '100' }];
    });
    expect(issuesOf(s)).toEqual([issue]);
  });

  it('accepts a complete option on an instrument written before it', () => {
    const s = withAll((r) => {
      r.instruments['BTC-C'] = { kind: 'option', underlying: 'BTC-PERP', optionType: 'call', strike: '8000', expiry: '2020-03-27T08:00:00Z' };
      r.prices.paths['BTC-C'] = [{ at: '2020-03-12T10:00:00Z', price: '100' }];
    });
    expect(parseScenario(s, 'ok.yaml').instruments['BTC-C']!.kind).toBe('option');
  });

  it('refuses instruments that settle in different assets, at the second one', () => {
    const issues = issuesOf(
      withAll((s) => {
        s.instruments['ETH-PERP'] = { kind: 'perpetual', underlying: 'ETH', settlementAsset: 'USDT' };
        s.prices.paths['ETH-PERP'] = [{ at: '2020-03-12T10:00:00Z', price: '200' }];
      }),
    );
    expect(issues).toEqual([
      { path: 'instruments.ETH-PERP.settlementAsset', message: '"USDT" is not "USD", the settlement asset of instruments.BTC-PERP: the instruments of a scenario settle in one asset, its cash asset' },
    ]);
  });

  it('refuses a deposit in an asset that is neither the cash asset nor a collateral asset of the rules, at the account', () => {
    // before: `case.yaml [generated event]:line 4: field "asset": asset "USD" is neither this shard's cash asset "abc" …`
    const s = parseScenario(withAll((r) => (r.instruments['BTC-PERP']!.settlementAsset = 'abc')), 'case.yaml');
    expect(issuesOf(s, (scenario) => generateInputs(scenario as typeof s, rules))).toEqual([
      { path: 'accounts.insurance.asset', message: '"USD" is neither the cash asset "abc" (the instruments\' settlementAsset) nor a collateral asset of rules "crypto-cross" (none; see rules.collateral)' },
      { path: 'accounts.mm.asset', message: '"USD" is neither the cash asset "abc" (the instruments\' settlementAsset) nor a collateral asset of rules "crypto-cross" (none; see rules.collateral)' },
    ]);
  });
});
