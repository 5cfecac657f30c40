import { formatTimestamp, InputError, type InputEvent } from '@clearsim/events';
import { underlyingOf, type Instrument } from '@clearsim/ledger';
import { instrumentRules, isSystemAccount, ownEntry, parseRules, type Rules } from '@clearsim/rules';
import { fundingInputError } from '@clearsim/saga';
import type { ClearingState } from './clearing.state';
import { isCollateralAsset } from './evolve';
import { contentDigest, idempotencyField, idempotencyKey, kafkaPosition } from './idempotency';
import { validateTokenUnits } from './token-units';

/**
 * An id or name as a refusal quotes it: JSON-escaped, so that a control character in an id a venue sent (an ESC,
 * a NUL) is shown as \u001b, not written raw to the terminal that prints the message. A plain id reads "as it is".
 */
export const quotedId = (text: string | undefined): string => JSON.stringify(text ?? '');

/** Reason codes of a refused input: a closed union, so callers can switch on them. */
export type RejectionCode =
  | 'clock-went-backwards'
  | 'no-active-rules'
  | 'unknown-instrument'
  | 'instrument-already-listed'
  | 'instrument-settled'
  | 'not-tradable'
  | 'no-margin-rules'
  | 'unknown-account'
  | 'wrong-asset'
  | 'no-mark-price'
  | 'not-a-perpetual'
  | 'incomplete-option'
  | 'id-conflict'
  | 'unknown-token'
  | 'token-units'
  | 'insufficient-funds'
  | 'unsupported-payoff';

export class InputRejected extends InputError {
  constructor(
    readonly code: RejectionCode,
    field: string,
    message: string,
    source?: string,
    line?: number,
  ) {
    super([{ field, message }], source, line);
  }

  /** Keeps the reason code when the shell adds where the input came from. */
  override withLocation(source: string | undefined, line: number | undefined): InputRejected {
    return new InputRejected(this.code, this.issues[0]!.field, this.issues[0]!.message, source ?? this.source, line ?? this.line);
  }
}

/**
 * The instrument of a trade (real or proposed), if the shard could book it:
 * listed, not settled, not an index, and margined by the active rules (tiers
 * under the tiered models, scan parameters for its underlying under the
 * portfolio model; a lending model has no trading). Throws InputRejected.
 */
export function tradableInstrument(state: ClearingState, id: string): Instrument {
  const rules = state.rules;
  if (!rules) throw new InputRejected('no-active-rules', 'type', 'no rules are active yet (a RulesActivated event must come first)');
  const instrument = state.ledger.instruments.get(id);
  if (!instrument) throw new InputRejected('unknown-instrument', 'instrument', `unknown instrument ${quotedId(id)} (list it with InstrumentListed first)`);
  if (instrument.settled) throw new InputRejected('instrument-settled', 'instrument', `instrument ${quotedId(id)} has already been settled`);
  if (instrument.kind === 'index') throw new InputRejected('not-tradable', 'instrument', `${quotedId(id)} is an index, not a tradable instrument`);
  if (rules.model === 'lending') {
    throw new InputRejected('no-margin-rules', 'type', `rules ${quotedId(rules.name)} are a lending model: accounts borrow against collateral, they do not trade`);
  }
  const problem = marginRulesProblem(rules, instrument);
  if (problem) throw new InputRejected('no-margin-rules', 'instrument', problem);
  return instrument;
}

/**
 * Why `rules` (a margin model, not lending) have nothing to margin positions in `instrument` with: no scan
 * parameters for its underlying, no tiers for it; undefined when they have. A trade is refused for it
 * (tradableInstrument), and so are new rules while positions in it are open.
 */
function marginRulesProblem(rules: Rules, instrument: Instrument): string | undefined {
  if (rules.model === 'portfolio') {
    const underlying = underlyingOf(instrument);
    return ownEntry(rules.portfolio?.underlyings, underlying) ? undefined : `rules ${quotedId(rules.name)} have no scan parameters for the underlying ${quotedId(underlying)} of ${quotedId(instrument.id)} (portfolio.underlyings)`;
  }
  if ((rules.model === 'cross' || rules.model === 'isolated') && !instrumentRules(rules, instrument.id)) {
    return `rules ${quotedId(rules.name)} have no margin tiers for ${quotedId(instrument.id)} (add it, or a "*" default, under instruments)`;
  }
  return undefined;
}

/**
 * Where rules do not compose with inverse (coin-margined) instruments, whose value −qty × face / mark is not
 * linear in the mark: the scenario and VaR models and leveraged tokens value positions as qty × mark × multiplier.
 * The venue mechanics (venueMargin, venueLiquidation) compose: they measure an inverse position in its coin
 * (docs/rules.md, "Venue mechanics on inverse instruments"). Undefined: they compose.
 */
export function inverseRulesConflict(rules: Rules): { field: string; message: string } | undefined {
  if (rules.model === 'portfolio' || rules.model === 'var') return { field: 'model', message: `model ${rules.model} values positions linearly and does not margin inverse instruments` };
  if (rules.tokens && Object.keys(rules.tokens).length > 0) return { field: 'tokens', message: 'leveraged tokens are rebalanced linearly and do not apply to inverse instruments' };
  return undefined;
}

/** Runs a check of one element of a list input; its refusal names the element (`legs.1.instrument`), except a refusal of the whole input (`type`). */
function inElement(path: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof InputRejected)) throw error;
    const field = error.issues[0]!.field;
    if (field === 'type') throw error;
    throw new InputRejected(error.code, `${path}.${field}`, error.issues[0]!.message, error.source, error.line);
  }
}

/**
 * A repeat of an idempotency key with other content (idempotency.ts): the
 * first version stands, the repeat is refused. The shell shows both versions
 * (it finds the first one in the log by `key`).
 */
export class IdConflictRejected extends InputRejected {
  constructor(
    readonly key: string,
    field: string,
    message: string,
    source?: string,
    line?: number,
  ) {
    super('id-conflict', field, message, source, line);
  }

  override withLocation(source: string | undefined, line: number | undefined): IdConflictRejected {
    return new IdConflictRejected(this.key, this.issues[0]!.field, this.issues[0]!.message, source ?? this.source, line ?? this.line);
  }
}

/**
 * Whether an input repeats an idempotency key already applied: 'duplicate'
 * when its content is the same (ignored), IdConflictRejected when it differs,
 * 'new' otherwise. The one check of every input type (and of any input type
 * added later: it looks only at the key and the content).
 */
export function checkRepeat(state: ClearingState, input: InputEvent): 'new' | 'duplicate' {
  const position = kafkaPosition(input);
  if (position !== undefined) {
    // a Kafka coordinate key: a duplicate by position, no record per key (kafkaPosition)
    const applied = state.seenIds.get(position.partitionKey);
    if (applied !== undefined) return position.offset <= applied ? 'duplicate' : 'new';
    // no position yet: a state restored from a snapshot written before positions kept these keys one by one
  }
  const key = idempotencyKey(input);
  if (key === undefined) return 'new';
  const digest = state.seenIds.get(key);
  if (digest === undefined) return 'new';
  if (digest === contentDigest(input)) return 'duplicate';
  const field = idempotencyField(input);
  const id = (input as unknown as Record<string, string>)[field];
  throw new IdConflictRejected(key, field, `${field} ${quotedId(id)} was already used with different content; the first version stands (send the same content to retry, or a new id)`);
}

/** A listed, unsettled instrument; throws InputRejected naming `field` otherwise. */
function listedInstrument(state: ClearingState, field: string, id: string): Instrument {
  const instrument = state.ledger.instruments.get(id);
  if (!instrument) throw new InputRejected('unknown-instrument', field, `unknown instrument ${quotedId(id)} (list it with InstrumentListed first)`);
  if (instrument.settled) throw new InputRejected('instrument-settled', field, `instrument ${quotedId(id)} has already been settled`);
  return instrument;
}

/**
 * Checks an input against the shard state before anything is applied.
 * Returns 'duplicate' for an idempotent repeat (ignored), 'ok' otherwise;
 * throws InputRejected (naming the field) for an input that cannot apply —
 * IdConflictRejected for a repeat of a key with other content.
 */
export function validateInput(state: ClearingState, input: InputEvent): 'ok' | 'duplicate' {
  if (checkRepeat(state, input) === 'duplicate') return 'duplicate';
  if (input.ts < state.clock) throw clockWentBackwards(state, input.ts);
  // the commonest input, checked here: the helpers of validateFields are closures, whose context V8 allocates on
  // entry to the function that makes them
  if (input.type === 'PriceUpdated') {
    listedInstrument(state, 'instrument', input.instrument);
    return 'ok';
  }
  return validateFields(state, input);
}

/**
 * validateInput of a price update with no idempotency key (no `eventId`, no
 * `postedBy`: never a duplicate), from its fields: answers its instrument.
 */
export function validateKeylessPrice(state: ClearingState, ts: number, instrument: string): Instrument {
  if (ts < state.clock) throw clockWentBackwards(state, ts);
  return listedInstrument(state, 'instrument', instrument);
}

function clockWentBackwards(state: ClearingState, ts: number): InputRejected {
  return new InputRejected('clock-went-backwards', 'ts', `${formatTimestamp(ts)} is older than the shard clock ${formatTimestamp(state.clock)}`);
}

/** validateInput of any input but a price update, once it is new and not older than the clock. */
function validateFields(state: ClearingState, input: Exclude<InputEvent, { type: 'PriceUpdated' }>): 'ok' {
  const { ledger } = state;
  const knownAccount = (field: string, id: string): void => {
    if (!ledger.accounts.has(id) && !(state.rules && isSystemAccount(state.rules, id))) {
      throw new InputRejected('unknown-account', field, `unknown account ${quotedId(id)} (an account exists once it has a Deposited event)`);
    }
  };
  const listed = (field: string, id: string) => listedInstrument(state, field, id);
  const cashAsset = (field: string, asset: string): void => {
    if (ledger.cashAsset !== undefined && asset !== ledger.cashAsset) {
      throw new InputRejected('wrong-asset', field, `asset ${quotedId(asset)} is not this shard's cash asset ${quotedId(ledger.cashAsset)}`);
    }
  };
  // the cash asset, or a collateral asset of the rules
  const acceptedAsset = (field: string, asset: string): void => {
    if (isCollateralAsset(state, asset)) return;
    if (ledger.cashAsset !== undefined && asset !== ledger.cashAsset) {
      const others = Object.keys(state.rules?.collateral ?? {});
      throw new InputRejected('wrong-asset', field, `asset ${quotedId(asset)} is neither this shard's cash asset ${quotedId(ledger.cashAsset)} nor a collateral asset of the rules${others.length ? ` (${others.join(', ')})` : ' (none; see rules.collateral)'}`);
    }
  };

  switch (input.type) {
    case 'RulesActivated': {
      const inverse = [...ledger.instruments.values()].find((i) => i.inverse);
      const held = [...ledger.holders].filter(([, holders]) => holders.size > 0).map(([id]) => id);
      // parsed again only in a shard with an inverse instrument or open positions (evolve parses the rules it activates)
      const rules = inverse || held.length > 0 ? parseRules(input.rules) : undefined;
      if (inverse) {
        const conflict = inverseRulesConflict(rules!);
        if (conflict) throw new InputRejected('unsupported-payoff', `rules.${conflict.field}`, `${conflict.message} (instrument ${quotedId(inverse.id)} is inverse)`);
      }
      // the positions open stay margined: rules without tiers (or scan parameters) for one of them left its holders'
      // next margin check with nothing to compute (an internal error, a 500 over HTTP)
      for (const id of held.sort()) {
        const problem = rules!.model === 'lending' ? `rules ${quotedId(rules!.name)} are a lending model, which margins no positions` : marginRulesProblem(rules!, ledger.instruments.get(id)!);
        if (problem) throw new InputRejected('no-margin-rules', 'rules', `${problem}, and positions in ${quotedId(id)} are open`);
      }
      return 'ok';
    }
    case 'ClockAdvanced':
    case 'VolatilityUpdated':
      return 'ok';
    case 'InstrumentListed':
      if (ledger.instruments.has(input.instrument)) {
        throw new InputRejected('instrument-already-listed', 'instrument', `instrument ${quotedId(input.instrument)} is already listed`);
      }
      if (input.kind === 'option') {
        for (const field of ['underlying', 'optionType', 'strike', 'expiry'] as const) {
          if (input[field] === undefined) throw new InputRejected('incomplete-option', field, `an option needs ${field}`);
        }
        if (!ledger.instruments.has(input.underlying!)) {
          throw new InputRejected('unknown-instrument', 'underlying', `unknown underlying ${quotedId(input.underlying)} (list it, e.g. as kind index, first)`);
        }
        if (ledger.instruments.get(input.underlying!)!.inverse) {
          throw new InputRejected('unsupported-payoff', 'underlying', `options on an inverse instrument (${quotedId(input.underlying)}) are not supported: Black-76 values a linear underlying`);
        }
      }
      if (input.payoff === 'inverse') {
        if (input.kind !== 'perpetual' && input.kind !== 'future') {
          throw new InputRejected('unsupported-payoff', 'payoff', `payoff inverse applies to perpetuals and futures, not to kind ${input.kind}`);
        }
        const conflict = state.rules && inverseRulesConflict(state.rules);
        if (conflict) throw new InputRejected('unsupported-payoff', 'payoff', `${conflict.message} (the active rules ${quotedId(state.rules!.name)})`);
      }
      cashAsset('settlementAsset', input.settlementAsset);
      return 'ok';
    case 'Deposited':
      acceptedAsset('asset', input.asset);
      return 'ok';
    case 'WithdrawalRequested':
      if (!state.rules) throw new InputRejected('no-active-rules', 'type', 'no rules are active yet (a RulesActivated event must come first)');
      knownAccount('account', input.account);
      acceptedAsset('asset', input.asset);
      return 'ok';
    case 'MarketMoved':
      // the schema refused repeats and bad prices; every instrument must be live (volatilities, like VolatilityUpdated, need no listing)
      input.marks.forEach((mark, i) => listed(`marks.${i}.instrument`, mark.instrument));
      return 'ok';
    case 'MultiLegTradeExecuted':
      input.legs.forEach((leg, i) =>
        inElement(`legs.${i}`, () => {
          tradableInstrument(state, leg.instrument);
          knownAccount('buyer', leg.buyer);
          knownAccount('seller', leg.seller);
        }),
      );
      return 'ok';
    case 'TradeExecuted': {
      tradableInstrument(state, input.instrument);
      knownAccount('buyer', input.buyer);
      knownAccount('seller', input.seller);
      return 'ok';
    }
    case 'FundingRateApplied': {
      if (!state.rules) throw new InputRejected('no-active-rules', 'type', 'no rules are active yet (a RulesActivated event must come first)');
      const instrument = listed('instrument', input.instrument);
      if (instrument.kind !== 'perpetual') throw new InputRejected('not-a-perpetual', 'instrument', `funding applies to perpetuals; ${quotedId(input.instrument)} is a ${instrument.kind}`);
      if (instrument.mark === undefined) throw new InputRejected('no-mark-price', 'instrument', `no mark price for ${quotedId(input.instrument)} yet`);
      const indexProblem = fundingInputError(state.ledger, state.rules, input.instrument);
      if (indexProblem) throw new InputRejected('no-mark-price', 'instrument', `funding of ${quotedId(input.instrument)}: ${indexProblem}`);
      return 'ok';
    }
    case 'InstrumentSettled':
      if (!state.rules) throw new InputRejected('no-active-rules', 'type', 'no rules are active yet (a RulesActivated event must come first)');
      listed('instrument', input.instrument);
      return 'ok';
    case 'TokenUnitsCreated':
    case 'TokenUnitsRedeemed':
      validateTokenUnits(state, input);
      return 'ok';
    default: {
      const unreachable: never = input;
      throw new Error(`unhandled input ${(unreachable as InputEvent).type}`);
    }
  }
}
