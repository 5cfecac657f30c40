import { formatTimestamp, parseTimestamp, type Timestamp } from '@clearsim/events';
import { divRound, formatFixed, parseFixed, SCALE, type Fixed } from '@clearsim/money';
import { SlotHeap } from '@clearsim/margin';
import { instrumentRules, isSystemAccount, ownEntry, parseRules, takesAsCollateral, type Rules } from '@clearsim/rules';
import { streamFor } from './prng';
import { ScenarioError } from './scenario';
import { populationAccountIds, type PopulationGroup, type Scenario, type Waypoint } from './scenario.schema';

/** One input event in its JSON Lines shape: `type`, `ts` (ISO-8601 UTC), decimals as strings. */
export type InputJson = { type: string; ts: string } & Record<string, unknown>;

/** Fields of input events that hold decimals (numbers in hand-written extra events become strings). */
const DECIMAL_FIELDS = new Set(['amount', 'price', 'qty', 'rate', 'buyerFee', 'sellerFee', 'multiplier', 'strike', 'volatility']);

/**
 * Turns a validated scenario into its input events, in log order.
 *
 * 1. `RulesActivated` with `rules` (the raw rules object, as the caller read it);
 * 2. `InstrumentListed` per instrument, then the first waypoint of each as
 *    one mark input (see 5), in the order the instruments are written;
 * 3. `Deposited` for every explicit account with a deposit (written order),
 *    then for every generated trader (group order, then account order);
 * 4. the population's opening `TradeExecuted`, one per trader, with the
 *    group's counterparty, at the start price; then each issued leveraged
 *    token (`tokens`, written order): `Deposited` units × nav into its fund
 *    (or, a token with `holders`, the holders' creations before step 2's
 *    marks: issueUnits), and the fund's basket `TradeExecuted` with the
 *    token's counterparty: |targetLeverage| × NAV ÷ (price × multiplier),
 *    rounded down (none for a token with holders and a lower band edge: its
 *    first mark made the fund buy);
 * 5. the price path: every `prices.every` seconds after `start`, plus at every
 *    waypoint, up to each instrument's last waypoint. The marks of one instant
 *    are one input: a `PriceUpdated` when one instrument has a tick then, a
 *    `MarketMoved` (marks in written order) when several do, so the market is
 *    margined once it has moved as a whole, never half-way. The scenario's
 *    extra `events` are merged in by `ts` (after the generated prices of the
 *    same instant, keeping their own order);
 * 6. `ClockAdvanced` at `end`, when given.
 *
 * Everything before step 5 carries `ts = start`. The output depends only on the
 * scenario and the rules: same inputs, same seed → the same events, byte for byte.
 */
export function generateInputs(scenario: Scenario, rules: Record<string, unknown>, options: GenerateOptions = {}): InputJson[] {
  return Array.from(generateInputStream(scenario, rules, options));
}

/**
 * The same events as `generateInputs`, in the same order, made as they are taken: what it holds is the scenario's
 * size (its traders, their opening quantities, the extra events, one pending tick per instrument), not the price
 * path's length, so `clearsim run` streams a scenario of any length as it streams a JSONL file. Everything that can
 * refuse the scenario (the rules, a trader or a token that buys nothing) is checked here, before the first event;
 * the iterator itself does not throw a ScenarioError.
 */
export function generateInputStream(scenario: Scenario, rules: Record<string, unknown>, options: GenerateOptions = {}): IterableIterator<InputJson> {
  const parsedRules = checkAgainstRules(scenario, rules);
  const instruments = Object.entries(scenario.instruments);
  const startPrice = (instrument: string): Fixed => scenario.prices.paths[instrument]![0]!.price;
  const traders = scenario.population.map((group, g) => {
    const price = startPrice(group.instrument);
    const { multiplier, payoff } = scenario.instruments[group.instrument]!;
    return drawPopulation(scenario.seed, group).map((trader) => {
      const qty = payoff === 'inverse' ? inverseOpeningQty(trader.collateral, trader.leverage, price, multiplier) : openingQty(trader.collateral, trader.leverage, price, multiplier);
      if (qty === 0n) {
        throw new ScenarioError(scenario.name, [{ path: `population.${g}.collateral`, message: `${trader.account}: collateral × leverage buys less than 0.00000001 of ${group.instrument}` }]);
      }
      return { ...trader, qty };
    });
  });
  const tokens = Object.entries(scenario.tokens).map(([token, issue]) => {
    const spec = parsedRules.tokens![token]!;
    const instrument = scenario.instruments[spec.instrument]!;
    // tokens with holders are created before the market opens (no mark yet: the fund waits for its basket trade)
    const creations = issue.holders ? issueUnits(scenario.start, token, issue.holders, issue, spec.creationFee, instrument.settlementAsset) : undefined;
    const nav = creations?.fund ?? (issue.units * issue.nav) / SCALE;
    // with a lower band edge the first mark already made the fund of a created token buy its basket (docs/rules.md §12)
    const buysBasket = !(issue.holders && spec.band.min > 0n);
    const leverage = spec.targetLeverage < 0n ? -spec.targetLeverage : spec.targetLeverage;
    const qty = buysBasket ? openingQty(nav, leverage, startPrice(spec.instrument), instrument.multiplier) : undefined;
    if (qty === 0n) throw new ScenarioError(scenario.name, [{ path: `tokens.${token}.units`, message: `units × nav × leverage buys less than 0.00000001 of ${spec.instrument}` }]);
    return { token, spec, asset: instrument.settlementAsset, creations, nav, qty };
  });
  return events();

  function* events(): Generator<InputJson, void, undefined> {
    const start = formatTimestamp(scenario.start);
    yield { type: 'RulesActivated', ts: start, rules: jsonClone(rules) };
    for (const [instrument, spec] of instruments) {
      const listed: InputJson = { type: 'InstrumentListed', ts: start, instrument, kind: spec.kind };
      if (spec.underlying !== undefined) listed.underlying = spec.underlying;
      listed.settlementAsset = spec.settlementAsset;
      listed.multiplier = formatFixed(spec.multiplier);
      if (spec.expiry !== undefined) listed.expiry = formatTimestamp(spec.expiry);
      if (spec.optionType !== undefined) listed.optionType = spec.optionType;
      if (spec.strike !== undefined) listed.strike = formatFixed(spec.strike);
      if (spec.payoff !== undefined) listed.payoff = spec.payoff;
      yield listed;
    }
    for (const { creations } of tokens) if (creations) yield* creations.events;
    yield marksAt(start, instruments.map(([instrument]) => ({ instrument, price: startPrice(instrument) })));

    for (const [account, spec] of Object.entries(scenario.accounts)) {
      if (spec.deposit !== undefined) yield { type: 'Deposited', ts: start, account, asset: spec.asset, amount: formatFixed(spec.deposit) };
    }
    for (const [g, group] of scenario.population.entries()) {
      const asset = scenario.instruments[group.instrument]!.settlementAsset;
      for (const trader of traders[g]!) yield { type: 'Deposited', ts: start, account: trader.account, asset, amount: formatFixed(trader.collateral) };
    }
    for (const [g, group] of scenario.population.entries()) {
      const price = formatFixed(startPrice(group.instrument));
      for (const trader of traders[g]!) {
        const [buyer, seller] = group.side === 'long' ? [trader.account, group.counterparty] : [group.counterparty, trader.account];
        yield { type: 'TradeExecuted', ts: start, tradeId: `open-${trader.account}`, instrument: group.instrument, buyer, seller, qty: formatFixed(trader.qty), price, buyerFee: '0', sellerFee: '0' };
      }
    }

    for (const { token, spec, asset, creations, nav, qty } of tokens) {
      if (!creations) yield { type: 'Deposited', ts: start, account: spec.account, asset, amount: formatFixed(nav) };
      if (qty === undefined) continue;
      const [buyer, seller] = spec.targetLeverage > 0n ? [spec.account, spec.counterparty] : [spec.counterparty, spec.account];
      yield { type: 'TradeExecuted', ts: start, tradeId: `issue-${token}`, instrument: spec.instrument, buyer, seller, qty: formatFixed(qty), price: formatFixed(startPrice(spec.instrument)), buyerFee: '0', sellerFee: '0' };
    }

    const extras = scenario.events.map((raw, order) => ({ at: parseEventTs(raw), order, raw })).sort((a, b) => a.at - b.at || a.order - b.order);
    let e = 0;
    for (const { at, marks } of instants(pricePaths(scenario, instruments, options))) {
      while (e < extras.length && extras[e]!.at < at) yield normalizeExtra(extras[e++]!.raw);
      yield marksAt(formatTimestamp(at), marks);
    }
    while (e < extras.length) yield normalizeExtra(extras[e++]!.raw);

    if (scenario.end !== undefined) yield { type: 'ClockAdvanced', ts: formatTimestamp(scenario.end) };
  }
}

type Tick = { at: Timestamp; price: Fixed };

/** Each instrument's ticks, in written order: made as they are taken, or, to be reshaped (`reshapePaths`), made whole first. */
function pricePaths(scenario: Scenario, instruments: [string, unknown][], options: GenerateOptions): { instrument: string; ticks: Iterator<Tick> }[] {
  if (!options.reshapePaths) return instruments.map(([instrument]) => ({ instrument, ticks: pricePath(scenario, instrument) }));
  const whole = options.reshapePaths(instruments.map(([instrument]) => ({ instrument, ticks: [...pricePath(scenario, instrument)] })));
  return whole.map(({ instrument, ticks }) => ({ instrument, ticks: ticks[Symbol.iterator]() }));
}

/**
 * The instants of all the paths together, in time order, each with the marks of the instruments that tick then (in
 * written order): a merge of the paths (each in time order) with one pending tick per instrument in a min-heap on its
 * time (the price bands' SlotHeap, an instrument's place its slot) — the order a stable sort of every tick on time
 * would give, without holding them.
 */
function* instants(paths: { instrument: string; ticks: Iterator<Tick> }[]): Generator<{ at: Timestamp; marks: { instrument: string; price: Fixed }[] }, void, undefined> {
  const heap = new SlotHeap();
  const pending: Tick[] = [];
  const next = (index: number): void => {
    const tick = paths[index]!.ticks.next();
    if (tick.done) return;
    pending[index] = tick.value;
    heap.push(index, tick.value.at);
  };
  paths.forEach((_, index) => next(index));
  while (heap.size > 0) {
    const at = heap.keys[heap.top()]!;
    const due: number[] = [];
    while (heap.size > 0 && heap.keys[heap.top()] === at) {
      due.push(heap.top());
      heap.remove(heap.top());
    }
    // the heap does not order equal times: the instruments of one instant in their written order
    due.sort((a, b) => a - b);
    const marks = due.map((index) => ({ instrument: paths[index]!.instrument, price: pending[index]!.price }));
    for (const index of due) next(index);
    yield { at, marks };
  }
}

/**
 * A token's units created by its holders at `start`, split equally (the last
 * takes the remainder): each holder is deposited what it pays, then creates
 * its units — the first at the issue price `nav`, the next at the fund's NAV
 * per unit, which with only cash in the fund is the same: cost = units × NAV
 * / outstanding, rounded up as the clearing core rounds it (docs/rules.md
 * §12.1), plus the creation fee if the rules charge one. Returns what the
 * fund holds after, with the events.
 */
function issueUnits(at: Timestamp, token: string, holders: readonly string[], { units, nav }: { units: Fixed; nav: Fixed }, feeRate: Fixed | undefined, asset: string): { events: InputJson[]; fund: Fixed } {
  const ts = formatTimestamp(at);
  const events: InputJson[] = [];
  const share = units / BigInt(holders.length);
  let fund = 0n;
  let outstanding = 0n;
  holders.forEach((account, i) => {
    const mine = i === holders.length - 1 ? units - share * BigInt(holders.length - 1) : share;
    const [numerator, denominator] = outstanding === 0n ? [mine * nav, SCALE] : [mine * fund, outstanding];
    const cost = (numerator + denominator - 1n) / denominator;
    // the creation fee (rules creationFee), rounded up, is deposited too: it goes to the fees account
    const fee = feeRate === undefined ? 0n : (cost * feeRate + SCALE - 1n) / SCALE;
    events.push({ type: 'Deposited', ts, account, asset, amount: formatFixed(cost + fee) });
    events.push({ type: 'TokenUnitsCreated', ts, requestId: `issue-${token}-${i + 1}`, account, token, units: formatFixed(mine), ...(i === 0 ? { nav: formatFixed(nav) } : {}) });
    fund += cost;
    outstanding += mine;
  });
  return { events, fund };
}

/** A generated price path: the ticks of one instrument after `start`, in time order. */
export interface GeneratedPath {
  instrument: string;
  ticks: { at: Timestamp; price: Fixed }[];
}

export interface GenerateOptions {
  /**
   * Replaces the generated price paths (same instruments, same order, same tick
   * times) before they become marks: `clearsim stress` puts its shocked paths
   * here (stress-paths.ts). Everything else — rules, listings, deposits, the
   * population's trades at the start price, the extra events — is unchanged.
   */
  reshapePaths?: (paths: GeneratedPath[]) => GeneratedPath[];
}

/** The marks of one instant as one input: a PriceUpdated for one instrument, a MarketMoved for several. */
function marksAt(ts: string, marks: readonly { instrument: string; price: Fixed }[]): InputJson {
  if (marks.length === 1) return { type: 'PriceUpdated', ts, instrument: marks[0]!.instrument, price: formatFixed(marks[0]!.price) };
  return { type: 'MarketMoved', ts, marks: marks.map(({ instrument, price }) => ({ instrument, price: formatFixed(price) })) };
}

/**
 * The rules must parse, name margin rules for every instrument, not reuse a
 * system account for a trader, take every explicit deposit (in the cash asset
 * or one of their collateral assets), and define every token the scenario
 * issues (on one of its instruments, with a counterparty it funds). Returns
 * them parsed.
 */
function checkAgainstRules(scenario: Scenario, raw: Record<string, unknown>): Rules {
  const rules = parseRules(raw, `rules of scenario ${scenario.name}`);
  const issues: { path: string; message: string }[] = [];
  for (const [instrument, spec] of Object.entries(scenario.instruments)) {
    const underlying = (spec as { underlying?: string }).underlying ?? instrument;
    // each model margins instruments its own way: tiers, scan parameters per underlying, history (VaR)
    if ((rules.model === 'cross' || rules.model === 'isolated') && !instrumentRules(rules, instrument)) {
      issues.push({ path: `instruments.${instrument}`, message: `rules "${rules.name}" have no tiers for it and no "*" default` });
    }
    if (rules.model === 'portfolio' && !ownEntry(rules.portfolio?.underlyings, underlying)) {
      issues.push({ path: `instruments.${instrument}`, message: `rules "${rules.name}" have no scan parameters for its underlying "${underlying}" (portfolio.underlyings)` });
    }
    if (rules.model === 'lending') issues.push({ path: `instruments.${instrument}`, message: `rules "${rules.name}" are a lending model: its accounts do not trade` });
  }
  scenario.population.forEach((group, g) => {
    if (isSystemAccount(rules, group.counterparty)) issues.push({ path: `population.${g}.counterparty`, message: `"${group.counterparty}" is a system account of rules "${rules.name}"` });
    const clash = populationAccountIds(group.prefix, group.count).find((account) => isSystemAccount(rules, account));
    if (clash) issues.push({ path: `population.${g}.prefix`, message: `generated account "${clash}" is a system account of rules "${rules.name}"` });
  });
  // the shard's cash asset is the first listing's settlement asset (the schema made them all one): a deposit in
  // another asset must be collateral of the rules, else the core refuses it at its generated line (libs/clearing validate.ts)
  const cash = Object.values(scenario.instruments)[0]!.settlementAsset;
  const collateral = Object.keys(rules.collateral);
  for (const [account, spec] of Object.entries(scenario.accounts)) {
    // collateral as the core counts it (libs/clearing evolve.ts isCollateralAsset)
    if (spec.deposit === undefined || spec.asset === cash || takesAsCollateral(rules, spec.asset)) continue;
    issues.push({
      path: `accounts.${account}.asset`,
      message: `"${spec.asset}" is neither the cash asset "${cash}" (the instruments' settlementAsset) nor a collateral asset of rules "${rules.name}" (${collateral.length ? collateral.join(', ') : 'none; see rules.collateral'})`,
    });
  }
  const populationIds = new Set(scenario.population.flatMap((group) => populationAccountIds(group.prefix, group.count)));
  for (const token of Object.keys(scenario.tokens)) {
    const spec = ownEntry(rules.tokens, token);
    const path = `tokens.${token}`;
    if (!spec) {
      issues.push({ path, message: `rules "${rules.name}" define no token "${token}" (their tokens: ${Object.keys(rules.tokens ?? {}).join(', ') || 'none'})` });
      continue;
    }
    if (!Object.hasOwn(scenario.instruments, spec.instrument)) issues.push({ path, message: `its instrument "${spec.instrument}" (rules "${rules.name}") is not in instruments` });
    if (scenario.accounts[spec.counterparty]?.deposit === undefined) issues.push({ path, message: `its counterparty "${spec.counterparty}" (rules "${rules.name}") must be an account of the scenario with a deposit` });
    if (Object.hasOwn(scenario.accounts, spec.account) || populationIds.has(spec.account)) issues.push({ path, message: `its fund "${spec.account}" is also an account of the scenario: the issue funds it` });
    const issue = scenario.tokens[token]!;
    issue.holders?.forEach((holder, h) => {
      const at = `${path}.holders.${h}`;
      if (!Object.hasOwn(scenario.accounts, holder) && !populationIds.has(holder)) issues.push({ path: at, message: `"${holder}" is not an account of the scenario (accounts, or a population's generated ids)` });
      else if (holder === spec.account || isSystemAccount(rules, holder)) issues.push({ path: at, message: `"${holder}" is ${holder === spec.account ? "the token's fund" : 'a system account'}: it cannot hold units` });
      if (issue.holders!.indexOf(holder) !== h) issues.push({ path: at, message: `"${holder}" is already a holder (holders.${issue.holders!.indexOf(holder)})` });
    });
    if (issue.holders && issue.units < BigInt(issue.holders.length)) issues.push({ path: `${path}.units`, message: `${formatFixed(issue.units)} units cannot be split among ${issue.holders.length} holders` });
  }
  if (issues.length > 0) throw new ScenarioError(scenario.name, issues);
  return rules;
}

interface Trader {
  account: string;
  collateral: Fixed;
  leverage: Fixed;
}

/**
 * The traders of one group, from the group's own stream (`population/<prefix>`):
 * for each trader in account order, collateral then leverage, each uniform over
 * its range on a grid of 0.01 (or finer, if a bound is written finer).
 */
function drawPopulation(seed: bigint, group: PopulationGroup): Trader[] {
  const rng = streamFor(seed, `population/${group.prefix}`);
  // a range's grid is the group's, not the trader's: found once (bigint powers per draw were most of a large group's time)
  const gridOf = ([lo, hi]: [Fixed, Fixed]): { lo: Fixed; hi: Fixed; step: Fixed } => {
    const step = 10n ** BigInt(8 - Math.max(2, decimalPlaces(lo), decimalPlaces(hi)));
    return { lo: lo / step, hi: hi / step, step };
  };
  const collateralGrid = gridOf(group.collateral);
  const leverageGrid = gridOf(group.leverage);
  const draw = (grid: { lo: Fixed; hi: Fixed; step: Fixed }): Fixed => rng.uniformBigInt(grid.lo, grid.hi) * grid.step;
  return populationAccountIds(group.prefix, group.count).map((account) => {
    const collateral = draw(collateralGrid);
    const leverage = draw(leverageGrid);
    return { account, collateral, leverage };
  });
}

/**
 * Inverse: the coin notional |qty| × face ÷ price is collateral × leverage, so qty = collateral × leverage × price ÷ face,
 * rounded DOWN to whole contracts (an inverse contract is a face value, traded in units of one).
 */
export function inverseOpeningQty(collateral: Fixed, leverage: Fixed, price: Fixed, face: Fixed): Fixed {
  const exact = divRound(collateral * leverage * price, face * SCALE, 'floor');
  return exact - (exact % SCALE);
}

/** qty = collateral × leverage ÷ (price × multiplier), rounded DOWN to the ledger scale (10^-8). */
export function openingQty(collateral: Fixed, leverage: Fixed, price: Fixed, multiplier: Fixed): Fixed {
  return divRound(collateral * leverage * SCALE, price * multiplier, 'floor');
}

/**
 * The generated prices of one instrument after `start` (the start price itself
 * is emitted with the listing). Tick times: `start + k × every` up to the last
 * waypoint, plus every waypoint's own time. A tick on a waypoint prints the
 * waypoint's price exactly; between waypoints the price is the linear
 * interpolation × (1 + noise × u), u uniform in [−1, 1] on a 10^-8 grid from the
 * instrument's stream (`noise/<instrument>`, one draw per tick), computed
 * exactly and rounded once, half-even, to `prices.decimals` places (at least
 * one price step).
 */
function* pricePath(scenario: Scenario, instrument: string): Generator<Tick, void, undefined> {
  const { every, noise, decimals } = scenario.prices;
  const path = scenario.prices.paths[instrument]!;
  const last = path[path.length - 1]!.at;
  const rng = streamFor(scenario.seed, `noise/${instrument}`);
  const priceStep = 10n ** BigInt(8 - decimals);
  const S2 = SCALE * SCALE;
  let segment = 0;
  let k = 1;
  let w = 1;
  for (;;) {
    const grid = scenario.start + k * every * 1000;
    const nextGrid = grid <= last ? grid : Infinity;
    const nextWaypoint = w < path.length ? path[w]!.at : Infinity;
    if (nextGrid === Infinity && nextWaypoint === Infinity) return;
    const at = Math.min(nextGrid, nextWaypoint);
    if (nextGrid === at) k++;
    if (nextWaypoint === at) w++;
    // one draw per tick, a waypoint's too (its price is exact, but the stream stays aligned with the tick count)
    const u = rng.uniformBigInt(-SCALE, SCALE);
    while (path[segment + 1]!.at < at) segment++;
    const [from, to] = [path[segment]!, path[segment + 1]!] as [Waypoint, Waypoint];
    if (at === to.at) {
      yield { at, price: to.price };
      continue;
    }
    const span = BigInt(to.at - from.at);
    const elapsed = BigInt(at - from.at);
    // (from × span + (to − from) × elapsed) / span × (S² + noise × u) / S², rounded once
    const numerator = (from.price * span + (to.price - from.price) * elapsed) * (S2 + noise * u);
    const rounded = divRound(numerator, span * S2 * priceStep, 'halfEven') * priceStep;
    yield { at, price: rounded > 0n ? rounded : priceStep };
  }
}

/** Number of decimal places a ledger value needs (0..8). */
function decimalPlaces(value: Fixed): number {
  let places = 8;
  while (places > 0 && value % 10n ** BigInt(9 - places) === 0n) places--;
  return places;
}

function parseEventTs(raw: Record<string, unknown>): Timestamp {
  return parseTimestamp(raw.ts as string)!; // validated by parseScenario as ISO-8601 UTC
}

/** An extra event as written, with `type` and `ts` first, `ts` canonical, and numeric decimals as strings. */
function normalizeExtra(raw: Record<string, unknown>): InputJson {
  const out: InputJson = { type: raw.type as string, ts: formatTimestamp(parseEventTs(raw)) };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'type' || key === 'ts') continue;
    out[key] = typeof value === 'number' && DECIMAL_FIELDS.has(key) ? formatFixed(parseFixed(value)) : jsonClone(value);
  }
  return out;
}

/** A deep JSON copy (bigints, if any, written as canonical decimals). */
function jsonClone<T>(value: T): T {
  if (value === undefined) return value;
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? formatFixed(v) : v))) as T;
}
