import { instrumentRules, parseRules, RulesError } from './rules';

const base = { name: 't', accounts: { insurance: 'i', fees: 'f', backstop: 'b' } };

describe('rules validation across models', () => {
  it.each([
    [{ model: 'portfolio', portfolio: { underlyings: { BTC: { priceScanRange: '0.1' } } }, isolatedAccounts: ['alice'] }, /isolatedAccounts: isolated margin applies to the tiered models/],
    [{ model: 'cross', instruments: {}, dynamic: { referenceVolatility: '0.5', floor: '2', cap: '1' } }, /dynamic\.floor: floor must not exceed cap/],
    [{ model: 'cross', instruments: {}, dynamic: { referenceVolatility: '0.5', antiProcyclicality: { kind: 'stressed-weight', weight: '1.5', stressedVolatility: '1' } } }, /weight: must be at most 1/],
    [{ model: 'portfolio', portfolio: { underlyings: { BTC: { priceScanRange: '0.1' }, ETH: { priceScanRange: '0.1' } }, groups: [{ members: ['BTC', 'ETH'], offset: '0.5' }, { members: ['ETH', 'BTC'], offset: '0.2' }] } }, /already in group 0/],
    [{ model: 'lending', lending: { assets: { ETH: { ltv: '0.9', liquidationThreshold: '0.8' } } } }, /ltv must not exceed liquidationThreshold/],
    [{ model: 'var' }, /model: var needs a var section/],
  ])('refuses %j', (rules, message) => {
    expect(() => parseRules({ ...base, ...rules })).toThrow(message);
  });
});

describe('the accounts the rules name', () => {
  const cross = { ...base, model: 'cross', instruments: {} };
  const token = { instrument: 'BTC-PERP', account: 'bull', counterparty: 'mm', targetLeverage: '3', band: { max: '4' } };
  const issuesOf = (rules: Record<string, unknown>): { path: string; message: string }[] => {
    try {
      parseRules(rules, 'r.yaml');
    } catch (error) {
      if (error instanceof RulesError) return error.issues;
      throw error;
    }
    throw new Error('parsed');
  };

  it.each<[string, Record<string, unknown>, string, string]>([
    ['the insurance account', { ...cross, accounts: { ...base.accounts, insurance: 'ins\u001b[2J' } }, 'accounts.insurance', 'U+001B at index 3'],
    ['the fees account', { ...cross, accounts: { ...base.accounts, fees: '\u0000' } }, 'accounts.fees', 'U+0000 at index 0'],
    ['the backstop account', { ...cross, accounts: { ...base.accounts, backstop: 'back\nstop' } }, 'accounts.backstop', 'U+000A at index 4'],
    ['an isolated account', { ...cross, isolatedAccounts: ['alice', 'bob\u007f'] }, 'isolatedAccounts.1', 'U+007F at index 3'],
    ['a token\'s fund', { ...cross, tokens: { BULL: { ...token, account: 'bull\u009b' } } }, 'tokens.BULL.account', 'U+009B at index 4'],
    ['a token\'s counterparty', { ...cross, tokens: { BULL: { ...token, counterparty: '\tmm' } } }, 'tokens.BULL.counterparty', 'U+0009 at index 0'],
    ['a high-leverage account', { ...cross, venueMargin: { highLeverageAccounts: ['hl\u0085'] } }, 'venueMargin.highLeverageAccounts.0', 'U+0085 at index 2'],
  ])('refuse a control character in %s, naming the field', (_what, rules, path, where) => {
    expect(issuesOf(rules)).toEqual([{ path, message: `must not contain control characters (${where})` }]);
  });

  it('may hold letters of any script, symbols and spaces', () => {
    const rules = parseRules({ ...cross, accounts: { insurance: 'страховой фонд', fees: '手数料', backstop: 'back-stop 😀' }, isolatedAccounts: ['ünï'] });
    expect(rules.accounts).toEqual({ insurance: 'страховой фонд', fees: '手数料', backstop: 'back-stop 😀' });
  });
});

describe('instrumentRules', () => {
  const tiers = [{ initialRate: '0.1', maintenanceRate: '0.05' }];
  it('reads an own entry of instruments, else the "*" default, never a member of Object.prototype', () => {
    const withDefault = parseRules({ ...base, model: 'cross', instruments: { '*': { tiers }, 'BTC-PERP': { tiers: [{ initialRate: '0.2', maintenanceRate: '0.1' }] } } });
    expect(instrumentRules(withDefault, 'BTC-PERP')).toBe(withDefault.instruments['BTC-PERP']);
    for (const id of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) expect(instrumentRules(withDefault, id)).toBe(withDefault.instruments['*']);
    const without = parseRules({ ...base, model: 'cross', instruments: { 'BTC-PERP': { tiers } } });
    for (const id of ['constructor', 'toString', '__proto__']) expect(instrumentRules(without, id)).toBeUndefined();
  });
});
