import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCALE } from '@clearsim/money';
import { parseRulesYaml } from './rules';
import type { Rules, Tier } from './rules.schema';

const PRESETS_DIR = join(__dirname, '..', 'presets');
const presetFiles = readdirSync(PRESETS_DIR)
  .filter((file) => file.endsWith('.yaml'))
  .sort();

const load = (file: string): Rules => parseRulesYaml(readFileSync(join(PRESETS_DIR, file), 'utf8'), file);

/**
 * MM of `notional` under `tier`, in units of 10^-16 (ledger units squared), so
 * that the comparison is exact: notional × maintenanceRate − maintenanceAmount.
 */
const mmExact = (notional: bigint, tier: Tier): bigint => notional * tier.maintenanceRate - tier.maintenanceAmount * SCALE;

/** Every bracket edge of every instrument: (tier below, tier above, edge notional). */
function edges(rules: Rules): [string, number, Tier, Tier, bigint][] {
  const out: [string, number, Tier, Tier, bigint][] = [];
  for (const [instrument, { tiers }] of Object.entries(rules.instruments)) {
    for (let k = 1; k < tiers.length; k++) {
      const below = tiers[k - 1]!;
      out.push([instrument, k, below, tiers[k]!, below.upToNotional!]);
    }
  }
  return out;
}

/** The venue presets (docs/venues.md): BTC-PERP and "*" at least; their venue's own tests are in libs/clearing/src/venues. */
const VENUE_PRESETS = ['binance-usdm', 'bybit-linear', 'hyperliquid', 'okx-swap'];
/** The venue presets with venue margin mechanics (`venueMargin`, docs/rules.md §15); their tests are in libs/margin/src/venues. */
const VENUE_MARGIN_PRESETS = ['coinbase-intl', 'deribit', 'drift-v2', 'dydx-v4'];
/** Venues that charge a position at its tier's rate as a whole (no maintenance deduction): MM jumps at a tier edge, as published. */
const WHOLE_POSITION_TIERS = ['okx-swap'];

describe('rule presets', () => {
  it('ships a preset for every style and model', () => {
    expect(presetFiles).toEqual(['ccp-dynamic.yaml', 'ccp-grace.yaml', 'ccp-span.yaml', 'ccp-var.yaml', 'crypto-cross.yaml', 'crypto-isolated.yaml', 'defi-lending.yaml', 'portfolio-margin.yaml', ...[...VENUE_PRESETS, ...VENUE_MARGIN_PRESETS].map((v) => `${v}.yaml`)].sort());
    // venue presets (issue #11): each proves its venue's published numbers (libs/margin/src/venues, libs/clearing/src/venues)
    const all = presetFiles.map(load);
    expect(new Set(all.map((r) => r.model))).toEqual(new Set(['cross', 'isolated', 'portfolio', 'var', 'lending']));
    expect(all.some((r) => r.dynamic)).toBe(true);
    expect(all.some((r) => Object.keys(r.collateral).length > 0)).toBe(true);
    expect(all.some((r) => Object.keys(r.concentration).length > 0)).toBe(true);
  });

  describe.each(presetFiles)('%s', (file) => {
    const rules = load(file);

    it('parses, and its name is its file name', () => {
      expect(rules.name).toBe(file.replace(/\.yaml$/, ''));
    });

    it('starts with a comment header explaining the style and its sources', () => {
      const text = readFileSync(join(PRESETS_DIR, file), 'utf8');
      const header = text.slice(0, text.indexOf('\nname:'));
      expect(header.split('\n').every((line) => line.startsWith('#'))).toBe(true);
      expect(header).toMatch(/Style modelled/);
      expect(header).toMatch(/Sources of inspiration/);
    });

    // bracket checks concern the tiered presets only (the scenario, VaR and lending models have no brackets)
    if (!(rules.model === 'cross' || rules.model === 'isolated')) return;
    it('has a "*" default bracket set (and BTC-PERP / ETH-PERP for the crypto and ccp-grace presets), the last one unbounded', () => {
      const named = ['crypto-cross', 'crypto-isolated', 'ccp-grace'].includes(rules.name);
      // a venue preset names the venue's own markets; "*" applies it to any other (an incident's BTC-PERP)
      if (rules.venueMargin) expect(Object.keys(rules.instruments)).toContain('*');
      else if (VENUE_PRESETS.includes(rules.name)) expect(Object.keys(rules.instruments)).toEqual(expect.arrayContaining(['*', 'BTC-PERP']));
      else expect(Object.keys(rules.instruments).sort()).toEqual(named ? ['*', 'BTC-PERP', 'ETH-PERP'] : ['*']);
      for (const { tiers } of Object.values(rules.instruments)) {
        expect(tiers[tiers.length - 1]!.upToNotional).toBeUndefined();
        expect(tiers[0]!.maintenanceAmount).toBe(0n);
      }
    });

    it('raises rates with the bracket (IM and MM rates never fall)', () => {
      for (const { tiers } of Object.values(rules.instruments)) {
        for (let k = 1; k < tiers.length; k++) {
          expect(tiers[k]!.maintenanceRate).toBeGreaterThan(tiers[k - 1]!.maintenanceRate);
          expect(tiers[k]!.initialRate).toBeGreaterThanOrEqual(tiers[k - 1]!.initialRate);
        }
      }
    });

    if (WHOLE_POSITION_TIERS.includes(rules.name)) {
      it('charges the whole position at its tier’s rate: no maintenance amount anywhere', () => {
        for (const { tiers } of Object.values(rules.instruments)) for (const tier of tiers) expect(tier.maintenanceAmount).toBe(0n);
      });
      return;
    }
    // (single-tier presets, as the venue presets whose rates scale with size or open interest, have no edge)
    if (edges(rules).length > 0) it.each(edges(rules))('keeps MM continuous at the %s edge below tier %i', (_instrument, _k, below, above, edge) => {
      // At the edge the notional is still in the lower tier (N <= upToNotional);
      // one ledger unit above it, it is in the upper tier.
      const atEdge = mmExact(edge, below);
      const upperTierAtEdge = mmExact(edge, above);
      expect(upperTierAtEdge).toBe(atEdge); // the limit from above equals the value at the edge
      const justAbove = mmExact(edge + 1n, above);
      const justBelow = mmExact(edge - 1n, below);
      expect(justAbove - atEdge).toBe(above.maintenanceRate); // one unit of notional more: + rate, no jump
      expect(atEdge - justBelow).toBe(below.maintenanceRate);
      expect(atEdge).toBeGreaterThan(0n);
    });
  });

  it('crypto-isolated is crypto-cross with model isolated', () => {
    const cross = load('crypto-cross.yaml');
    const isolated = load('crypto-isolated.yaml');
    expect(isolated.model).toBe('isolated');
    expect(cross.model).toBe('cross');
    expect({ ...isolated, name: '', description: '', model: '' }).toEqual({ ...cross, name: '', description: '', model: '' });
  });
});
