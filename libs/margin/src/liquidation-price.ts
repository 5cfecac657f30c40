import { fromNumber, toNumber, type Fixed } from '@clearsim/money';
import { instrumentRules, type Rules } from '@clearsim/rules';
import type { Account, LedgerState } from '@clearsim/ledger';
import { computeRisk, positionRisk, type MarginUnit } from './risk';
import { notionalValue, tierFor } from './tiers';
import { venuePositionMargin, venueScalesMaintenance } from './venue-margin';

/**
 * The mark of `instrument` at which the unit's equity equals its maintenance
 * margin, every other mark held. Per tier, solving
 *   B + E_other + q·k·m − c = MM_other + |q|·k·m·r − a
 * gives m = (MM_other − a − B − E_other + c) / (k·(q − |q|·r)); the answer is the
 * solution whose notional |q|·k·m falls in the tier it was solved for. An
 * inverse position (value −q·k/m and notional |q|·k/m in coin, cost c) solves
 *   B + E_other − q·k/m − c = MM_other + |q|·k·r/m − a
 * instead: m = k·(q + |q|·r) / (B + E_other − c − MM_other + a).
 * A size-scaled maintenance rate (venueMargin) is one line while the size is fixed: the position's own
 * MM / notional. An inverse position's size is its coin value |q|·k/m, which moves with the mark: its rate
 * is found by iteration — solve with the rate at the current mark, take the rate at the price found, solve
 * again — until it no longer changes (the rate grows slowly with the size, so a few rounds suffice).
 * Computed in float64 (it is a display figure, not a ledger amount) and rounded
 * against the account: up for a long, down for a short. Undefined when no
 * positive price liquidates the unit (e.g. a fully collateralized long).
 */
export function liquidationPrice(ledger: LedgerState, rules: Rules, account: Account, unit: MarginUnit, instrument: string): Fixed | undefined {
  const position = account.positions.get(instrument);
  const tiers = instrumentRules(rules, instrument)?.tiers;
  if (!position || position.qty === 0n || !tiers) return undefined;
  // an option's value, and a scenario requirement, are not linear in the mark: no closed form (decided before any risk is computed)
  if (ledger.instruments.get(instrument)?.premiumStyle || rules.model === 'portfolio' || rules.model === 'var' || rules.dynamic) return undefined;
  const risk = computeRisk(ledger, rules, account, unit);
  const own = positionRisk(ledger, rules, position, account.id);
  const balance = toNumber(risk.balance);
  const otherPnl = toNumber(risk.positionsValue - own.equityValue);
  const otherMm = toNumber(risk.maintenanceMargin - own.maintenanceMargin);
  const q = toNumber(position.qty);
  const k = toNumber(own.multiplier);
  const c = toNumber(position.cost);
  // a size-scaled rate is fixed while the size is: one line through the position's own MM/notional
  const scaled = venueScalesMaintenance(rules, instrument) && own.notional > 0n;
  const solveTiers = scaled ? [{ upToNotional: undefined, maintenanceRate: 0n, maintenanceAmount: 0n }] : tiers;
  let lower = 0;
  for (const tier of solveTiers) {
    const upper = tier.upToNotional === undefined ? Infinity : toNumber(tier.upToNotional);
    const r = scaled ? toNumber(own.maintenanceMargin) / toNumber(own.notional) : toNumber(tier.maintenanceRate);
    const a = toNumber(tier.maintenanceAmount);
    if (own.inverse) {
      // inverse (coin): B + E_other − q·k/m − c = MM_other + |q|·k·r/m − a gives m = k·(q + |q|·r) / (B + E_other − c − MM_other + a)
      const solve = (rate: number): number => (k * (q + Math.abs(q) * rate)) / (balance + otherPnl - c - otherMm + a);
      let m = solve(r);
      if (scaled) {
        const listed = ledger.instruments.get(instrument)!;
        for (let round = 0, rate = r; round < 50 && m > 0 && Number.isFinite(m); round++) {
          const mark = fromNumber(m, 'ceil');
          if (mark <= 0n) break;
          const notionalAt = notionalValue(position.qty, mark, listed.multiplier, true);
          const at = venuePositionMargin(ledger, rules, account.id, { ...listed, mark }, position.qty, tierFor(tiers, notionalAt), notionalAt);
          const next = at ? toNumber(at.maintenanceMargin) / toNumber(notionalAt) : rate;
          if (Math.abs(next - rate) <= 1e-15) break;
          rate = next;
          m = solve(rate);
        }
      }
      const notional = (Math.abs(q) * k) / m;
      const isLast = tier === solveTiers[solveTiers.length - 1];
      if (m > 0 && Number.isFinite(m) && notional > lower && (notional <= upper || isLast)) return fromNumber(m, q > 0 ? 'ceil' : 'floor');
      lower = upper;
      continue;
    }
    const denominator = k * (q - Math.abs(q) * r);
    if (denominator !== 0) {
      const m = (otherMm - a - balance - otherPnl + c) / denominator;
      const notional = Math.abs(q) * k * m;
      const isLast = tier === solveTiers[solveTiers.length - 1];
      if (m > 0 && notional > lower && (notional <= upper || isLast)) {
        return fromNumber(m, q > 0 ? 'ceil' : 'floor');
      }
    }
    lower = upper;
  }
  return undefined;
}
