import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClearingEngine } from '@clearsim/clearing';
import { decodeEvent, type InputEvent } from '@clearsim/events';
import { parseFixed } from '@clearsim/money';
import { parseBoundedYaml } from '@clearsim/rules';
import { generateInputs, parseScenario } from '@clearsim/scenario';
import { loadRules } from '../io/rules-source';
import { runStressPath } from './stress-path';

const ROOT = join(__dirname, '..', '..', '..', '..');
const fixture = () => parseBoundedYaml(readFileSync(join(ROOT, 'test', 'fixtures', 'stress-small.yaml'), 'utf8')) as Record<string, unknown>;

describe('runStressPath', () => {
  it('with no shocks (ω = 0, no jumps) reports what a plain run of the scenario decides', () => {
    const scenario = parseScenario({ ...fixture(), stress: { garch: { omega: 0, alpha: 0, beta: 0 }, jumps: { intensity: 0 } } }, 'stress-small.yaml');
    const rules = loadRules('crypto-cross').rules;
    const [figures] = runStressPath({ scenario, ruleSets: [{ label: 'crypto-cross', rules }], seed: 1n }, 0);

    const engine = ClearingEngine.create();
    let lowest: bigint | undefined;
    let marginAtOpen: bigint | undefined;
    let socialized = 0n;
    for (const raw of generateInputs(scenario, rules)) {
      const input = decodeEvent(raw, 'input') as InputEvent;
      if (marginAtOpen === undefined && input.ts > scenario.start) {
        const accounts = engine.summary().accounts as Record<string, { status: string; initialMargin: string }>;
        // Σ IM of every account: the system accounts (insurance, fees) hold no position, so this is the traders' (mm included)
        marginAtOpen = Object.values(accounts).reduce((sum, a) => sum + parseFixed(a.initialMargin), 0n);
      }
      for (const d of engine.handle(input).decisions) if (d.type === 'LossSocialized') socialized += d.amount;
      if (marginAtOpen !== undefined) {
        const fund = engine.state.ledger.accounts.get('insurance')!.cash;
        if (lowest === undefined || fund < lowest) lowest = fund;
      }
    }
    const summary = engine.summary({ accounts: false });
    expect(figures).toEqual({ bankruptcies: summary.bankruptcies, autoDeleverages: summary.autoDeleverages, socializedLoss: socialized, insuranceFundLow: lowest, marginHeld: marginAtOpen });
    expect(figures!.marginHeld).toBeGreaterThan(0n);
  });

  it('gives the same figures for the same (seed, path) and others for another path', () => {
    const scenario = parseScenario(fixture(), 'stress-small.yaml');
    const job = { scenario, ruleSets: [{ label: 'crypto-cross', rules: loadRules('crypto-cross').rules }], seed: 9n };
    expect(runStressPath(job, 1)).toEqual(runStressPath(job, 1));
    const paths = [0, 1, 2, 3].map((p) => JSON.stringify(runStressPath(job, p), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    expect(new Set(paths).size).toBeGreaterThan(1);
  });
});
