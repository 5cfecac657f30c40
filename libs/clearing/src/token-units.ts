import type { TokenUnitsCreated, TokenUnitsRedeemed } from '@clearsim/events';
import { ensureAccount, getAccount, transfer, type Account } from '@clearsim/ledger';
import { computeRisk, freeCollateral } from '@clearsim/margin';
import { formatFixed, type Fixed } from '@clearsim/money';
import { isSystemAccount, ownEntry, type LeveragedToken, type Rules } from '@clearsim/rules';
import { creationCost, fundNav, hasOpenCall, navPerUnit, redemptionProceeds, unitsFee } from '@clearsim/saga';
import type { ClearingState, TokenUnits } from './clearing.state';
import { InputRejected, quotedId } from './validate';

/**
 * Units of leveraged tokens held by accounts (docs/rules.md §12): a holder
 * creates units by paying the fund NAV per unit × units, redeems them for
 * NAV per unit × units; the fund then trades back to its target at once
 * (libs/saga/src/leveraged-token.ts). The cash moved is a function of the
 * state at the input (the fund's equity at the marks, the units
 * outstanding), so validation, the fold and every replay compute the same.
 */

export type TokenUnitsInput = TokenUnitsCreated | TokenUnitsRedeemed;

const NO_UNITS: TokenUnits = { outstanding: 0n, holders: new Map() };

/** A token's units (none before its first creation). */
export function unitsOfToken(state: ClearingState, token: string): TokenUnits {
  return state.tokenUnits?.get(token) ?? NO_UNITS;
}

/**
 * The fund's NAV (0 before the fund exists), the cash the input moves between
 * the holder and the fund (`amount`, at NAV), and the holder's fee to the
 * fees account on top of a creation's amount or out of a redemption's.
 */
export function tokenCashFlow(state: ClearingState, rules: Rules, spec: LeveragedToken, input: TokenUnitsInput): { nav: Fixed; amount: Fixed; fee: Fixed } {
  const nav = fundNav({ ledger: state.ledger, rules }, spec) ?? 0n;
  const { outstanding } = unitsOfToken(state, input.token);
  if (input.type === 'TokenUnitsCreated') {
    const amount = creationCost(input.units, nav, outstanding, input.nav);
    return { nav, amount, fee: unitsFee(amount, spec.creationFee) };
  }
  const amount = redemptionProceeds(input.units, nav, outstanding);
  return { nav, amount, fee: unitsFee(amount, spec.redemptionFee) };
}

/**
 * Refuses (InputRejected, naming the field) a creation or redemption that
 * cannot apply: no rules or no such token, an unknown or system holder or the
 * fund itself, the issue price `nav` missing on a token with no units or
 * given on one with units, a fund whose NAV is not positive while units are
 * outstanding (or negative with none: a new issue would pay its debt), more units than
 * the holder has, or a holder who cannot pay — as a withdrawal of the cost
 * would be rejected (an open margin call, free collateral after it below 0,
 * more than its cash).
 */
export function validateTokenUnits(state: ClearingState, input: TokenUnitsInput): void {
  const rules = state.rules;
  if (!rules) throw new InputRejected('no-active-rules', 'type', 'no rules are active yet (a RulesActivated event must come first)');
  const spec = ownEntry(rules.tokens, input.token);
  if (!spec) throw new InputRejected('unknown-token', 'token', `unknown token ${quotedId(input.token)} (rules ${quotedId(rules.name)} define ${Object.keys(rules.tokens ?? {}).join(', ') || 'no tokens'})`);
  if (!state.ledger.accounts.has(input.account)) throw new InputRejected('unknown-account', 'account', `unknown account ${quotedId(input.account)} (an account exists once it has a Deposited event)`);
  if (isSystemAccount(rules, input.account)) throw new InputRejected('token-units', 'account', `${quotedId(input.account)} is a system account: it holds no token units`);
  if (input.account === spec.account) throw new InputRejected('token-units', 'account', `${quotedId(input.account)} is the fund of token ${quotedId(input.token)}: it cannot hold its own units`);
  const units = unitsOfToken(state, input.token);
  if (input.type === 'TokenUnitsCreated') {
    if (units.outstanding === 0n && input.nav === undefined) {
      throw new InputRejected('token-units', 'nav', `token ${quotedId(input.token)} has no units outstanding: its first creation gives the issue price per unit (nav)`);
    }
    if (units.outstanding > 0n && input.nav !== undefined) {
      throw new InputRejected('token-units', 'nav', `token ${quotedId(input.token)} has units outstanding: their NAV per unit is the fund's, not given (leave out nav)`);
    }
  } else {
    const held = units.holders.get(input.account) ?? 0n;
    if (input.units > held) throw new InputRejected('token-units', 'units', `account ${quotedId(input.account)} holds ${formatFixed(held)} units of token ${quotedId(input.token)}, fewer than ${formatFixed(input.units)}`);
  }
  const { nav, amount, fee } = tokenCashFlow(state, rules, spec, input);
  if ((units.outstanding > 0n && nav <= 0n) || nav < 0n) {
    throw new InputRejected('token-units', 'token', `the fund ${quotedId(spec.account)} of token ${quotedId(input.token)} has a NAV of ${formatFixed(nav)}: units are neither created nor redeemed until it is liquidated`);
  }
  if (input.type === 'TokenUnitsRedeemed') return;
  const holder = getAccount(state.ledger, input.account);
  const cost = amount + fee;
  const costText = `${formatFixed(cost)}${fee > 0n ? ` (${formatFixed(amount)} at NAV + fee ${formatFixed(fee)})` : ''}`;
  if (hasOpenCall(state.saga, holder.id)) throw new InputRejected('insufficient-funds', 'units', `account ${quotedId(holder.id)} has an open margin call: it cannot pay ${costText} for ${formatFixed(input.units)} units`);
  const after: Account = { ...holder, cash: holder.cash - cost };
  const free = holder.isolated ? after.cash : freeCollateral(computeRisk(state.ledger, rules, after));
  if (cost > holder.cash || free < 0n) {
    throw new InputRejected('insufficient-funds', 'units', `${formatFixed(input.units)} units of token ${quotedId(input.token)} cost ${costText}; account ${quotedId(holder.id)} has ${formatFixed(holder.cash)} cash and would be left with free collateral ${formatFixed(free)} (it must stay ≥ 0)`);
  }
}

/** Folds an accepted creation or redemption: the cash between holder and fund, the holder's units and the units outstanding. */
export function foldTokenUnits(state: ClearingState, rules: Rules, input: TokenUnitsInput): void {
  const spec = rules.tokens![input.token]!;
  const { amount, fee } = tokenCashFlow(state, rules, spec, input);
  const holder = getAccount(state.ledger, input.account);
  // the fund is an ordinary cross account (never isolated, docs/rules.md §12)
  const fund = ensureAccount(state.ledger, spec.account, false);
  const tokens = (state.tokenUnits ??= new Map());
  let units = tokens.get(input.token);
  if (!units) tokens.set(input.token, (units = { outstanding: 0n, holders: new Map() }));
  const delta = input.type === 'TokenUnitsCreated' ? input.units : -input.units;
  if (input.type === 'TokenUnitsCreated') transfer(holder, fund, amount);
  else transfer(fund, holder, amount);
  // the fee, on top of a creation's amount or out of a redemption's, is the holder's
  if (fee > 0n) transfer(holder, ensureAccount(state.ledger, rules.accounts.fees, false), fee);
  units.outstanding += delta;
  const held = (units.holders.get(input.account) ?? 0n) + delta;
  if (held === 0n) units.holders.delete(input.account);
  else units.holders.set(input.account, held);
}

/** One account's holding of one token, as the account views show it. */
export interface TokenHolding {
  token: string;
  units: Fixed;
  /** The fund's NAV / units outstanding, truncated (never compared). */
  navPerUnit: Fixed;
  /** units × NAV / units outstanding, rounded down: what a redemption would pay now, before its fee. Not margin collateral. */
  value: Fixed;
}

/** The tokens an account holds, in token id order. */
export function tokenHoldings(state: ClearingState, account: string): TokenHolding[] {
  const rules = state.rules;
  if (!state.tokenUnits || !rules?.tokens) return [];
  const out: TokenHolding[] = [];
  for (const token of [...state.tokenUnits.keys()].sort()) {
    const units = state.tokenUnits.get(token)!;
    const held = units.holders.get(account);
    const spec = rules.tokens[token];
    if (held === undefined || !spec) continue;
    const nav = fundNav({ ledger: state.ledger, rules }, spec) ?? 0n;
    const positive = nav > 0n ? nav : 0n;
    out.push({ token, units: held, navPerUnit: navPerUnit(positive, units.outstanding), value: redemptionProceeds(held, positive, units.outstanding) });
  }
  return out;
}
