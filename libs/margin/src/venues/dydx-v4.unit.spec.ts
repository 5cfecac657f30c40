import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyLedger, ensureAccount, trade, type Instrument, type LedgerState } from '@clearsim/ledger';
import { parseFixed } from '@clearsim/money';
import { parseRulesYaml, type Rules } from '@clearsim/rules';
import { computeRisk } from '../risk';

/** The dydx-v4 preset, as `--rules dydx-v4` loads it. */
const load = (): Rules => parseRulesYaml(readFileSync(join(__dirname, '../../../rules/presets/dydx-v4.yaml'), 'utf8'), 'dydx-v4.yaml');
const f = parseFixed;

function market(ledger: LedgerState, id: string, mark: string): Instrument {
  const instrument: Instrument = { id, kind: 'perpetual', settlementAsset: 'USDC', multiplier: f('1'), premiumStyle: false, settled: false, mark: f(mark), openInterest: 0n };
  ledger.instruments.set(id, instrument);
  return instrument;
}

describe('dydx-v4 preset', () => {
  it('margins a Large-Cap market at the tier\'s IMF and IMF × maintenance fraction', () => {
    // sample_pregenesis.json Large-Cap: initial_margin_ppm 50,000, maintenance_fraction_ppm 600,000 → MMF 30,000 ppm
    // (GetMaintenanceMarginPpm: "maintenance margin = initial margin * maintenance fraction"); no OI caps.
    // 2 BTC long at 60,000 = 120,000 notional: IM 5 % = 6,000; MM 3 % = 3,600.
    const rules = load();
    const ledger = emptyLedger();
    const btc = market(ledger, 'BTC-USD', '60000');
    const [alice, mm] = [ensureAccount(ledger, 'alice', false), ensureAccount(ledger, 'mm', false)];
    trade(ledger, alice!, mm!, btc, f('2'), f('60000'));
    const risk = computeRisk(ledger, rules, alice!);
    expect(risk.initialMargin).toBe(f('6000'));
    expect(risk.maintenanceMargin).toBe(f('3600'));
  });

  it('scales the IMF of a Mid-Cap market ("*") with its open interest, ppm floored, requirement rounded up', () => {
    // liquidity_tier.go GetAdjustedInitialMarginPpm with the Mid-Cap caps 40,000,000 / 100,000,000 USDC (no venue
    // example for these caps: hand-computed from the published formula). 1,000 units of a market at 70,000 open
    // (open notional 70,000,000): IMF = 50,000 + ⌊950,000 × 30,000,000 / 60,000,000⌋ = 525,000 ppm.
    // alice holds 10 of them (notional 700,000): IM = 700,000 × 0.525 = 367,500; MM stays 3 % = 21,000.
    const rules = load();
    const ledger = emptyLedger();
    const sol = market(ledger, 'BTC-PERP', '70000'); // an incident's name: the "*" (Mid-Cap) tier applies
    const [alice, bob, mm] = ['alice', 'bob', 'mm'].map((id) => ensureAccount(ledger, id, false));
    trade(ledger, alice!, mm!, sol, f('10'), f('70000'));
    expect(computeRisk(ledger, rules, alice!).initialMargin).toBe(f('35000')); // OI 10 (700,000 < lower cap): base 5 %
    trade(ledger, bob!, mm!, sol, f('990'), f('70000'));
    expect(sol.openInterest).toBe(f('1000'));
    expect(computeRisk(ledger, rules, alice!).initialMargin).toBe(f('367500'));
    expect(computeRisk(ledger, rules, alice!).maintenanceMargin).toBe(f('21000'));
    // above the upper cap (open notional 1,500 × 70,000 = 105,000,000): IMF 1, the whole notional
    trade(ledger, bob!, mm!, sol, f('500'), f('70000'));
    expect(computeRisk(ledger, rules, alice!).initialMargin).toBe(f('700000'));
  });

  it('takes a chosen leverage as an IMF floor (custom_imf_ppm = 10^6 / leverage)', () => {
    // GetInitialMarginQuoteQuantums: "use the configured IMF if it is greater than the OI scaled IMF". alice chooses 4×
    // on BTC-USD: IMF max(5 %, 25 %) = 25 %; 2 BTC at 60,000 → IM 30,000. At 50× (2 %) the 5 % base stays: 6,000.
    const rules = load();
    const ledger = emptyLedger();
    const btc = market(ledger, 'BTC-USD', '60000');
    const [alice, mm] = [ensureAccount(ledger, 'alice', false), ensureAccount(ledger, 'mm', false)];
    trade(ledger, alice!, mm!, btc, f('2'), f('60000'));
    const chosen = (leverage: string): Rules => ({ ...rules, venueMargin: { ...rules.venueMargin!, leverage: { alice: { 'BTC-USD': f(leverage) } } } });
    expect(computeRisk(ledger, chosen('4'), alice!).initialMargin).toBe(f('30000'));
    expect(computeRisk(ledger, chosen('50'), alice!).initialMargin).toBe(f('6000'));
  });
});
