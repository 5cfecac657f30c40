import fc from 'fast-check';
import { deposit, emptyLedger, ensureAccount, moveCollateral, trade, type Instrument, type LedgerState } from '@clearsim/ledger';
import { fromNumber, parseFixed, toNumber, type Fixed } from '@clearsim/money';
import { parseRules, RulesError, type Rules } from '@clearsim/rules';
import { blendedCollateralPrice, collateralInitialAddOn, collateralValue, tieredCollateralValue } from './collateral';
import { bandsFor, type Band } from './price-bands';
import { callLevelOf, computeRisk } from './risk';
import { driftHighLeverageInitialRatio, driftSizePremiumRatio, openInterestOf, openInterestScaledPpm, venuePositionMargin } from './venue-margin';

const f = parseFixed;

function rules(overrides: Record<string, unknown>): Rules {
  return parseRules({
    name: 'venue',
    model: 'cross',
    accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
    instruments: { '*': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } },
    ...overrides,
  });
}

function listed(ledger: LedgerState, id: string, mark: string, openInterest?: string): Instrument {
  const instrument: Instrument = { id, kind: 'perpetual', settlementAsset: 'USD', multiplier: f('1'), premiumStyle: false, settled: false, mark: f(mark), openInterest: openInterest === undefined ? undefined : f(openInterest) };
  ledger.instruments.set(id, instrument);
  return instrument;
}

/** IM and MM of a position of `qty` at the instrument's mark, owned by `account`. */
function margins(r: Rules, ledger: LedgerState, instrument: Instrument, qty: string, account = 'alice'): { initialMargin: Fixed; maintenanceMargin: Fixed } {
  const tier = (r.instruments[instrument.id] ?? r.instruments['*'])!.tiers[0]!;
  const notional = (f(qty) < 0n ? -f(qty) : f(qty)) * instrument.mark! / 100_000_000n;
  return venuePositionMargin(ledger, r, account, instrument, f(qty), tier, notional)!;
}

describe('dYdX v4 open-interest-scaled initial margin', () => {
  // dydxprotocol/v4-chain protocol/x/perpetuals/types/liquidity_tier.go, GetAdjustedInitialMarginPpm: "Effective IMF =
  // Min(Base IMF + Max(IMF Increase, 0), 1.0)", IMF Increase = (open notional − lower cap)/(upper − lower) × (1 − base),
  // computed in ppm as base + ⌊(10^6 − base) × (oi − lower) / (upper − lower)⌋; the IMR rounds up (BigMulPpm(…, true)).
  // The cases are liquidity_tier_test.go's TestGetAdjustedInitialMarginPpm (base 200,000 ppm, caps 1,000,000 / 2,000,000).
  it.each([
    ['zero open interest', 0n, 200_000n],
    ['at the lower cap', 1_000_000n, 200_000n],
    ['mid-range: 200,000 + 800,000 × 0.5', 1_500_000n, 600_000n],
    ['0.2 + 0.234567 × 0.8 = 0.3876536, floored to 387,653 ppm', 1_234_567n, 387_653n],
    ['at the upper cap', 2_000_000n, 1_000_000n],
    ['above the upper cap', 2_500_000n, 1_000_000n],
  ])('%s', (_case, openNotional, ppm) => {
    expect(openInterestScaledPpm(200_000n, openNotional, 1_000_000n, 2_000_000n)).toBe(ppm);
  });

  it('reproduces TestGetInitialMarginQuoteQuantums "realistic numbers" (in USDC rather than quote quantums)', () => {
    // base 20 %, caps 25,000,000 / 60,000,000 USDC, open notional 28,123,456.789123 USDC, position 0.5 USDC:
    // ppm = 200,000 + ⌊800,000 × 3,123,456.789123 / 35,000,000⌋ = 200,000 + ⌊71,393.298…⌋ = 271,393;
    // IMR = 0.5 × 0.271393 = 0.1356965 USDC. dYdX rounds up to its quote quantum (10^-6 USDC): 135,697 quantums, as its
    // test expects; clearsim rounds up to the ledger's 10^-8, where 0.1356965 is exact.
    const r = rules({
      instruments: { '*': { tiers: [{ initialRate: '0.2', maintenanceRate: '0.12' }] } },
      venueMargin: { instruments: { '*': { openInterestScaling: { lowerCap: '25000000', upperCap: '60000000' } } } },
    });
    const ledger = emptyLedger();
    const btc = listed(ledger, 'BTC-USD', '1', '28123456.789123');
    expect(margins(r, ledger, btc, '0.5')).toEqual({ initialMargin: f('0.1356965'), maintenanceMargin: f('0.06') }); // MM = 0.5 × 12 %, not scaled
    btc.openInterest = f('25000000'); // at the lower cap: the base IMF, 0.5 × 0.2
    expect(margins(r, ledger, btc, '0.5').initialMargin).toBe(f('0.1'));
    btc.openInterest = f('42500000'); // half-way: 0.2 + 0.8 × 0.5 = 0.6
    expect(margins(r, ledger, btc, '0.5').initialMargin).toBe(f('0.3'));
    btc.openInterest = f('80000000'); // beyond the upper cap: IMF 1, the whole notional
    expect(margins(r, ledger, btc, '-0.5').initialMargin).toBe(f('0.5'));
  });

  it('takes the chosen leverage as a floor on the IMF, never a discount', () => {
    // liquidity_tier.go GetInitialMarginQuoteQuantums: "use the configured IMF if it is greater than the OI scaled IMF".
    // Base 5 % (20×): leverage 10 → IMF 10 %; leverage 50 → 2 % < 5 %, the base stays; with the OI-scaled IMF at
    // 0.05 + 0.95 × 0.5 = 52.5 %, leverage 10's 10 % is below it.
    const r = rules({
      instruments: { '*': { tiers: [{ initialRate: '0.05', maintenanceRate: '0.03' }] } },
      venueMargin: {
        instruments: { '*': { openInterestScaling: { lowerCap: '1000000', upperCap: '3000000' } } },
        leverage: { alice: { '*': '10' }, bob: { 'BTC-USD': '50' } },
      },
    });
    const ledger = emptyLedger();
    const btc = listed(ledger, 'BTC-USD', '50000', '10');
    // 1 BTC at 50,000: IM 10 % = 5,000 (alice), 5 % = 2,500 (bob), 5 % (carol, no choice)
    expect(margins(r, ledger, btc, '1', 'alice').initialMargin).toBe(f('5000'));
    expect(margins(r, ledger, btc, '1', 'bob').initialMargin).toBe(f('2500'));
    expect(margins(r, ledger, btc, '1', 'carol').initialMargin).toBe(f('2500'));
    btc.openInterest = f('40'); // open notional 2,000,000: IMF 52.5 % → 26,250 for everyone
    expect(margins(r, ledger, btc, '1', 'alice').initialMargin).toBe(f('26250'));
    expect(margins(r, ledger, btc, '1', 'alice').maintenanceMargin).toBe(f('1500'));
  });

  it('keeps the open interest as trades open and close positions', () => {
    const ledger = emptyLedger();
    const btc = listed(ledger, 'BTC-USD', '100', '0');
    const [a, b, c] = ['a', 'b', 'c'].map((id) => ensureAccount(ledger, id, false));
    trade(ledger, a!, b!, btc, f('3'), f('100')); // a +3, b −3: OI 3
    trade(ledger, b!, c!, btc, f('5'), f('100')); // b +2, c −5: OI 3 + 2 = 5
    expect(btc.openInterest).toBe(f('5'));
    trade(ledger, c!, a!, btc, f('5'), f('100')); // c 0, a −2: longs b 2 → OI 2
    expect(btc.openInterest).toBe(f('2'));
    // a state without the field (an old snapshot): counted once from the holders
    btc.openInterest = undefined;
    expect(openInterestOf(ledger, btc)).toBe(f('2'));
  });
});

describe('Drift v2 size-scaled margin ratio and high-leverage mode', () => {
  // drift-labs/protocol-v2 programs/drift/src/math/margin.rs calculate_size_premium_liability_weight: size_sqrt =
  // ⌊√(size × 10 + 1)⌋ (size in 10^-9), premium = ⌊size_sqrt × imf_factor / 10^7⌋ (imf_factor in 10^-6), ratio =
  // MR − ⌊MR/5⌋ + premium (10^-4), bounded by max(MR, ·). Cases from programs/drift/src/state/perp_market/tests.rs
  // new_hlm_imf_size: MR 1,000 / 500 (10 % / 5 %), high-leverage 100 / 50 (1 % / 0.5 %), imf_factor 50.
  const BASE = 1_000_000_000n;
  it('normal mode, 1,000,000 base: ⌊√10^16⌋ = 10^8, premium ⌊10^8 × 50 / 10^7⌋ = 500; 1,000 − 200 + 500 = 1,300', () => {
    expect(driftSizePremiumRatio(BASE * 1_000_000n, 50n, 1_000n, true)).toBe(1_300n);
  });
  it.each([
    // size 0.1: premium ⌊√(10^9+1)=31,622 × 50 / 10^7⌋ = 0; adjusted 800 < 1,000: factor 1 − 200/200 = 0 → the high-leverage 100
    ['0.1', BASE / 10n, 100n],
    ['1', BASE, 100n],
    // size 10: premium ⌊316,227 × 50 / 10^7⌋ = 1; adjusted 801; factor 10^6 − ⌊199 × 10^6 / 200⌋ = 5,000;
    // 100 + ⌊900 × 5,000 / 10^6⌋ = 104 ("slightly under 100x at 10 base")
    ['10', BASE * 10n, 104n],
    // size 3,000: premium ⌊5,477,225 × 50 / 10^7⌋ = 27; adjusted 827; factor 10^6 − 865,000 = 135,000; 100 + ⌊121.5⌋ = 221
    ['3000', BASE * 3_000n, 221n],
  ])('high-leverage initial ratio at size %s', (_size, size9, expected) => {
    const adjusted = driftSizePremiumRatio(size9, 50n, 1_000n, false);
    expect(driftHighLeverageInitialRatio(1_000n, adjusted, 100n)).toBe(expected);
  });
  it.each([
    ['3000', BASE * 3_000n, 67n], // 50 − 10 + 27 ("hardly changed")
    ['300000', BASE * 300_000n, 313n], // 50 − 10 + ⌊54,772,255 × 50 / 10^7⌋ = 40 + 273 ("changed more at large size")
  ])('high-leverage maintenance ratio at size %s', (_size, size9, expected) => {
    expect(driftSizePremiumRatio(size9, 50n, 50n, true)).toBe(expected);
  });

  it('margins a position through the rule set: the ratios × the notional, rounded up', () => {
    const r = rules({
      venueMargin: {
        instruments: { '*': { sizeScaling: { kind: 'sqrt-premium', imfFactor: '0.00005', highLeverage: { initialRate: '0.01', maintenanceRate: '0.005' } } } },
        highLeverageAccounts: ['hl'],
      },
    });
    const ledger = emptyLedger();
    const sol = listed(ledger, 'SOL-PERP', '100');
    // normal, 1,000,000 SOL at 100 (notional 10^8): IM 13 % = 13,000,000; MM 500 − 100 + 500 = 900 → 9 % = 9,000,000
    expect(margins(r, ledger, sol, '1000000', 'alice')).toEqual({ initialMargin: f('13000000'), maintenanceMargin: f('9000000') });
    // high-leverage, 10 SOL (notional 1,000): IM 1.04 % = 10.4; MM max(50, 41) = 0.5 % = 5
    expect(margins(r, ledger, sol, '10', 'hl')).toEqual({ initialMargin: f('10.4'), maintenanceMargin: f('5') });
    // high-leverage, 3,000 SOL short (notional 300,000): IM 2.21 % = 6,630; MM 0.67 % = 2,010
    expect(margins(r, ledger, sol, '-3000', 'hl')).toEqual({ initialMargin: f('6630'), maintenanceMargin: f('2010') });
  });
});

describe('Deribit linear-in-size margin', () => {
  // https://support.deribit.com/hc/en-us/articles/25944738177565-Linear-Perpetual ("Margin calculation examples"):
  // BTC_USDC at 100,000: IM 2 % + (size in BTC) × 0.005 %, MM 1 % + size × 0.005 %; SOL_USDC at 200: IM 4 % + size ×
  // 0.0005 %, MM 2 % + size × 0.0005 %.
  const r = rules({
    instruments: {
      BTC_USDC: { tiers: [{ initialRate: '0.02', maintenanceRate: '0.01' }] },
      SOL_USDC: { tiers: [{ initialRate: '0.04', maintenanceRate: '0.02' }] },
    },
    venueMargin: {
      instruments: {
        BTC_USDC: { sizeScaling: { kind: 'linear', initialPerUnit: '0.00005', maintenancePerUnit: '0.00005' } },
        SOL_USDC: { sizeScaling: { kind: 'linear', initialPerUnit: '0.000005', maintenancePerUnit: '0.000005' } },
      },
    },
  });
  const ledger = emptyLedger();
  const btc = listed(ledger, 'BTC_USDC', '100000');
  const sol = listed(ledger, 'SOL_USDC', '200');
  it.each([
    // "2% + 25 * 0.005% = 2.125% … 53,125 USDC"; "1% + 25 * 0.005% = 1.125% … 28,125 USDC"
    ['25 BTC', btc, '25', '53125', '28125'],
    // "2% + 350 * 0.005% = 3.75% … 1,312,500 USDC"; MM 1 % + 1.75 % = 2.75 % of 35,000,000 = 962,500 (the page's cell is cut)
    ['350 BTC', btc, '350', '1312500', '962500'],
    // "4% + 25 * 0.0005% = 4.0125% … 200.625 USDC"; "2.0125% … 100.625 USDC"
    ['25 SOL', sol, '25', '200.625', '100.625'],
    // "4% + 6000 * 0.0005% = 7% … 84,000 USDC"; MM 2 % + 3 % = 5 % of 1,200,000 = 60,000
    ['6000 SOL', sol, '-6000', '84000', '60000'],
  ])('%s', (_case, instrument, qty, im, mm) => {
    expect(margins(r, ledger, instrument, qty)).toEqual({ initialMargin: f(im), maintenanceMargin: f(mm) });
  });
});

describe('Coinbase International √(size / ADV) margin', () => {
  // Coinbase International Exchange Leverage and Margin Trading Policy (coinbase.com/international-exchange/legal/
  // leverage-and-margin-policy): "Initial Margin is calculated as the max (BIM, RP * √ CoH)", CoH the position as a
  // share of the 30-day average daily traded quantity; "Maintenance Margin is calculated as (IM * ⅔)". The policy
  // publishes no worked example nor its risk parameters: hand-computed from the formula, BIM 20 % (BTC-PERP's default
  // initial margin), RP 0.5, ADV 10,000 BTC.
  const r = rules({
    instruments: { '*': { tiers: [{ initialRate: '0.2', maintenanceRate: '0.13333334' }] } },
    venueMargin: { instruments: { '*': { sizeScaling: { kind: 'sqrt-volume', riskParameter: '0.5', averageDailyVolume: '10000' } } } },
  });
  const ledger = emptyLedger();
  const btc = listed(ledger, 'BTC-PERP', '50000');
  it('below the base: 100 BTC, 0.5 × √0.01 = 5 % < 20 %: IM 1,000,000, MM ⌈666,666.666…⌉ = 666,666.66666667', () => {
    expect(margins(r, ledger, btc, '100')).toEqual({ initialMargin: f('1000000'), maintenanceMargin: f('666666.66666667') });
  });
  it('above it: 2,500 BTC, 0.5 × √0.25 = 25 %: IM 31,250,000, MM 20,833,333.33333334', () => {
    expect(margins(r, ledger, btc, '-2500')).toEqual({ initialMargin: f('31250000'), maintenanceMargin: f('20833333.33333334') });
  });
});

describe('venue collateral', () => {
  it('tiered haircuts by value held, slice by slice', () => {
    // Binance's collateral ratio tiers ("Portfolio Margin collateral ratio", tiered by the USD value held) as a
    // hand-computed example: 600,000 held, tiers ≤ 100,000 at 5 %, ≤ 500,000 at 10 %, above at 30 %:
    // 100,000 × 0.95 + 400,000 × 0.9 + 100,000 × 0.7 = 95,000 + 360,000 + 70,000 = 525,000
    const tiers = [{ upToValue: f('100000'), haircut: f('0.05') }, { upToValue: f('500000'), haircut: f('0.1') }, { haircut: f('0.3') }];
    expect(tieredCollateralValue(f('600000'), tiers)).toBe(f('525000'));
    expect(tieredCollateralValue(f('50000'), tiers)).toBe(f('47500')); // within the first tier
    expect(tieredCollateralValue(f('300000'), tiers)).toBe(f('275000')); // 95,000 + 200,000 × 0.9
    const r = rules({
      collateral: { BNB: { haircut: '0.05' } },
      venueMargin: { collateral: { BNB: { valueTiers: [{ upToValue: '100000', haircut: '0.05' }, { upToValue: '500000', haircut: '0.1' }, { haircut: '0.3' }] } } },
    });
    const ledger = emptyLedger();
    listed(ledger, 'BNB', '600');
    const alice = ensureAccount(ledger, 'alice', false);
    moveCollateral(ledger, alice, 'BNB', f('1000')); // 1,000 BNB × 600 = 600,000 held
    expect(collateralValue(ledger, r, alice)).toBe(f('525000'));
  });

  it('a blended mark with a floor (stablecoins after 2025-10-10)', () => {
    // USDe at a market 0.65, redemption 1, market weight 0.2: 0.2 × 0.65 + 0.8 × 1 = 0.93; floor 0.95 → 0.95
    expect(blendedCollateralPrice(f('0.65'), f('1'), f('0.2'), f('0.95'))).toBe(f('0.95'));
    expect(blendedCollateralPrice(f('0.65'), f('1'), f('0.2'), 0n)).toBe(f('0.93'));
    const r = rules({ collateral: { USDE: { haircut: '0.1' } }, venueMargin: { collateral: { USDE: { blendedMark: { redemptionPrice: '1', marketWeight: '0.2', floor: '0.95' } } } } });
    const ledger = emptyLedger();
    listed(ledger, 'USDE', '0.65');
    const alice = ensureAccount(ledger, 'alice', false);
    moveCollateral(ledger, alice, 'USDE', f('10000'));
    expect(collateralValue(ledger, r, alice)).toBe(f('8550')); // 10,000 × 0.95 × 0.9 (the market alone: 5,850)
  });

  it('Drift deposit-scaled initial weight: initial margin only', () => {
    // drift-labs/protocol-v2 programs/drift/src/state/spot_market.rs get_scaled_initial_asset_weight: "if deposit_value <
    // scale_initial_asset_weight_start { initial_asset_weight } else { initial_asset_weight × start / deposit_value }"
    // (Drift floors the weight at 10^-4; clearsim scales the value, floored at 10^-8: the same here, as 0.8 × 10/20 =
    // 0.4 is a multiple of 10^-4). No published example: SOL at 100, weight 0.8 (haircut 0.2), deposits of
    // 200,000 SOL = 20,000,000 > 10,000,000: alice's 1,000 SOL count 80,000 for MM and 80,000 × 10/20 = 40,000 for IM.
    const r = rules({ collateral: { SOL: { haircut: '0.2' } }, venueMargin: { collateral: { SOL: { depositScaling: { threshold: '10000000' } } } } });
    const ledger = emptyLedger();
    listed(ledger, 'SOL', '100');
    const alice = ensureAccount(ledger, 'alice', false);
    const whale = ensureAccount(ledger, 'whale', false);
    moveCollateral(ledger, alice, 'SOL', f('1000'));
    moveCollateral(ledger, whale, 'SOL', f('49000')); // 50,000 SOL = 5,000,000: below the threshold, no scaling
    expect(collateralInitialAddOn(ledger, r, alice)).toBe(0n);
    moveCollateral(ledger, whale, 'SOL', f('150000')); // 200,000 SOL = 20,000,000
    expect(collateralInitialAddOn(ledger, r, alice)).toBe(f('40000'));
    const risk = computeRisk(ledger, r, alice);
    expect(risk.equity).toBe(f('80000'));
    expect(risk.initialMargin).toBe(f('40000'));
    expect(risk.maintenanceMargin).toBe(0n);
  });
});

describe('venueMargin refusals', () => {
  const refused = (overrides: Record<string, unknown>, message: RegExp) => {
    expect(() => rules(overrides)).toThrow(RulesError);
    expect(() => rules(overrides)).toThrow(message);
  };
  it('does not compose with the scenario, VaR and lending models', () => {
    refused(
      { model: 'portfolio', portfolio: { underlyings: { BTC: { priceScanRange: '0.1' } } }, venueMargin: { instruments: { '*': { openInterestScaling: { lowerCap: '1', upperCap: '2' } } } } },
      /venueMargin: venue margin mechanics scale the tiered models \(cross, isolated\), not model portfolio/,
    );
  });
  it('names the field of each inconsistency', () => {
    refused({ venueMargin: { instruments: { '*': { openInterestScaling: { lowerCap: '3', upperCap: '2' } } } } }, /venueMargin\.instruments\.\*\.openInterestScaling\.lowerCap: lowerCap must not exceed upperCap/);
    refused({ instruments: { '*': { tiers: [{ initialRate: '0.12345', maintenanceRate: '0.05' }] } }, venueMargin: { instruments: { '*': { sizeScaling: { kind: 'sqrt-premium', imfFactor: '0.00005' } } } } }, /multiple of it/);
    refused({ venueMargin: { instruments: { '*': { sizeScaling: { kind: 'sqrt-premium', imfFactor: '0.0000001' } } } } }, /imfFactor: Drift imf_factor is in units of 0.000001/);
    refused({ venueMargin: { instruments: { X: { sizeScaling: { kind: 'cubic' } } } } }, /venueMargin\.instruments\.X\.sizeScaling/);
    refused({ venueMargin: { collateral: { USDE: { blendedMark: { redemptionPrice: '1', marketWeight: '0.2' } } } } }, /venueMargin\.collateral\.USDE: "USDE" is not a collateral asset/);
    refused({ collateral: { B: { haircut: '0.1' } }, venueMargin: { collateral: { B: { valueTiers: [{ haircut: '0.1' }, { upToValue: '5', haircut: '0.2' }] } } } }, /only the last tier may omit upToValue/);
    refused({ venueMargin: { leverage: { alice: { '*': '0.5' } } } }, /venueMargin\.leverage\.alice\.\*: leverage must be at least 1/);
  });
  it('absent, the rules parse exactly as before', () => {
    expect(rules({}).venueMargin).toBeUndefined();
  });
});

describe('price bands under size-scaled margin', () => {
  // The bands' promise (price-bands.ts): moving every mark anywhere inside its band leaves the unit above its call
  // level, by exact risk. A size-scaled MM is a line of the venue's slope for a fixed size: the bands take that slope.
  const scalings = {
    drift: { kind: 'sqrt-premium', imfFactor: '0.005', highLeverage: { initialRate: '0.05', maintenanceRate: '0.03' } },
    coinbase: { kind: 'sqrt-volume', riskParameter: '0.8', averageDailyVolume: '50' },
    deribit: { kind: 'linear', initialPerUnit: '0.01', maintenancePerUnit: '0.02' },
  };
  it('moving the marks anywhere inside the bands leaves the unit above its call level', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...(Object.keys(scalings) as (keyof typeof scalings)[])),
        fc.boolean(),
        fc.constantFrom('1', '1.25'),
        fc.array(fc.record({ instrument: fc.constantFrom('X', 'Y'), qty: fc.integer({ min: -3000, max: 3000 }).filter((q) => q !== 0), price: fc.integer({ min: 50, max: 200 }) }), { minLength: 1, maxLength: 2 }),
        fc.integer({ min: 100, max: 200_000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 2 }),
        (kind, highLeverage, callBelow, positions, cash, where) => {
          const r = rules({
            marginCall: { graceSeconds: 0, callBelow },
            instruments: { '*': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } },
            venueMargin: { instruments: { X: { sizeScaling: scalings[kind] } }, highLeverageAccounts: highLeverage ? ['a'] : [] },
          });
          const ledger = emptyLedger();
          const a = ensureAccount(ledger, 'a', false);
          const mm = ensureAccount(ledger, 'mm', false);
          deposit(ledger, a, f(String(cash)));
          for (const { instrument, qty, price } of positions) {
            const listedInstrument = ledger.instruments.get(instrument) ?? listed(ledger, instrument, String(price), '0');
            trade(ledger, qty > 0 ? a : mm, qty > 0 ? mm : a, listedInstrument, f(String(Math.abs(qty) / 10)), listedInstrument.mark!);
          }
          const before = computeRisk(ledger, r, a);
          if (before.equity <= callLevelOf(before, r.marginCall.callBelow)) return;
          const bands = bandsFor(ledger, r, a);
          bands.forEach((band, i) => {
            const instrument = ledger.instruments.get(band.instrument)!;
            const mark = toNumber(instrument.mark!);
            const target = markInBand(band, mark, where[i]!);
            instrument.mark = fromNumber(target, target < mark ? 'ceil' : 'floor');
          });
          const after = computeRisk(ledger, r, a);
          expect(after.equity > callLevelOf(after, r.marginCall.callBelow)).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });
});

/**
 * A mark inside `band` at `where` (0: its lower end, 1: its upper end). An endless side (a move there only raises the
 * unit's slack) is cut at 1,000 × (or 1/1,000 of) the mark, so the moved mark still tests it far out.
 */
function markInBand(band: Band, mark: number, where: number): number {
  const lower = Number.isFinite(band.lower) ? band.lower : mark / 1000;
  const upper = Number.isFinite(band.upper) ? band.upper : mark * 1000;
  return Math.min(Math.max(lower + (upper - lower) * where, lower), upper);
}
