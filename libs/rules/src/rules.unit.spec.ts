import { instrumentRules, parseRules } from './rules';

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
