import type { DecisionEvent, InputEvent, MarketMoved, PriceUpdated, Timestamp } from '@clearsim/events';
import type { Fixed } from '@clearsim/money';
import { underlyingOf, type Account, type LedgerState } from '@clearsim/ledger';
import { BandScratch, bandsFor, toMarkNumber } from '@clearsim/margin';
import { isSystemAccount, type Rules } from '@clearsim/rules';
import { checkAccount, decideFunding, decideWithdrawal, dueTimers, expireGracePeriod, hasOpenCall, rebalanceForUnits, rebalanceTokens, socializePendingLosses, venueLeavesUnitsWaiting, type SagaContext, type SagaState } from '@clearsim/saga';
import type { ClearingState } from './clearing.state';
import { evolve, evolveKeylessPrice } from './evolve';
import { decayImpact, ImpactWave } from './impact';
import { validateInput, validateKeylessPrice } from './validate';

export interface HandleResult {
  /** The input repeated an idempotency key already applied: nothing happened. */
  duplicate: boolean;
  /** Every decision, in log order: the first `beforeInput` are logged before the input, the rest after it. */
  decisions: readonly DecisionEvent[];
  /**
   * How many of `decisions` the grace timers the input's `ts` passed made, at
   * their deadlines (stamped with them) and on the state before the input:
   * they are logged before the input. They always begin with a
   * `GracePeriodExpired`, and no decision after the input is one.
   */
  beforeInput: number;
}

const NOTHING_DECIDED: HandleResult = Object.freeze({ duplicate: false, decisions: Object.freeze([]) as readonly DecisionEvent[], beforeInput: 0 });

/**
 * Instruments whose mark (or scenario values) an input moves: the priced
 * instrument and the options on it; under the portfolio model every
 * instrument on the same underlying (they share its scenarios); the options
 * of an underlying whose volatility changed; every live option as the clock
 * moves (time decay).
 */
function remarkedBy(state: ClearingState, input: InputEvent, asWithoutBands = false): string[] {
  const instruments = () => state.ledger.instruments.values();
  const options = (underlying?: string) => [...instruments()].filter((i) => i.premiumStyle && !i.settled && (underlying === undefined || i.underlying === underlying)).map((i) => i.id);
  switch (input.type) {
    case 'PriceUpdated': {
      const out = new Set([input.instrument, ...options(input.instrument)]);
      if (state.rules && (asWithoutBands || !bandsApply(state))) {
        // scenario, VaR and dynamic requirements move with the underlying (and its history) for every instrument on it
        const underlying = underlyingOf(state.ledger.instruments.get(input.instrument)!);
        for (const i of instruments()) if (underlyingOf(i) === underlying) out.add(i.id);
      }
      return [...out];
    }
    case 'VolatilityUpdated':
      return options(input.underlying);
    case 'MarketMoved': {
      // the union of what the PriceUpdated of each mark and the VolatilityUpdated of each volatility would re-mark, in
      // one pass over the instruments (none when no option is written on what moved and the bands apply)
      const moved = new Set(input.marks.map((mark) => mark.instrument));
      const optionsOn = new Set([...moved].filter((id) => state.ledger.underlyingsWithOptions.has(id)));
      for (const { underlying } of input.volatilities) optionsOn.add(underlying);
      const sameUnderlying = state.rules && (asWithoutBands || !bandsApply(state)) ? new Set([...moved].map((id) => underlyingOf(state.ledger.instruments.get(id)!))) : undefined;
      const out = new Set(moved);
      if (optionsOn.size > 0 || sameUnderlying) {
        for (const i of instruments()) {
          if (i.premiumStyle && !i.settled && i.underlying !== undefined && optionsOn.has(i.underlying)) out.add(i.id);
          if (sameUnderlying?.has(underlyingOf(i))) out.add(i.id);
        }
      }
      return [...out];
    }
    case 'ClockAdvanced':
      return options();
    default:
      return [];
  }
}

/** Price bands apply to the tiered models (margin linear in each mark within a tier, rates fixed). */
const bandsApply = (state: ClearingState): boolean => state.fastPaths && state.rules !== undefined && (state.rules === bandedRules ? bandedRulesApply : rulesAllowBands(state.rules));

/**
 * Whether the rules allow the bands, remembered for the last rules object asked about: bandsApply is asked on every
 * tick (several times on an input that decides something), and an activation replaces the rules object.
 */
function rulesAllowBands(rules: Rules): boolean {
  bandedRules = rules;
  bandedRulesApply =
    (rules.model === 'cross' || rules.model === 'isolated') &&
    !rules.dynamic &&
    // the bands re-check a unit only when a mark leaves its band; a unit left waiting below MM must be checked by any input
    !venueLeavesUnitsWaiting(rules);
  return bandedRulesApply;
}

let bandedRules: Rules | undefined;
let bandedRulesApply = false;

/** The holders of any of the instruments, unsorted (the pending checks are sorted once). */
function holdersOfAny(state: ClearingState, instruments: readonly string[]): string[] {
  const out: string[] = [];
  for (const instrument of instruments) for (const account of state.ledger.holders.get(instrument) ?? []) out.push(account);
  return out;
}

/** Accounts an input can change, i.e. the only ones the saga must re-evaluate (besides band crossings); in no particular order. */
function touchedBy(state: ClearingState, input: InputEvent, remarked: readonly string[]): string[] {
  switch (input.type) {
    case 'Deposited':
    case 'WithdrawalRequested':
    case 'TokenUnitsCreated':
    case 'TokenUnitsRedeemed':
      // a token's fund is checked after its rebalance (handleInput)
      return [input.account];
    case 'TradeExecuted':
      return [input.buyer, input.seller];
    case 'MultiLegTradeExecuted':
      return input.legs.flatMap((leg) => [leg.buyer, leg.seller]);
    case 'MarketMoved':
      return [...(bandsApply(state) ? [] : holdersOfAny(state, remarked)), ...input.marks.flatMap((mark) => [...(state.ledger.collateralHolders.get(mark.instrument) ?? [])])];
    case 'PriceUpdated':
      // a collateral asset's price moves its holders' equity whatever their positions
      return [...(bandsApply(state) ? [] : holdersOfAny(state, remarked)), ...(state.ledger.collateralHolders.get(input.instrument) ?? [])];
    case 'VolatilityUpdated':
    case 'ClockAdvanced':
      return bandsApply(state) ? [] : holdersOfAny(state, remarked);
    case 'FundingRateApplied':
    case 'InstrumentSettled':
      return holdersOfAny(state, [input.instrument]);
    case 'RulesActivated':
      return [...state.ledger.accounts.keys()];
    case 'InstrumentListed':
      return [];
  }
}

/**
 * One step of the shard loop, pure over the state: validate → fire the timers
 * the input's `ts` passed → evolve the input → decide → evolve each decision
 * as it is made. Decisions are folded in the order they are logged, so
 * replay, which folds the log in order, reaches exactly the live state:
 * 1. the grace periods whose deadline is strictly before the input's `ts`
 *    expire at their deadlines, in deadline order (ties by unit key, i.e.
 *    account id), on the state as it was before the input — the close-out is
 *    priced at the marks that prevailed at the deadline. Each deadline's
 *    decisions (expiry, liquidation, insurance, ADL or socialized loss, the
 *    margin checks of the accounts they touched, a new call) are stamped with
 *    it, and a call issued there whose own deadline the input also passed
 *    fires in turn. These are logged *before* the input (`beforeInput`); a
 *    deadline is never before the shard's clock, so the log's `ts` stays in order;
 * 2. the input is folded in, and the clock moves to its `ts`;
 * 3. the input's own decisions (withdrawal, funding), on the state after the close-outs;
 * 4. margin checks of the accounts it touched, in account-id order, then of
 *    accounts the decisions touched (ADL, socialized losses), until none is left;
 *    whenever the checks settle, the losses the input's bankruptcies left are
 *    shared once (socializePendingLosses) and its payers checked in turn.
 *    (A creation or redemption of a token's units first rebalances its token,
 *    before any check: docs/rules.md §12.1.)
 * 5. under rules `tokens`, the other tokens' rebalances, then the checks of
 *    their funds and counterparties, settled as in 4.
 * Throws InputRejected before changing anything if the input cannot apply
 * (a refused input fires no timer).
 */
export function handleInput(state: ClearingState, input: InputEvent): HandleResult {
  // the commonest input, a venue's mark with no idempotency key, on a path of its own (handleMark)
  if (input.type === 'PriceUpdated' && input.eventId === undefined && input.postedBy === undefined) return handleMark(state, input.ts, input.instrument, input.price, toMarkNumber(input.price), input);
  if (validateInput(state, input) === 'duplicate') {
    state.stats.duplicates++;
    return { duplicate: true, decisions: [], beforeInput: 0 };
  }
  if (state.bands.owed.size > 0 && !leavesBandsOwed(state, input)) bandOwed(state);
  // the hot path: a price update (of an instrument no option is written on) that leaves every band
  // and fires no timer decides nothing
  let crossed: readonly string[] | undefined;
  if (input.type === 'PriceUpdated' && bandsApply(state) && !state.bandsStale && !state.impact?.residuals.size && !state.rules?.tokens && !(input.ts > state.saga.earliestDeadline) && !state.ledger.underlyingsWithOptions.has(input.instrument) && !state.ledger.collateralHolders.get(input.instrument)?.size) {
    evolve(state, input);
    crossed = state.bands.crossed(input.instrument, toMarkNumber(input.price));
    if (crossed.length === 0) return NOTHING_DECIDED;
    const passed = screenAll(state, crossed);
    if (passed === crossed.length) return NOTHING_DECIDED;
    return decideInput(state, input, crossed, passed);
  }
  if (input.type === 'MarketMoved' && (crossed = foldBandedMove(state, input))?.length === 0) return NOTHING_DECIDED;
  return decideInput(state, input, crossed, 0);
}

/**
 * handleInput of a price update with no idempotency key (no `eventId`, no
 * `postedBy`: never a duplicate, and it leaves no key), from its fields:
 * `price` in ledger units and `mark`, the same price as the float64 the
 * bands compare (toMarkNumber(price)). `input` is the event when the caller
 * has one; it is made only if the update must take the whole path.
 *
 * Its own function, reading no input object: handleInput's reads of an
 * input's fields see every shape of input a run carries, which V8 serves
 * from a megamorphic cache (~0.15 µs more per tick, measured); here every
 * read is of the state. Same validation, same fold and the same decisions
 * as handleInput of the event (the engine's "fast paths change no decision"
 * property covers it: with fastPaths off every update takes the whole path).
 */
export function handleMark(state: ClearingState, ts: Timestamp, instrument: string, price: Fixed, mark: number, input?: PriceUpdated): HandleResult {
  const listed = validateKeylessPrice(state, ts, instrument);
  if (state.bands.owed.size > 0) bandOwed(state);
  const { ledger } = state;
  // the sets are empty on most venues: their sizes first (a look-up by name costs more)
  if (bandsApply(state) && !state.bandsStale && !state.impact?.residuals.size && !state.rules?.tokens && !(ts > state.saga.earliestDeadline) && !(ledger.underlyingsWithOptions.size > 0 && ledger.underlyingsWithOptions.has(instrument)) && !(ledger.collateralHolders.size > 0 && ledger.collateralHolders.get(instrument)?.size)) {
    evolveKeylessPrice(state, listed, price, ts);
    const crossed = state.bands.crossed(instrument, mark);
    if (crossed.length === 0) return NOTHING_DECIDED;
    const passed = screenAll(state, crossed);
    if (passed === crossed.length) return NOTHING_DECIDED;
    return decideInput(state, input ?? { type: 'PriceUpdated', ts, instrument, price }, crossed, passed);
  }
  return decideInput(state, input ?? { type: 'PriceUpdated', ts, instrument, price }, undefined, 0);
}

/**
 * handleInput past its hot path: `crossed` are the accounts whose bands a
 * banded price update or move crossed (it is already folded in), undefined
 * for any other input (not folded yet); the first `crossedPassed` of them
 * passed screenAll (their bands are still in its scratch). A function of its
 * own because its closures make V8 allocate a context on entry, which the hot
 * path (most inputs) need not pay.
 */
function decideInput(state: ClearingState, input: InputEvent, crossed: readonly string[] | undefined, crossedPassed: number): HandleResult {
  const decisions: DecisionEvent[] = [];
  // the screens of an earlier input are of no use to this one (marks may have moved since)
  PASSED_SCREENS.reset();
  // the log's clock before this input (and its timers): a token's daily rebalance is due when its instant is after it
  const previousClock = state.clock;
  if (state.bandsStale && state.rules) rebandAll(state);
  if (state.rules && input.ts > state.saga.earliestDeadline) fireTimersBefore(state, input.ts, decisions);
  const beforeInput = decisions.length;
  // the timers' screens were at the marks before this input's (folded below, unless crossed: then no timer fired)
  PASSED_SCREENS.reset();
  if (crossedPassed > 0) keepCrossedScreens(state, crossed!, crossedPassed);

  const pending = new Set<string>(crossed);
  const ctx = sagaContext(state, input.ts, decisions, pending);
  const remarked = crossed ? [] : remarkedBy(state, input);
  const touched = touchedBy(state, input, remarked);
  if (!crossed) evolve(state, input);
  if (input.type === 'WithdrawalRequested') decideWithdrawal(ctx, input);
  if (input.type === 'FundingRateApplied') decideFunding(ctx, input);
  if (!state.rules) return { duplicate: false, decisions, beforeInput };
  if (state.impact?.residuals.size) decayMarks(state, ctx);
  // a creation or redemption of a token's units: its fund trades back to target before any check (docs/rules.md §12.1)
  const unitsOf = input.type === 'TokenUnitsCreated' || input.type === 'TokenUnitsRedeemed' ? input.token : undefined;
  if (unitsOf !== undefined) rebalanceForUnits(ctx, previousClock, unitsOf, input.type === 'TokenUnitsCreated' ? 'creation' : 'redemption');

  for (const account of touched) pending.add(account);
  if (bandsApply(state) && !crossed) {
    for (const id of remarked) {
      const mark = state.ledger.instruments.get(id)?.mark;
      if (mark !== undefined) for (const account of state.bands.crossed(id, toMarkNumber(mark))) pending.add(account);
    }
  }
  // an input that leaves its accounts' bands owed has no use for its screens' bands: its checks screen for the answer alone
  const checked = settleChecks(state, ctx, pending, !leavesBandsOwed(state, input), firstRoundWithoutBands(state, input, decisions, beforeInput));
  // leveraged tokens rebalance at the marks the checks (and their cascade) left; their trades' impact and the
  // checks of the accounts they concern settle in turn (docs/rules.md §12)
  if (state.rules.tokens) {
    rebalanceTokens(ctx, previousClock, unitsOf);
    settleChecks(state, ctx, pending);
  }
  if (bandsApply(state)) {
    const changed = changedBy(checked, beforeInput === 0 ? decisions : decisions.slice(beforeInput));
    if (leavesBandsOwed(state, input)) oweBands(state, changed);
    else for (const id of changed) bandAccount(state, id);
  }
  return { duplicate: false, decisions, beforeInput };
}

/**
 * Whether the input may leave the bands of the accounts it changed owed
 * (PriceBands.owed) instead of banding them now: an input that moves no mark
 * (a trade, a deposit, a withdrawal) under rules whose forced fills move none
 * either (no `impact`, no `tokens` rebalancing): nothing it decides reads the
 * bands, and the next input that does bands the owed accounts first
 * (bandOwed), at the same marks, so with the same bands as banding them now.
 */
function leavesBandsOwed(state: ClearingState, input: InputEvent): boolean {
  switch (input.type) {
    case 'TradeExecuted':
    case 'MultiLegTradeExecuted':
    case 'Deposited':
    case 'WithdrawalRequested':
      return bandsApply(state) && !state.bandsStale && !state.rules!.impact && !state.rules!.tokens && !state.impact?.residuals.size;
    default:
      return false;
  }
}

/** At most this many accounts are owed bands: past it they are banded at once (memory bounded by it, not by the run). */
const MAX_OWED = 4096;

function oweBands(state: ClearingState, changed: Iterable<string>): void {
  const { owed } = state.bands;
  for (const id of changed) owed.add(id);
  if (owed.size > MAX_OWED) bandOwed(state);
}

/**
 * Bands the accounts earlier inputs left owed (PriceBands.owed): called
 * before anything reads the bands. Exported for the tests that compare an
 * account's bands with a fresh banding's.
 */
export function bandOwed(state: ClearingState): void {
  // a screen kept from an input stands only within it (the owed bands are the same from a fresh screen)
  PASSED_SCREENS.reset();
  const { owed } = state.bands;
  if (state.rules) for (const id of owed) bandAccount(state, id);
  owed.clear();
}

/** A saga context at `ts` whose decisions are folded into `state` and appended to `decisions` as they are made. */
function sagaContext(state: ClearingState, ts: Timestamp, decisions: DecisionEvent[], pending: Set<string>, checked?: Set<string>): InputContext {
  return new InputContext(state, ts, decisions, pending, checked);
}

/**
 * sagaContext's context: a class rather than an object literal of closures,
 * so an input that reaches the saga allocates one object (no closure per
 * method, no V8 context holding its variables).
 */
class InputContext implements ImpactingContext {
  readonly ledger: LedgerState;
  readonly saga: SagaState;
  readonly fastPaths: boolean;
  /** Made at the first forced fill under rules with `impact` (an input may activate them). */
  private wave: ImpactWave | undefined = undefined;

  constructor(
    private readonly state: ClearingState,
    readonly ts: Timestamp,
    private readonly decisions: DecisionEvent[],
    private readonly pending: Set<string>,
    /** Every account checked in this step: an input's, or (shared by their contexts) all the deadlines' of a timer phase. */
    readonly checked = new Set<string>(),
  ) {
    this.ledger = state.ledger;
    this.saga = state.saga;
    this.fastPaths = state.fastPaths;
  }

  get impact(): ImpactWave | undefined {
    return (this.wave ??= this.state.rules?.impact ? new ImpactWave(this.state, (instrument) => this.markMoved(instrument)) : undefined);
  }

  get rules(): Rules {
    if (!this.state.rules) throw new Error('no rules are active');
    return this.state.rules;
  }

  emit(decision: DecisionEvent): void {
    evolve(this.state, decision);
    this.decisions.push(decision);
    if (this.state.rules?.impact) this.impact?.note(decision);
  }

  touch(account: string): void {
    this.pending.add(account);
  }

  /** A mark moved within this context's step (impact or its decay): see checkMarkMoved. */
  markMoved(instrument: string): void {
    checkMarkMoved(this.state, instrument, this.pending, this.checked);
  }
}

/** decayImpact in a function of its own: its callback would otherwise make decideInput allocate a context for every input. */
function decayMarks(state: ClearingState, ctx: InputContext): void {
  decayImpact(state, ctx, (instrument) => ctx.markMoved(instrument));
}

/** A saga context whose forced fills may move marks (rules `impact`). */
type ImpactingContext = SagaContext & { readonly impact: ImpactWave | undefined; readonly checked: Set<string> };

/**
 * A mark moved within a step (impact or its decay): the accounts it may push
 * below their call level are checked in the same settle loop — under the
 * bands those whose band the new mark leaves (and the options' holders),
 * otherwise every holder on the underlying — plus the holders of it as collateral.
 */
function checkMarkMoved(state: ClearingState, instrument: string, pending: Set<string>, checked: ReadonlySet<string>): void {
  const underlying = underlyingOf(state.ledger.instruments.get(instrument)!);
  const onIt = [...state.ledger.instruments.values()].filter((i) => underlyingOf(i) === underlying && !i.settled).map((i) => i.id);
  if (bandsApply(state)) {
    for (const id of onIt) {
      const mark = state.ledger.instruments.get(id)!.mark;
      if (mark !== undefined) for (const account of state.bands.crossed(id, toMarkNumber(mark))) pending.add(account);
    }
    // the accounts already checked in this step are out of the bands (crossed) or banded for their old positions
    // until the step ends: those holding what moved are checked again
    for (const account of checked) {
      const positions = state.ledger.accounts.get(account)?.positions;
      if (positions && onIt.some((id) => positions.has(id))) pending.add(account);
    }
  } else {
    for (const account of holdersOfAny(state, onIt)) pending.add(account);
  }
  for (const account of state.ledger.collateralHolders.get(instrument) ?? []) pending.add(account);
}

/**
 * Margin checks of the pending accounts, in account-id order, round after
 * round until their decisions touch no one new; returns every account
 * checked. Accounts the float screen passes are not checked (reband bands
 * them from the same screen; `bandsWanted` false: the input leaves their
 * bands owed, and the screen cuts none). With rules `impact`, once the checks settle at the
 * marks they started with, the forced fills they made move their marks, and
 * the accounts the new marks concern are checked in turn (a cascade wave):
 * every wave is decided at fixed marks, so which round an account falls in
 * never matters.
 */
function settleChecks(state: ClearingState, ctx: ImpactingContext, pending: Set<string>, bandsWanted = true, firstRound?: FirstRoundWithoutBands): Set<string> {
  const checked = ctx.checked;
  // the float screen (tiered models): an account it proves above its call level, with no call open, would decide
  // nothing in its check; its bands come from the same proof (kept for the input: PassedScreens)
  const screen = bandsApply(state);
  let join: FirstRoundJoin | undefined;
  for (let round = 0; ; round++) {
    if (round > 1000) throw new Error('margin checks did not settle after 1000 rounds');
    if (pending.size === 0) {
      // the checks settled at these marks: the forced fills since the last impact move their marks (rules
      // `impact`), and the accounts the new marks concern are checked — the next cascade wave
      if (ctx.rules.impact && ctx.impact?.apply(ctx) && pending.size > 0) continue;
      // the checks settled: the bankruptcies of this context (an input, or a deadline's close-outs) share what
      // they left uncovered, once; its payers are checked in turn
      socializePendingLosses(ctx);
      if (pending.size === 0) break;
    }
    const batch = sortedIds(pending);
    pending.clear();
    if (round === 0 && firstRound !== undefined) join = new FirstRoundJoin(batch, firstRound);
    for (let i = 0; i < batch.length; i++) {
      const account = batch[i]!;
      checked.add(account);
      if (screen && screenPasses(state, account, bandsWanted)) continue;
      checkAccount(ctx, account);
      // without the bands, the first round holds every holder of what the input moved, in id order: one this check's
      // decisions touched, and later in that order, is checked in this round, after them, as it would be there
      if (round === 0 && join !== undefined && pending.size > 0) join.after(i, pending);
    }
  }
  return checked;
}

/**
 * The ids in `pending`, sorted as `[...pending].sort()` sorts them (by UTF-16
 * code units, as `<` compares strings; ids in a set are unique, so any sort
 * gives this order): an insertion sort for the few a check round usually
 * holds, which allocates nothing but the answer.
 */
function sortedIds(pending: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const id of pending) out.push(id);
  if (out.length > 16) return out.sort();
  for (let i = 1; i < out.length; i++) {
    const id = out[i]!;
    let j = i - 1;
    for (; j >= 0 && out[j]! > id; j--) out[j + 1] = out[j]!;
    out[j + 1] = id;
  }
  return out;
}

/** Who an input's first round of checks would hold without the bands (firstRoundWithoutBands). */
export interface FirstRoundWithoutBands {
  holds(account: string): boolean;
  /** How many decisions the input has made so far: `holds` turns true for an account only as they grow. */
  decisions(): number;
}

/**
 * The accounts an input's first round of checks would hold without the bands and holds with them only once a
 * decision touches them: with the bands, a price move's first round holds only the accounts it crossed (touchedBy),
 * without them every holder of what it moved (its instruments, and those on the same underlying where the model
 * reads them). Undefined without the bands (the two first rounds are the same); an input that moves no mark holds
 * no one in it.
 * A holder is one as the input found it: one that still holds, or whose position this input's fills took (a fill
 * only takes positions, so an account once held stays held).
 */
function firstRoundWithoutBands(state: ClearingState, input: InputEvent, decisions: readonly DecisionEvent[], beforeInput: number): FirstRoundWithoutBands | undefined {
  if (!bandsApply(state)) return undefined;
  const { holders } = state.ledger;
  // what the input moved, found at the first question (most first rounds decide nothing that touches another account:
  // a trade's, a deposit's); the instruments and their underlyings do not change within an input
  let moved: string[] | undefined;
  // the accounts whose positions in what the input moved its fills took, each decision read once (the input's
  // decisions only grow): a question per account and decision made a crash's ADL storm quadratic (B9: ~100× its tick)
  const filled = new Set<string>();
  let read = beforeInput;
  return {
    holds(account) {
      moved ??= remarkedBy(state, input, true);
      for (const instrument of moved) if (holders.get(instrument)?.has(account)) return true;
      for (; read < decisions.length; read++) {
        const d = decisions[read]!;
        if ((d.type === 'PositionAutoDeleveraged' || d.type === 'PositionLiquidated') && moved.includes(d.instrument)) filled.add(d.account);
      }
      return filled.has(account);
    },
    decisions: () => decisions.length,
  };
}

/**
 * The first round of an input's checks (`batch`, sorted) joined, after each check, by the accounts of `pending` that
 * sort after the one just checked, are not in it yet, and the first round without the bands holds: they are checked
 * in this round, in id order, as they would be without the bands. A crash's ADL storm asks after each of ~1,000
 * checks with thousands pending, so each id is looked at once when it enters `pending` (pending only grows within a
 * round, in insertion order), again only while it waits for a decision to put it in the first round, and dropped
 * once the checks have passed it; a join is a binary search.
 */
export class FirstRoundJoin {
  private readonly inBatch: Set<string>;
  /** Entries of `pending` looked at. */
  private seen = 0;
  /** Ids after the last one checked that the first round without the bands did not hold when looked at. */
  private waiting: string[] = [];
  private decisionsSeen = 0;

  constructor(
    private readonly batch: string[],
    private readonly firstRound: FirstRoundWithoutBands,
  ) {
    this.inBatch = new Set(batch);
  }

  /** After the check of batch[i]. */
  after(i: number, pending: ReadonlySet<string>): void {
    const current = this.batch[i]!;
    const decisions = this.firstRound.decisions();
    if (decisions !== this.decisionsSeen && this.waiting.length > 0) {
      const again = this.waiting;
      this.waiting = [];
      for (const id of again) this.consider(id, current, i);
    }
    this.decisionsSeen = decisions;
    if (pending.size > this.seen) {
      let k = 0;
      for (const id of pending) if (k++ >= this.seen) this.consider(id, current, i);
      this.seen = pending.size;
    }
  }

  private consider(id: string, current: string, i: number): void {
    // at or before the current id: the checks have passed it for good (the batch is sorted, so an id in it after i
    // sorts after current, and inBatch answers for them)
    if (!(id > current) || this.inBatch.has(id)) return;
    if (!this.firstRound.holds(id)) {
      this.waiting.push(id);
      return;
    }
    const batch = this.batch;
    let low = i + 1;
    let high = batch.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (batch[middle]! < id) low = middle + 1;
      else high = middle;
    }
    batch.splice(low, 0, id);
    this.inBatch.add(id);
  }
}

/**
 * Fires, deadline by deadline, every grace timer due strictly before `until`
 * (an input's `ts`), on the state before that input: each deadline gets its
 * own context stamped with it (its bankruptcy index sees the marks of that
 * moment, which no input moves until `until`), and the margin checks its
 * close-outs call for run at it. The due calls are found in one scan; only a
 * call issued at a deadline with its own deadline before `until` (it fires in
 * turn) makes it scan again. Accounts the close-outs changed get fresh bands
 * before the input is decided, so its band crossings see the state after them.
 */
function fireTimersBefore(state: ClearingState, until: Timestamp, decisions: DecisionEvent[]): void {
  const from = decisions.length;
  // one set for every deadline's context: an account an earlier deadline checked keeps the bands of its old
  // positions until the reband below, so a later deadline's impact moving a mark it holds must check it again
  // (checkMarkMoved), as the exact path checks every holder
  const checked = new Set<string>();
  let due = dueTimers(state.saga, until);
  for (let i = 0; i < due.length; ) {
    const deadline = due[i]!.deadline;
    const pending = new Set<string>();
    const ctx = sagaContext(state, deadline, decisions, pending, checked);
    const issuedFrom = decisions.length;
    for (; i < due.length && due[i]!.deadline === deadline; i++) expireGracePeriod(ctx, due[i]!.key);
    settleChecks(state, ctx, pending);
    const dueAgain = decisions.slice(issuedFrom).some((d) => d.type === 'MarginCallIssued' && d.deadline !== undefined && d.deadline < until);
    if (dueAgain) {
      due = dueTimers(state.saga, until);
      i = 0;
    }
  }
  // the close-outs decided something (a timer always does): every account they or their checks touched is re-banded
  if (bandsApply(state)) for (const id of changedBy(checked, decisions.slice(from))) bandAccount(state, id);
}

/**
 * The hot path of a market move, as of a price update: when the bands cover
 * everything it moves (no volatility, no instrument with options or held as
 * collateral, no timer due), folds it and answers the accounts whose band
 * any of its marks leaves; undefined (nothing folded) otherwise.
 */
function foldBandedMove(state: ClearingState, input: MarketMoved): string[] | undefined {
  const { ledger } = state;
  if (!bandsApply(state) || state.bandsStale || state.impact?.residuals.size || state.rules?.tokens || input.ts > state.saga.earliestDeadline || input.volatilities.length > 0) return undefined;
  if (input.marks.some(({ instrument }) => ledger.underlyingsWithOptions.has(instrument) || ledger.collateralHolders.get(instrument)?.size)) return undefined;
  evolve(state, input);
  const crossed: string[] = [];
  for (const { instrument, price } of input.marks) for (const account of state.bands.crossed(instrument, toMarkNumber(price))) crossed.push(account);
  return crossed;
}

/**
 * The hot path's crossings when the float screen passes every one of them:
 * then the margin checks below would decide nothing and band each from the
 * screen, which is done here without the checks' machinery. Answers how
 * many of them (the first ones) passed: all of them, and every one is
 * banded; fewer (and no band set) as soon as one needs the exact check: the
 * input then takes the whole path, keeping the screens that passed.
 */
function screenAll(state: ClearingState, crossed: readonly string[]): number {
  const rules = state.rules!;
  const scratch = SCREEN_SCRATCH;
  scratch.count = 0;
  const starts = SCREEN_STARTS;
  for (let i = 0; i < crossed.length; i++) {
    const id = crossed[i]!;
    starts[i] = scratch.count;
    if (isSystemAccount(rules, id) || hasOpenCall(state.saga, id)) return i;
    const account = state.ledger.accounts.get(id);
    // crossed[i] is the last crossing's i-th account: the bands screen it from its float mirror
    if (!account || !state.bands.screenCrossedInto(i, state.ledger, rules, account, scratch)) return i;
  }
  starts[crossed.length] = scratch.count;
  for (let i = 0; i < crossed.length; i++) state.bands.setFromCrossed(i, scratch, starts[i]!, starts[i + 1]!);
  return crossed.length;
}

/** screenAll's bands, reused from one price update to the next (a cache of no meaning between calls). */
const SCREEN_SCRATCH = new BandScratch();
const SCREEN_STARTS: number[] = [];

/**
 * The passing screens of the input being decided, so that an account checked
 * again, or re-banded, in the same input is not screened again: a liquidating
 * tick screened each crossed account in screenAll, in the settle loop, then in
 * reband (and a trade its two sides twice). An entry stands while the account
 * is the same object at the same version with the same cash and no collateral,
 * under the same rules, with no call open: all a screen reads of a
 * non-isolated account (its positions through its version; an isolated one's
 * margins change without it, so none is kept). The marks a screen reads do not
 * move within an input's checks unless rules `impact` (forced fills move them)
 * or `tokens` (rebalances) are on: nothing is kept under those. Emptied at each
 * input and after its timers (whose checks ran at the marks before it).
 *
 * At most MAX_PASSED_SCREENS entries. The first SCANNED_SCREENS are found by
 * a scan (a liquidating tick of the bench day screens ~13 times), and nothing
 * is allocated once the arrays have grown; past them (a funding round checks
 * and re-bands every holder of its instrument: ~1,000 on the bench day) an
 * index by account finds them, or the re-banding would screen each holder
 * again.
 */
class PassedScreens {
  count = 0;
  private rules: Rules | undefined = undefined;
  /** Each kept account's latest entry, once more than SCANNED_SCREENS are kept (empty below). */
  private readonly byAccount = new Map<Account, number>();
  private readonly accounts: (Account | undefined)[] = [];
  private readonly versions: number[] = [];
  private readonly cashes: Fixed[] = [];
  readonly scratches: BandScratch[] = [];
  readonly froms: number[] = [];
  readonly tos: number[] = [];
  /** screenPasses' bands, appended screen after screen (those of a screen kept here stay until the next input). */
  readonly scratch = new BandScratch();

  reset(): void {
    // no account is kept alive past its input
    for (let i = 0; i < this.count; i++) this.accounts[i] = undefined;
    if (this.count > SCANNED_SCREENS) this.byAccount.clear();
    this.count = 0;
    this.scratch.count = 0;
    this.rules = undefined;
  }

  /** Keeps the passing screen of `account` whose bands are [from, to) of `scratch`; false when it cannot be kept. */
  keep(rules: Rules, account: Account, scratch: BandScratch, from: number, to: number): boolean {
    if (this.count >= MAX_PASSED_SCREENS || account.isolated || rules.impact || rules.tokens) return false;
    if (this.rules !== rules) {
      if (this.count > 0) return false;
      this.rules = rules;
    }
    const i = this.count++;
    this.accounts[i] = account;
    this.versions[i] = account.version;
    this.cashes[i] = account.cash;
    this.scratches[i] = scratch;
    this.froms[i] = from;
    this.tos[i] = to;
    if (i === SCANNED_SCREENS) for (let j = 0; j <= i; j++) this.byAccount.set(this.accounts[j]!, j);
    else if (i > SCANNED_SCREENS) this.byAccount.set(account, i);
    return true;
  }

  /** The entry whose bands a screen of `account` (no call open) would cut now under `rules`; -1: screen it. */
  find(rules: Rules, account: Account): number {
    if (rules !== this.rules || account.collateral.size > 0) return -1;
    if (this.count > SCANNED_SCREENS) {
      const i = this.byAccount.get(account);
      return i !== undefined && this.versions[i] === account.version && this.cashes[i] === account.cash ? i : -1;
    }
    for (let i = this.count - 1; i >= 0; i--) {
      if (this.accounts[i] === account) return this.versions[i] === account.version && this.cashes[i] === account.cash ? i : -1;
    }
    return -1;
  }
}

// enough for a funding round's holders on a venue's instrument; a rules change checking a million accounts keeps the
// first 4,096 (the scratch's bands stay allocated between inputs: ~0.5 MB at this size)
const MAX_PASSED_SCREENS = 4096;
const SCANNED_SCREENS = 16;
const PASSED_SCREENS = new PassedScreens();

/** The first `passed` crossed accounts passed screenAll (nothing changed since): their screens are kept. */
function keepCrossedScreens(state: ClearingState, crossed: readonly string[], passed: number): void {
  const rules = state.rules!;
  for (let i = 0; i < passed; i++) {
    const account = state.ledger.accounts.get(crossed[i]!);
    if (account !== undefined) PASSED_SCREENS.keep(rules, account, SCREEN_SCRATCH, SCREEN_STARTS[i]!, SCREEN_STARTS[i + 1]!);
  }
}

/**
 * Whether the float screen proves that a check of the account (no call open)
 * would leave it alone; false: check it exactly. A passing screen is kept
 * (PASSED_SCREENS): a later check or reband of the account in the same input
 * takes its bands while nothing it reads has moved. `bandsWanted` false (an
 * input that leaves the bands owed): the same screen, its bands neither cut
 * nor kept.
 */
function screenPasses(state: ClearingState, id: string, bandsWanted: boolean): boolean {
  const rules = state.rules!;
  if (isSystemAccount(rules, id) || hasOpenCall(state.saga, id)) return false;
  const account = state.ledger.accounts.get(id);
  if (account === undefined) return false;
  if (PASSED_SCREENS.find(rules, account) >= 0) return true;
  if (!bandsWanted) return state.bands.screenPasses(state.ledger, rules, account);
  const scratch = PASSED_SCREENS.scratch;
  const from = scratch.count;
  if (!state.bands.screenInto(state.ledger, rules, account, scratch)) {
    scratch.count = from;
    return false;
  }
  if (!PASSED_SCREENS.keep(rules, account, scratch, from, scratch.count)) scratch.count = from;
  return true;
}

/** Every account an input or its decisions changed (or only checked): they get fresh bands. */
function changedBy(checked: Set<string>, decisions: readonly DecisionEvent[]): Set<string> {
  if (decisions.length === 0) return checked;
  const changed = new Set(checked);
  for (const d of decisions) {
    const e = d as { account?: string; counterparty?: string; shares?: { account: string }[] };
    if (e.account) changed.add(e.account);
    if (e.counterparty) changed.add(e.counterparty);
    for (const share of e.shares ?? []) changed.add(share.account);
  }
  return changed;
}

/** The account's bands now: from a passing screen of this input that still stands, or a screen, or the exact bands. */
function bandAccount(state: ClearingState, id: string): void {
  const rules = state.rules!;
  const account = state.ledger.accounts.get(id);
  if (!account || isSystemAccount(rules, id) || account.positions.size === 0) {
    state.bands.remove(id);
    return;
  }
  const called = hasOpenCall(state.saga, id);
  // the account's own id: `id` may be a copy parsed from an input, which the bands would keep alive (one more string per account)
  if (!called) {
    const kept = PASSED_SCREENS.find(rules, account);
    if (kept >= 0) {
      state.bands.setFrom(account.id, PASSED_SCREENS.scratches[kept]!, PASSED_SCREENS.froms[kept]!, PASSED_SCREENS.tos[kept]!);
      return;
    }
    const scratch = BAND_SCRATCH;
    scratch.count = 0;
    if (state.bands.screenInto(state.ledger, rules, account, scratch)) {
      state.bands.setFrom(account.id, scratch, 0, scratch.count);
      return;
    }
  }
  state.bands.set(account.id, bandsFor(state.ledger, rules, account, called ? state.saga.callsByAccount.get(id) : undefined));
}

/** bandAccount's screen (not screenAll's scratch, whose bands PASSED_SCREENS may hold). */
const BAND_SCRATCH = new BandScratch();

/** After a replay (or a rules change of the cache's inputs) every account is banded from scratch. */
export function rebandAll(state: ClearingState): void {
  // called from outside an input too (exported): no screen kept from an input may stand for the state now
  PASSED_SCREENS.reset();
  state.bands.owed.clear();
  for (const id of state.ledger.accounts.keys()) bandAccount(state, id);
  state.bandsStale = false;
}
