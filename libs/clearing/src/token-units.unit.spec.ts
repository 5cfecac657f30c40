import { at, Given, rulesFor } from './testing/given';
import { InputRejected } from './validate';

/** A 3× BTC token rebalanced by the mm (docs/rules.md §12): band [2, 4], IM 10 %, MM 5 %, no fee. */
const rules = (tokenOverrides: Record<string, unknown> = {}) =>
  rulesFor({
    marginCall: { graceSeconds: 0 },
    liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' },
    tokens: { BTCBULL: { instrument: 'BTC-PERP', account: 'bull', counterparty: 'mm', targetLeverage: '3', band: { min: '2', max: '4' }, ...tokenOverrides } },
  });

let requests = 0;
const create = (g: Given, account: string, units: string, extra: Record<string, unknown> = {}) => g.input({ type: 'TokenUnitsCreated', requestId: `c${++requests}`, account, token: 'BTCBULL', units, ...extra });
const redeem = (g: Given, account: string, units: string, extra: Record<string, unknown> = {}) => g.input({ type: 'TokenUnitsRedeemed', requestId: `r${++requests}`, account, token: 'BTCBULL', units, ...extra });

/** Alice issues 100 units at 100 (10,000 into the fund) at the mark 10,000; the fund buys 3 BTC at once. */
function issued(): Given {
  const g = new Given(rules());
  g.deposit('mm', '1000000').deposit('insurance', '1000').deposit('alice', '12000').deposit('bob', '5000');
  expect(g.price('10000')).toEqual([]);
  // the first creation gives the issue price: 100 × 100 = 10,000 paid by alice; the fund (NAV 10,000, no position,
  // leverage 0) trades to DP = 3 × 10,000 / 10,000 = 3 at once
  expect(create(g, 'alice', '100', { nav: '100' })).toEqual([
    { type: 'TokenRebalanced', ts: at(0), token: 'BTCBULL', account: 'bull', counterparty: 'mm', instrument: 'BTC-PERP', qty: '3', price: '10000', nav: '10000', leverage: '0', reason: 'creation' },
  ]);
  expect(g.cash('alice')).toBe('2000');
  return g;
}

/** The refusal of an input: its field and message; nothing may change (the whole state, as a snapshot writes it). */
function refusal(g: Given, act: () => unknown): string {
  const before = g.engine.snapshot();
  try {
    act();
  } catch (error) {
    if (!(error instanceof InputRejected)) throw error;
    expect(g.engine.snapshot()).toBe(before);
    return `${error.issues[0]!.field}: ${error.issues[0]!.message}`;
  }
  throw new Error('not refused');
}

describe('leveraged token units held by accounts (TokenUnitsCreated / TokenUnitsRedeemed)', () => {
  it('a creation pays NAV per unit × units into the fund, which buys back to 3× of the new NAV at once', () => {
    const g = issued();
    // 9,000: NAV 10,000 − 3 × 1,000 = 7,000, leverage 27,000 / 7,000 = 3.857 (in band): nothing; NAV per unit 7,000 / 100 = 70
    expect(g.at(60).price('9000')).toEqual([]);
    expect(g.account('alice').tokens).toEqual({ BTCBULL: { units: '100', navPerUnit: '70', value: '7000' } });
    // bob creates 30 units: 30 × 7,000 / 100 = 2,100 paid. NAV 9,100, leverage 27,000 / 9,100 = 2.96703296;
    // DP = 3 × 9,100 / 9,000 = 3.033333… → 3.03333333 (toward zero): the fund buys 0.03333333 at the mark
    expect(create(g, 'bob', '30')).toEqual([
      { type: 'TokenRebalanced', ts: at(60), token: 'BTCBULL', account: 'bull', counterparty: 'mm', instrument: 'BTC-PERP', qty: '0.03333333', price: '9000', nav: '9100', leverage: '2.96703296', reason: 'creation' },
    ]);
    expect(g.cash('bob')).toBe('2900');
    // NAV per unit unchanged by the creation: 9,100 / 130 = 70; the token value is not collateral (bob's equity is his cash)
    expect(g.account('bob')).toMatchObject({ equity: '2900', tokens: { BTCBULL: { units: '30', navPerUnit: '70', value: '2100' } } });
    expect(g.account('bull')).toMatchObject({ equity: '9100', positions: { 'BTC-PERP': expect.objectContaining({ qty: '3.03333333' }) } });
    expect(g.engine.state.tokenUnits?.get('BTCBULL')).toEqual({ outstanding: 13_000_000_000n, holders: new Map([['alice', 10_000_000_000n], ['bob', 3_000_000_000n]]) });
  });

  it('a redemption pays NAV per unit × units rounded down, and the fund sells back to 3× of what is left', () => {
    const g = issued();
    g.at(60).price('9000');
    create(g, 'bob', '30');
    // 9,500: NAV 9,100 + 3.03333333 × 500 = 10,616.666665; alice redeems her 100 of 130 units:
    // 100 × 10,616.666665 / 130 = 8,166.666665384… → 8,166.66666538 (rounded down, against the holder)
    expect(g.at(120).price('9500')).toEqual([]);
    // the fund's NAV after: 10,616.666665 − 8,166.66666538 = 2,449.99999962; leverage 3.03333333 × 9,500 / 2,449.99999962
    // = 11.76190475; DP = 3 × 2,449.99999962 / 9,500 = 0.77368421 → sells 3.03333333 − 0.77368421 = 2.25964912
    expect(redeem(g, 'alice', '100')).toEqual([
      { type: 'TokenRebalanced', ts: at(120), token: 'BTCBULL', account: 'bull', counterparty: 'mm', instrument: 'BTC-PERP', qty: '-2.25964912', price: '9500', nav: '2449.99999962', leverage: '11.76190475', reason: 'redemption' },
    ]);
    // 2,000 left after the creation + 8,166.66666538
    expect(g.cash('alice')).toBe('10166.66666538');
    expect(g.account('alice').tokens).toBeUndefined();
    // bob's 30 units are now all of them: NAV per unit 2,449.99999962 / 30 = 81.66666665 (truncated)
    expect(g.account('bob').tokens).toEqual({ BTCBULL: { units: '30', navPerUnit: '81.66666665', value: '2449.99999962' } });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('the last units redeemed take the whole NAV, and the emptied fund closes its position', () => {
    const g = issued();
    // alice holds all 100 units: 100 × 10,000 / 100 = 10,000; the fund's NAV is then exactly 0: it sells its 3
    expect(redeem(g, 'alice', '100')).toEqual([
      { type: 'TokenRebalanced', ts: at(0), token: 'BTCBULL', account: 'bull', counterparty: 'mm', instrument: 'BTC-PERP', qty: '-3', price: '10000', nav: '0', leverage: '0', reason: 'redemption' },
    ]);
    expect(g.cash('alice')).toBe('12000');
    expect(g.account('bull')).toMatchObject({ equity: '0', positions: {} });
    expect(g.engine.state.tokenUnits?.get('BTCBULL')).toEqual({ outstanding: 0n, holders: new Map() });
    // a new issue needs an issue price again
    expect(create(g, 'bob', '10', { nav: '50' }).map((d) => [d.reason, d.qty, d.nav])).toEqual([['creation', '0.15', '500']]);
  });

  it('fees (creationFee, redemptionFee) go to the fees account, rounded up: on top of a creation, out of a redemption', () => {
    const g = new Given(rules({ creationFee: '0.001', redemptionFee: '0.002' }));
    g.deposit('mm', '1000000').deposit('alice', '12000').deposit('bob', '100');
    g.price('10000');
    // 100 units × 100 = 10,000 to the fund + 0.1 % = 10 to the fees account: alice pays 10,010
    expect(create(g, 'alice', '100', { nav: '100' }).map((d) => [d.qty, d.nav])).toEqual([['3', '10000']]);
    expect([g.cash('alice'), g.cash('fees')]).toEqual(['1990', '10']);
    // 9,000: NAV 7,000 (70 a unit). Alice redeems 50: 50 × 7,000 / 100 = 3,500 from the fund, 0.2 % = 7 to the fees
    // account, 3,493 to her. The fund's NAV 3,500, leverage 27,000 / 3,500 = 7.71428571; DP = 3 × 3,500 / 9,000 =
    // 1.16666666 → sells 1.83333334
    g.at(60).price('9000');
    expect(redeem(g, 'alice', '50').map((d) => [d.qty, d.nav, d.leverage])).toEqual([['-1.83333334', '3500', '7.71428571']]);
    expect([g.cash('alice'), g.cash('fees')]).toEqual(['5483', '17']);
    // bob creates 0.33333333 units: 0.33333333 × 3,500 / 50 = 23.3333331 to the fund; fee 0.0233333331 → 0.02333334
    // (up): he pays 23.35666644
    create(g, 'bob', '0.33333333');
    expect([g.cash('bob'), g.cash('fees')]).toEqual(['76.64333356', '17.02333334']);
    // 1 unit would cost 70 + 0.07: the refusal names both
    expect(() => create(g, 'bob', '1.1')).toThrow('1.1 units of token "BTCBULL" cost 77.077 (77 at NAV + fee 0.077); account "bob" has 76.64333356 cash');
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('with no mark yet the cash moves and the fund waits; the next input with a mark buys the basket (band below 2)', () => {
    const g = new Given(rules());
    g.deposit('mm', '1000000').deposit('alice', '5000');
    expect(create(g, 'alice', '10', { nav: '250' })).toEqual([]);
    expect(g.account('bull')).toMatchObject({ cash: '2500', positions: {} });
    // the first mark: leverage 0 < 2 → DP = 3 × 2,500 / 10,000 = 0.75
    expect(g.price('10000').map((d) => [d.reason, d.qty])).toEqual([['band', '0.75']]);
  });

  it('is idempotent by requestId: a retry is ignored, other content under the same id refused', () => {
    const g = issued();
    const retry = { type: 'TokenUnitsCreated', requestId: 'same', account: 'bob', token: 'BTCBULL', units: '1' };
    g.input(retry);
    expect(g.input(retry)).toEqual([]);
    expect(g.account('bob').tokens).toEqual({ BTCBULL: { units: '1', navPerUnit: '100', value: '100' } });
    expect(g.engine.summary()).toMatchObject({ duplicates: 1 });
    expect(refusal(g, () => g.input({ ...retry, units: '2' }))).toMatch(/^requestId: requestId "same" was already used with different content/);
  });

  it('refuses what cannot apply, naming the field, and changes nothing', () => {
    const g = issued();
    expect(refusal(g, () => g.input({ type: 'TokenUnitsCreated', requestId: 'x1', account: 'bob', token: 'ETHBULL', units: '1' }))).toBe('token: unknown token "ETHBULL" (rules "test" define BTCBULL)');
    // a member of every object is no token of the rules
    for (const token of ['constructor', 'toString', '__proto__']) {
      expect(refusal(g, () => g.input({ type: 'TokenUnitsCreated', requestId: `x-${token}`, account: 'bob', token, units: '1' }))).toBe(`token: unknown token "${token}" (rules "test" define BTCBULL)`);
    }
    expect(refusal(g, () => create(g, 'carol', '1'))).toBe('account: unknown account "carol" (an account exists once it has a Deposited event)');
    // an id is quoted escaped (an id with a control character the codec refuses before: libs/rules/src/id-characters.ts)
    expect(refusal(g, () => create(g, 'a"b\\', '1'))).toBe('account: unknown account "a\\"b\\\\" (an account exists once it has a Deposited event)');
    expect(() => create(g, 'a\u001b[2Jb', '1')).toThrow('field "account": must not contain control characters (U+001B at index 1)');
    expect(refusal(g, () => create(g, 'insurance', '1'))).toBe('account: "insurance" is a system account: it holds no token units');
    expect(refusal(g, () => create(g, 'bull', '1'))).toBe('account: "bull" is the fund of token "BTCBULL": it cannot hold its own units');
    expect(refusal(g, () => create(g, 'bob', '1', { nav: '5' }))).toBe('nav: token "BTCBULL" has units outstanding: their NAV per unit is the fund\'s, not given (leave out nav)');
    // 60 units × 100 = 6,000 > bob's 5,000 cash
    expect(refusal(g, () => create(g, 'bob', '60'))).toBe('units: 60 units of token "BTCBULL" cost 6000; account "bob" has 5000 cash and would be left with free collateral -1000 (it must stay ≥ 0)');
    expect(refusal(g, () => redeem(g, 'bob', '1'))).toBe('units: account "bob" holds 0 units of token "BTCBULL", fewer than 1');
    expect(refusal(g, () => redeem(g, 'alice', '100.00000001'))).toBe('units: account "alice" holds 100 units of token "BTCBULL", fewer than 100.00000001');
    // alice opens a position that needs her cash as margin: 2,000 − 1,000 (units) leaves 1,000 < IM 10 % × 15,000 = 1,500
    g.trade('alice', 'mm', '1.5', '10000');
    expect(refusal(g, () => create(g, 'alice', '10'))).toBe('units: 10 units of token "BTCBULL" cost 1000; account "alice" has 2000 cash and would be left with free collateral -500 (it must stay ≥ 0)');

    const fresh = new Given(rules());
    fresh.deposit('alice', '1000');
    expect(refusal(fresh, () => create(fresh, 'alice', '1'))).toBe('nav: token "BTCBULL" has no units outstanding: its first creation gives the issue price per unit (nav)');
    const noTokens = new Given();
    noTokens.deposit('alice', '1000');
    expect(refusal(noTokens, () => create(noTokens, 'alice', '1', { nav: '1' }))).toBe('token: unknown token "BTCBULL" (rules "test" define no tokens)');
  });

  it('refuses units that are not positive or too precise in the schema, naming the field', () => {
    const g = issued();
    expect(() => create(g, 'bob', '0')).toThrow(/units/);
    expect(() => create(g, 'bob', '-1')).toThrow(/units/);
    expect(() => create(g, 'bob', '0.000000001')).toThrow(/units/);
  });
});
