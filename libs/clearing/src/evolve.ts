import type { ClearingEvent, DecisionEvent, InputEvent, MarkImpacted, TradeLeg, Timestamp, VolatilityUpdated } from '@clearsim/events';
import {
  chargeFee,
  chargeGain,
  creditUnit,
  deposit,
  ensureAccount,
  getAccount,
  getInstrument,
  moveCollateral,
  recordPrice,
  transfer,
  transferCollateral,
  refreshOptionMarks,
  settleInstrument,
  trade,
  withdraw,
  unrealizedPnl,
  type Account,
  type Instrument,
} from '@clearsim/ledger';
import { initialMarginOf, notionalValue, tierFor } from '@clearsim/margin';
import { abs, divRound, max, min, SCALE, toNumber, type Fixed } from '@clearsim/money';
import { withVolatility } from '@clearsim/options';
import { instrumentRules, isSystemAccount, parseRules, takesAsCollateral, type Rules } from '@clearsim/rules';
import { evolveSaga, liquidationFillPrice, noteLiquidationFill, noteOwnAction } from '@clearsim/saga';
import type { ClearingState } from './clearing.state';
import { contentDigest, idempotencyKey, kafkaPosition } from './idempotency';
import { foldTokenUnits } from './token-units';

/**
 * evolve(state, event): folds one logged event — input or decision — into the
 * shard state. It decides nothing; live processing, replay and re-simulation
 * all go through it, so they cannot drift apart. It mutates `state` in place:
 * one writer owns a shard's state.
 */
export function evolve(state: ClearingState, event: ClearingEvent): void {
  if (event.ts > state.clock) state.clock = event.ts;
  switch (event.type) {
    case 'RulesActivated':
    case 'InstrumentListed':
    case 'Deposited':
    case 'WithdrawalRequested':
    case 'PriceUpdated':
    case 'TradeExecuted':
    case 'FundingRateApplied':
    case 'InstrumentSettled':
    case 'VolatilityUpdated':
    case 'MarketMoved':
    case 'MultiLegTradeExecuted':
    case 'TokenUnitsCreated':
    case 'TokenUnitsRedeemed':
    case 'ClockAdvanced':
      return evolveInput(state, event);
    default:
      return evolveDecision(state, event);
  }
}

/** A non-cash collateral asset of the active rules (the cash asset never is). */
export function isCollateralAsset(state: ClearingState, asset: string): boolean {
  return asset !== state.ledger.cashAsset && state.rules !== undefined && takesAsCollateral(state.rules, asset);
}

function rulesOf(state: ClearingState): Rules {
  if (!state.rules) throw new Error('no rules are active');
  return state.rules;
}

/** An account is isolated under `model: isolated` or when listed in `isolatedAccounts`; system accounts never are. */
function accountFor(state: ClearingState, id: string): Account {
  const rules = state.rules;
  const isolated = rules !== undefined && !isSystemAccount(rules, id) && (rules.model === 'isolated' || rules.isolatedAccounts.includes(id));
  return ensureAccount(state.ledger, id, isolated);
}

function evolveInput(state: ClearingState, input: InputEvent): void {
  const { ledger } = state;
  state.stats.eventsIn++;
  // a cascade wave is the liquidations an impact of the same step triggers
  if (state.impact) state.impact.waveOpen = false;
  const position = kafkaPosition(input);
  if (position !== undefined) {
    // one entry per Kafka partition: the highest offset applied (offsets are applied in order)
    if ((state.seenIds.get(position.partitionKey) ?? -1) < position.offset) state.seenIds.set(position.partitionKey, position.offset);
  } else {
    const key = idempotencyKey(input);
    if (key !== undefined && !state.seenIds.has(key)) state.seenIds.set(key, contentDigest(input));
  }
  switch (input.type) {
    case 'RulesActivated': {
      const rules = parseRules(input.rules);
      state.rules = rules;
      for (const id of Object.values(rules.accounts)) accountFor(state, id);
      return;
    }
    case 'InstrumentListed':
      ledger.cashAsset ??= input.settlementAsset;
      ledger.instruments.set(input.instrument, {
        id: input.instrument,
        kind: input.kind,
        underlying: input.underlying,
        settlementAsset: input.settlementAsset,
        multiplier: input.multiplier,
        expiry: input.expiry,
        optionType: input.optionType,
        strike: input.strike,
        premiumStyle: input.kind === 'option',
        ...(input.payoff === 'inverse' ? { inverse: true as const } : {}),
        settled: false,
        openInterest: 0n,
      });
      if (input.kind === 'option' && input.underlying !== undefined) ledger.underlyingsWithOptions.add(input.underlying);
      if (input.kind === 'option') refreshOptionMarks(ledger, input.ts, state.rules?.riskFreeRate ?? 0n, input.underlying);
      return;
    case 'Deposited':
      noteOwnAction(state.saga, input.account);
      if (isCollateralAsset(state, input.asset)) return moveCollateral(ledger, accountFor(state, input.account), input.asset, input.amount);
      ledger.cashAsset ??= input.asset;
      deposit(ledger, accountFor(state, input.account), input.amount);
      return;
    case 'WithdrawalRequested':
      noteOwnAction(state.saga, input.account);
      return; // the saga decides; WithdrawalApproved moves the money
    case 'PriceUpdated':
      return foldMark(state, input.instrument, withResidual(state, input.instrument, input.price), input.ts);
    case 'TradeExecuted':
      return evolveTrade(state, input);
    case 'MultiLegTradeExecuted':
      for (const leg of input.legs) evolveTrade(state, leg);
      return;
    case 'MarketMoved':
      // exactly the PriceUpdated of each mark, then the VolatilityUpdated of each volatility (only the margining differs)
      for (const mark of input.marks) foldMark(state, mark.instrument, withResidual(state, mark.instrument, mark.price), input.ts);
      for (const volatility of input.volatilities) foldVolatility(state, volatility, input.ts);
      return;
    case 'FundingRateApplied':
      return; // FundingSettled decisions move the money
    case 'InstrumentSettled':
      state.impact?.residuals.delete(input.instrument);
      return settleInstrument(ledger, getInstrument(ledger, input.instrument), input.price, accountFor(state, rulesOf(state).accounts.fees));
    case 'VolatilityUpdated':
      return foldVolatility(state, input, input.ts);
    case 'TokenUnitsCreated':
    case 'TokenUnitsRedeemed':
      return foldTokenUnits(state, rulesOf(state), input);
    case 'ClockAdvanced':
      // time decay: options are re-marked as the clock moves
      refreshOptionMarks(ledger, input.ts, state.rules?.riskFreeRate ?? 0n);
      return;
    default: {
      const unreachable: never = input;
      throw new Error(`unhandled input ${(unreachable as InputEvent).type}`);
    }
  }
}

/**
 * The mark an input's price makes: the price is the new reference, and a
 * residual impact (rules `impact`) still displaces the mark from it until the
 * decay decisions of this input move it (handle-input.ts, impact.ts).
 */
function withResidual(state: ClearingState, instrument: string, price: bigint): bigint {
  const entry = state.impact?.residuals.get(instrument);
  if (!entry) return price;
  entry.reference = price;
  const mark = price + entry.residual;
  return mark > 0n ? mark : 1n;
}

/** A forced fill's impact, or its decay: the mark moves to `to`; the residual is what separates it from the reference. */
function foldMarkImpacted(state: ClearingState, decision: MarkImpacted): void {
  const impact = (state.impact ??= { residuals: new Map(), waveOpen: false });
  const reference = impact.residuals.get(decision.instrument)?.reference ?? decision.from;
  foldMark(state, decision.instrument, decision.to, decision.ts);
  const residual = decision.to - reference;
  if (residual === 0n) impact.residuals.delete(decision.instrument);
  else impact.residuals.set(decision.instrument, { reference, residual, since: decision.ts });
  state.stats.markImpacts = (state.stats.markImpacts ?? 0) + 1;
  state.stats.cascadeWaves ??= 0;
  if (decision.cause !== 'decay') impact.waveOpen = true;
}

/** A new mark: the instrument's price history (VaR, dynamic margin) and the options written on it follow. */
function foldMark(state: ClearingState, instrument: string, price: bigint, ts: Timestamp): void {
  foldMarkOf(state, getInstrument(state.ledger, instrument), price, ts);
}

function foldMarkOf(state: ClearingState, instrument: Instrument, price: bigint, ts: Timestamp): void {
  const { ledger } = state;
  instrument.mark = price;
  if (state.rules && (state.rules.var || state.rules.dynamic)) {
    const capacity = (state.rules.var?.lookback ?? 250) + 60;
    recordPrice(ledger, instrument.id, price, ts, state.rules.history.sampleSeconds * 1000, capacity);
  }
  // no option written on anything (most venues): nothing to re-mark, and no call across packages on every tick
  if (ledger.underlyingsWithOptions.size > 0) refreshOptionMarks(ledger, ts, state.rules?.riskFreeRate ?? 0n, instrument.id);
}

/**
 * evolve of a price update with no idempotency key (no `eventId`, no
 * `postedBy`: it leaves no key in `seenIds`), from its fields and its listed
 * instrument: the engine's hot path (handleMark) folds a mark without going
 * through the generic input code, whose property reads see every input's
 * shape. The same state as evolve of the event (unit-tested).
 */
export function evolveKeylessPrice(state: ClearingState, instrument: Instrument, price: Fixed, ts: Timestamp): void {
  if (ts > state.clock) state.clock = ts;
  state.stats.eventsIn++;
  if (state.impact) state.impact.waveOpen = false;
  foldMarkOf(state, instrument, withResidual(state, instrument.id, price), ts);
}

/** A new implied volatility (of the underlying, or of one strike and expiry): the options on the underlying are re-marked. */
function foldVolatility(state: ClearingState, input: Pick<VolatilityUpdated, 'underlying' | 'volatility' | 'strike' | 'expiry'>, ts: Timestamp): void {
  const { ledger } = state;
  ledger.volatility = withVolatility(ledger.volatility, {
    underlying: input.underlying,
    volatility: toNumber(input.volatility),
    ...(input.strike !== undefined && input.expiry !== undefined ? { strike: toNumber(input.strike), expiryMs: input.expiry } : {}),
  });
  refreshOptionMarks(ledger, ts, state.rules?.riskFreeRate ?? 0n, input.underlying);
}

/** One bilateral trade: a TradeExecuted, or one leg of a MultiLegTradeExecuted. */
function evolveTrade(state: ClearingState, input: TradeLeg): void {
  const { ledger } = state;
  const rules = rulesOf(state);
  const instrument = getInstrument(ledger, input.instrument);
  instrument.mark ??= input.price;
  const buyer = accountFor(state, input.buyer);
  const seller = accountFor(state, input.seller);
  noteOwnAction(state.saga, input.buyer);
  noteOwnAction(state.saga, input.seller);
  trade(ledger, buyer, seller, instrument, input.qty, input.price, {
    buyer: { allocateIsolated: isolatedAllocation(rules, buyer, input.instrument, input.qty, input.price, instrument.multiplier, instrument.inverse) },
    seller: { allocateIsolated: isolatedAllocation(rules, seller, input.instrument, -input.qty, input.price, instrument.multiplier, instrument.inverse) },
  });
  const fees = accountFor(state, rules.accounts.fees);
  chargeFee(buyer, input.instrument, fees, input.buyerFee);
  chargeFee(seller, input.instrument, fees, input.sellerFee);
}

/**
 * An isolated position that grows is topped up from cash to the initial
 * margin of its new size at the trade price (as far as cash allows).
 */
export function isolatedAllocation(rules: Rules, account: Account, instrumentId: string, delta: bigint, price: bigint, multiplier: bigint, inverse = false): bigint {
  if (!account.isolated) return 0n;
  const position = account.positions.get(instrumentId);
  const qty = position?.qty ?? 0n;
  const next = qty + delta;
  if (abs(next) <= abs(qty)) return 0n;
  const tiers = instrumentRules(rules, instrumentId)!.tiers;
  const notional = notionalValue(next, price, multiplier, inverse);
  const wanted = initialMarginOf(notional, tierFor(tiers, notional)) - (position?.isolatedMargin ?? 0n);
  return wanted > 0n ? max(0n, wanted < account.cash ? wanted : account.cash) : 0n;
}

function evolveDecision(state: ClearingState, decision: DecisionEvent): void {
  const { ledger, stats } = state;
  stats.decisions++;
  evolveSaga(state.saga, decision);
  switch (decision.type) {
    case 'MarginCallIssued':
      stats.marginCalls++;
      return;
    case 'MarginCallMet':
      stats.marginCallsMet++;
      return;
    case 'GracePeriodExpired':
      stats.gracePeriodsExpired++;
      return;
    case 'LiquidationStarted':
      stats.liquidations++;
      if (state.impact?.waveOpen) {
        state.impact.waveOpen = false;
        stats.cascadeWaves = (stats.cascadeWaves ?? 0) + 1;
      }
      return;
    case 'PositionLiquidated': {
      const account = getAccount(ledger, decision.account);
      const counterparty = accountFor(state, decision.counterparty);
      const instrument = getInstrument(ledger, decision.instrument);
      const qty = abs(decision.qty);
      const [buyer, seller] = decision.qty > 0n ? [account, counterparty] : [counterparty, account];
      trade(ledger, buyer, seller, instrument, qty, decision.price, {
        [decision.qty > 0n ? 'buyer' : 'seller']: { liquidation: true },
      });
      chargeFee(account, decision.instrument, accountFor(state, rulesOf(state).accounts.insurance), decision.fee);
      noteLiquidationFill(state.saga, account, decision.instrument, decision.ts, state.rules?.venueLiquidation?.partial !== undefined);
      stats.positionsLiquidated++;
      return;
    }
    case 'CollateralLiquidated': {
      const account = getAccount(ledger, decision.account);
      const liquidator = accountFor(state, decision.counterparty);
      transferCollateral(ledger, account, liquidator, decision.asset, decision.amount);
      if (decision.protocolFee !== undefined) transferCollateral(ledger, account, accountFor(state, rulesOf(state).accounts.fees), decision.asset, decision.protocolFee);
      transfer(liquidator, account, decision.repaid);
      stats.positionsLiquidated++;
      return;
    }
    case 'InsuranceFundDrawn': {
      const fund = accountFor(state, decision.fund);
      fund.cash -= decision.amount;
      creditUnit(getAccount(ledger, decision.account), decision.instrument, decision.amount);
      stats.insuranceDraws++;
      stats.insuranceDrawn += decision.amount;
      return;
    }
    case 'AccountBankrupted':
      stats.bankruptcies++;
      return;
    case 'PositionAutoDeleveraged': {
      const account = getAccount(ledger, decision.account);
      const bankrupt = getAccount(ledger, decision.counterparty);
      const instrument = getInstrument(ledger, decision.instrument);
      const qty = abs(decision.qty);
      const [buyer, seller] = decision.qty > 0n ? [account, bankrupt] : [bankrupt, account];
      countAdl(stats, account, instrument, decision.qty, decision.price, rulesOf(state).liquidation.slippage);
      trade(ledger, buyer, seller, instrument, qty, decision.price, {
        [decision.qty > 0n ? 'seller' : 'buyer']: { liquidation: true },
      });
      stats.autoDeleverages++;
      return;
    }
    case 'LossSocialized': {
      // each payer's share comes out of its position's gain (its cost basis), never out of free cash
      for (const share of decision.shares) chargeGain(ledger, getAccount(ledger, share.account), share.instrument, share.amount);
      for (const loss of decision.losses) creditUnit(getAccount(ledger, loss.account), loss.instrument, loss.amount);
      stats.lossesSocialized++;
      return;
    }
    case 'WithdrawalApproved':
      if (isCollateralAsset(state, decision.asset)) moveCollateral(ledger, getAccount(ledger, decision.account), decision.asset, -decision.amount);
      else withdraw(ledger, getAccount(ledger, decision.account), decision.amount);
      stats.withdrawalsApproved++;
      return;
    case 'WithdrawalRejected':
      stats.withdrawalsRejected++;
      return;
    case 'FundingSettled': {
      const account = accountFor(state, decision.account);
      const isolated = account.isolated && account.positions.has(decision.instrument);
      creditUnit(account, isolated ? decision.instrument : undefined, decision.amount);
      return;
    }
    case 'MarkImpacted':
      return foldMarkImpacted(state, decision);
    case 'TokenRebalanced': {
      // a trade at the mark between the token's fund and its counterparty (libs/saga/src/leveraged-token.ts)
      const fund = accountFor(state, decision.account);
      const counterparty = accountFor(state, decision.counterparty);
      const [buyer, seller] = decision.qty > 0n ? [fund, counterparty] : [counterparty, fund];
      trade(ledger, buyer, seller, getInstrument(ledger, decision.instrument), abs(decision.qty), decision.price);
      stats.tokenRebalances = (stats.tokenRebalances ?? 0) + 1;
      return;
    }
    default: {
      const unreachable: never = decision;
      throw new Error(`unhandled decision ${(unreachable as DecisionEvent).type}`);
    }
  }
}


/**
 * Adds one ADL fill to the run's AdlStats, before it is traded (the position and mark it closes against). The
 * bankrupt's position has the sign of `qty` (the deleveraged trader's change), and the deficit was reckoned with it
 * closed at its liquidation price (mark ∓ slippage): the fill covers qty × (price − that price) × multiplier of it.
 */
function countAdl(stats: ClearingState['stats'], account: Account, instrument: Instrument, qty: Fixed, price: Fixed, slippage: Fixed): void {
  const adl = (stats.adl ??= { deficitCovered: 0n, profitTaken: 0n, notionalDeleveraged: 0n, accounts: new Set() });
  const mark = instrument.mark!;
  const position = account.positions.get(instrument.id);
  const closed = abs(qty);
  const fillPrice = liquidationFillPrice(mark, qty, slippage);
  adl.deficitCovered += instrument.inverse
    ? // the same difference of values, inverse: qty × face × (1/fillPrice − 1/price)
      divRound(qty * (price - fillPrice) * instrument.multiplier, price * fillPrice, 'floor')
    : divRound(qty * (price - fillPrice) * instrument.multiplier, SCALE * SCALE, 'floor');
  if (position && position.qty !== 0n) {
    const pnl = unrealizedPnl(position.qty, position.cost, mark, instrument.multiplier, instrument.inverse);
    if (pnl > 0n) adl.profitTaken += divRound(pnl * min(closed, abs(position.qty)), abs(position.qty), 'floor');
  }
  adl.notionalDeleveraged += notionalValue(closed, mark, instrument.multiplier, instrument.inverse);
  adl.accounts.add(account.id);
}
