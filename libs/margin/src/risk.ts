import { fromNumber, mul, SCALE, type Fixed } from '@clearsim/money';
import { instrumentRules, type Rules } from '@clearsim/rules';
import { positionEquityValue, underlyingOf, unitBalance, unrealizedPnl, type Account, type LedgerState, type Position } from '@clearsim/ledger';
import { initialMarginOf, maintenanceMarginOf, notionalValue, tierFor } from './tiers';
import { portfolioMargin } from './portfolio/scenario-margin';
import { portfolioMarginOfAccount } from './portfolio/scenario-book';
import { collateralInitialAddOn, collateralValue, concentrationAddOn } from './collateral';
import { venuePositionMargin } from './venue-margin';
import { dynamicMultiplier, historyKey, varRequirement } from './var/var-margin';
import { lendingRisk } from './lending';

/**
 * A margin unit: a whole cross-margined account (`instrument` undefined), or
 * one isolated position of an isolated account.
 */
export interface MarginUnit {
  account: string;
  instrument?: string;
}

export const unitKey = (unit: MarginUnit): string => (unit.instrument === undefined ? unit.account : `${unit.account}\u0000${unit.instrument}`);

/** Risk is a value: the unit's equity and requirements at the current marks. */
export interface Risk {
  /** balance + positionsValue. */
  equity: Fixed;
  initialMargin: Fixed;
  maintenanceMargin: Fixed;
  notional: Fixed;
  /** Σ what the positions add to equity at mark (see positionEquityValue), rounded down per position. */
  positionsValue: Fixed;
  /** Cash, or an isolated position's margin. */
  balance: Fixed;
}

export interface PositionRisk {
  position: Position;
  mark: Fixed;
  multiplier: Fixed;
  premiumStyle: boolean;
  /** Inverse (coin-margined) payoff: notional, PnL and margin in coin (see position-math.ts). */
  inverse: boolean;
  notional: Fixed;
  /** qty × mark × multiplier − cost: the position's profit or loss so far. */
  unrealizedPnl: Fixed;
  /** What the position adds to equity (= unrealizedPnl futures style; its full value premium style). */
  equityValue: Fixed;
  initialMargin: Fixed;
  maintenanceMargin: Fixed;
}

/** The positions of a margin unit, in instrument order. */
export function unitPositions(account: Account, unit: MarginUnit): Position[] {
  if (unit.instrument !== undefined) {
    const position = account.positions.get(unit.instrument);
    return position ? [position] : [];
  }
  if (account.isolated) return [];
  const out: Position[] = [];
  account.positions.pushValuesInto(out);
  // an insertion sort: an account holds a few positions, and Array.prototype.sort allocates its own work arrays
  // (instruments are unique within an account, so any sort by them gives this order)
  for (let i = 1; i < out.length; i++) {
    const position = out[i]!;
    let j = i - 1;
    for (; j >= 0 && out[j]!.instrument > position.instrument; j--) out[j + 1] = out[j]!;
    out[j + 1] = position;
  }
  return out;
}

/** Whether the unit holds an open position (what unitPositions would find with qty ≠ 0, without sorting a copy). */
export function hasOpenPosition(account: Account, unit: MarginUnit): boolean {
  if (unit.instrument !== undefined) return (account.positions.get(unit.instrument)?.qty ?? 0n) !== 0n;
  if (account.isolated) return false;
  for (const position of account.positions.values()) if (position.qty !== 0n) return true;
  return false;
}

/** The margin units of an account: the account itself (cross), or each isolated position. */
export function unitsOf(account: Account): MarginUnit[] {
  if (!account.isolated) return [{ account: account.id }];
  return [...account.positions.keys()].sort().map((instrument) => ({ account: account.id, instrument }));
}

/** `account`: the position's owner, for the mechanics chosen per account (venueMargin.leverage, highLeverageAccounts). */
export function positionRisk(ledger: LedgerState, rules: Rules, position: Position, account?: string): PositionRisk {
  const instrument = ledger.instruments.get(position.instrument);
  if (!instrument) throw new Error(`position in unknown instrument ${position.instrument}`);
  const mark = instrument.mark;
  if (mark === undefined) throw new Error(`no mark price for ${position.instrument}`);
  const notional = notionalValue(position.qty, mark, instrument.multiplier, instrument.inverse);
  let initialMargin: Fixed;
  let maintenanceMargin: Fixed;
  if (rules.model === 'portfolio' || rules.model === 'var') {
    // a position's own requirement, alone (the unit's requirement nets them: computeRisk)
    const alone = rules.model === 'var' ? varRequirement(ledger, rules, [position]) : portfolioMargin(ledger, rules, [position]);
    initialMargin = alone.initialMargin;
    maintenanceMargin = alone.maintenanceMargin;
  } else {
    const tiers = instrumentRules(rules, position.instrument)?.tiers;
    if (!tiers) throw new Error(`no margin tiers for ${position.instrument} in rules "${rules.name}"`);
    const tier = tierFor(tiers, notional);
    const venue = rules.venueMargin && venuePositionMargin(ledger, rules, account, instrument, position.qty, tier, notional);
    initialMargin = venue ? venue.initialMargin : initialMarginOf(notional, tier);
    maintenanceMargin = venue ? venue.maintenanceMargin : maintenanceMarginOf(notional, tier);
    if (rules.dynamic) {
      // rates (and maintenance amounts) scaled by the volatility multiplier: MM stays continuous across tiers
      const multiplier = fromNumber(dynamicMultiplier(ledger, rules, historyKey(ledger, instrument)), 'ceil');
      initialMargin = mul(initialMargin, multiplier, 'ceil');
      maintenanceMargin = mul(maintenanceMargin, multiplier, 'ceil');
    }
  }
  const addOn = concentrationAddOn(rules, underlyingOf(instrument), notional);
  initialMargin += addOn;
  maintenanceMargin += addOn;
  return {
    position,
    mark,
    multiplier: instrument.multiplier,
    premiumStyle: instrument.premiumStyle,
    inverse: instrument.inverse === true,
    notional,
    unrealizedPnl: unrealizedPnl(position.qty, position.cost, mark, instrument.multiplier, instrument.inverse),
    equityValue: positionEquityValue(position.qty, position.cost, mark, instrument.multiplier, instrument.premiumStyle, instrument.inverse),
    initialMargin,
    maintenanceMargin,
  };
}

/**
 * The one margin engine function: folds every position of the unit into its
 * equity and requirements. Everything else (calls, liquidation, withdrawals,
 * liquidation prices) is a predicate or a projection over its result.
 *
 * `positionRisks`, when given and the model sums per-position figures
 * (`positionRisksSummed`), receives the positionRisk of each open position
 * of the unit (in instrument order), as the sum took them: a liquidation
 * ranks the positions by them instead of computing them again.
 */
export function computeRisk(ledger: LedgerState, rules: Rules, account: Account, unit: MarginUnit = { account: account.id }, positionRisks?: PositionRisk[]): Risk {
  if (rules.model === 'lending') {
    // collateral against debt: see lending.ts (equity < MM ⇔ health factor < 1)
    const lending = lendingRisk(ledger, rules, account);
    const lendingBalance = account.cash + lending.collateral;
    return { equity: lendingBalance, initialMargin: lending.initialMargin, maintenanceMargin: lending.maintenanceMargin, notional: 0n, positionsValue: 0n, balance: lendingBalance };
  }
  const balance = unitNetBalance(ledger, rules, account, unit);
  let value = 0n;
  let im = 0n;
  let mm = 0n;
  let notional = 0n;
  const positions = unitPositions(account, unit);
  if (rules.model === 'portfolio' || rules.model === 'var') {
    // the portfolio is margined as a whole: hedges offset; add-ons stay per position
    let addOn = 0n;
    for (const position of positions) {
      if (position.qty === 0n) continue;
      const instrument = ledger.instruments.get(position.instrument)!;
      const mark = instrument.mark!;
      value += positionEquityValue(position.qty, position.cost, mark, instrument.multiplier, instrument.premiumStyle);
      const positionNotional = notionalValue(position.qty, mark, instrument.multiplier);
      notional += positionNotional;
      const underlying = underlyingOf(instrument);
      if (rules.concentration[underlying]) addOn += concentrationAddOn(rules, underlying, positionNotional);
    }
    const whole =
      rules.model === 'var'
        ? varRequirement(ledger, rules, positions)
        : unit.instrument === undefined && !account.isolated
          ? portfolioMarginOfAccount(ledger, rules, account) // the whole account, from the scenario book
          : portfolioMargin(ledger, rules, positions);
    im = whole.initialMargin + addOn;
    mm = whole.maintenanceMargin + addOn;
  } else {
    for (const position of positions) {
      if (position.qty === 0n) continue;
      const r = positionRisk(ledger, rules, position, account.id);
      positionRisks?.push(r);
      value += r.equityValue;
      im += r.initialMargin;
      mm += r.maintenanceMargin;
      notional += r.notional;
    }
    // Drift's deposit-scaled asset weight lowers the collateral counted for initial margin only
    if (rules.venueMargin && unit.instrument === undefined && !account.isolated) im += collateralInitialAddOn(ledger, rules, account);
  }
  return { equity: balance + value, initialMargin: im, maintenanceMargin: mm, notional, positionsValue: value, balance };
}

/**
 * Whether computeRisk's `positionRisks` are what positionRisk of each position
 * alone gives (no owner passed): the tiered models sum per-position figures,
 * and without rules `venueMargin` no figure depends on the owner.
 */
export function positionRisksSummed(rules: Rules): boolean {
  return rules.model !== 'portfolio' && rules.model !== 'var' && rules.model !== 'lending' && !rules.venueMargin;
}

/**
 * What a margin unit holds to absorb a loss: a cross unit's cash plus its
 * other collateral at haircut value; an isolated position's margin.
 */
export function unitNetBalance(ledger: LedgerState, rules: Rules, account: Account, unit: MarginUnit): Fixed {
  return unitBalance(account, unit.instrument) + (unit.instrument === undefined ? collateralValue(ledger, rules, account) : 0n);
}

export const meetsMaintenanceMargin = (risk: Risk): boolean => risk.equity >= risk.maintenanceMargin;
export const meetsInitialMargin = (risk: Risk): boolean => risk.equity >= risk.initialMargin;

/** The equity at which a healthy unit is called: MM × callBelow, rounded up (a requirement). */
export function callLevelOf(risk: Risk, callBelow: Fixed): Fixed {
  return mul(risk.maintenanceMargin, callBelow, 'ceil');
}

/** equity < MM × fraction, compared exactly by cross-multiplying (no division). */
export function isBelowMaintenanceFraction(risk: Risk, fraction: Fixed): boolean {
  return risk.equity * SCALE < risk.maintenanceMargin * fraction;
}

/** Free collateral = equity − IM (may be negative). */
export const freeCollateral = (risk: Risk): Fixed => risk.equity - risk.initialMargin;
