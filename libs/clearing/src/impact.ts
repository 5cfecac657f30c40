import type { DecisionEvent } from '@clearsim/events';
import { tradeNotional } from '@clearsim/ledger';
import { min, mul, type Fixed } from '@clearsim/money';
import { decayedResidual, impactDistance, impactLawOf, relativeImpact, type SagaContext } from '@clearsim/saga';
import type { ClearingState } from './clearing.state';

/** A forced fill waiting to move its instrument's mark. */
interface Fill {
  instrument: string;
  notional: Fixed;
  /** The liquidated side sold (the mark moves down). */
  down: boolean;
  cause: 'liquidation' | 'adl' | 'rebalance';
}

/**
 * The impact of one context's forced fills (an input, or one deadline's
 * close-outs): the fills are noted as they are folded and, once the margin
 * checks settle, move their marks in log order, each by the
 * rule's law (market-impact.ts); `onMarkMoved` schedules the checks of the
 * accounts the new mark concerns. Within the context, fills move one
 * instrument's mark at most `capPerInput` of the mark the context found.
 */
export class ImpactWave {
  private readonly fills: Fill[] = [];
  private readonly moved = new Map<string, { start: Fixed; distance: Fixed }>();

  constructor(
    private readonly state: ClearingState,
    private readonly onMarkMoved: (instrument: string) => void,
  ) {}

  note(decision: DecisionEvent): void {
    if (decision.type !== 'PositionLiquidated' && decision.type !== 'PositionAutoDeleveraged' && decision.type !== 'TokenRebalanced') return;
    const instrument = this.state.ledger.instruments.get(decision.instrument);
    if (!instrument || !this.state.rules || !impactLawOf(this.state.rules, decision.instrument)) return;
    this.fills.push({
      instrument: decision.instrument,
      notional: tradeNotional(decision.qty, decision.price, instrument.multiplier, instrument.inverse),
      // PositionLiquidated: qty is the liquidated account's change; ADL: the deleveraged trader's, the bankrupt's is −qty;
      // TokenRebalanced: the token's fund's change (a fund that sells pushes the mark down, as a liquidation does)
      down: decision.type === 'PositionAutoDeleveraged' ? decision.qty > 0n : decision.qty < 0n,
      cause: decision.type === 'PositionLiquidated' ? 'liquidation' : decision.type === 'TokenRebalanced' ? 'rebalance' : 'adl',
    });
  }

  /** Moves the marks by the fills noted since the last call; returns whether any mark moved. */
  apply(ctx: SagaContext): boolean {
    if (this.fills.length === 0) return false;
    const fills = this.fills.splice(0);
    const rules = this.state.rules!;
    let any = false;
    for (const fill of fills) {
      const law = impactLawOf(rules, fill.instrument);
      const mark = this.state.ledger.instruments.get(fill.instrument)?.mark;
      if (!law || mark === undefined) continue;
      const sofar = this.moved.get(fill.instrument) ?? { start: mark, distance: 0n };
      const allowed = mul(sofar.start, rules.impact!.capPerInput, 'floor') - sofar.distance;
      // never through zero: a mark is at least one ledger unit
      const distance = min(min(impactDistance(mark, relativeImpact(law, fill.notional)), allowed), fill.down ? mark - 1n : allowed);
      if (distance <= 0n) continue;
      this.moved.set(fill.instrument, { start: sofar.start, distance: sofar.distance + distance });
      ctx.emit({ type: 'MarkImpacted', ts: ctx.ts, instrument: fill.instrument, from: mark, to: fill.down ? mark - distance : mark + distance, notional: fill.notional, cause: fill.cause });
      this.onMarkMoved(fill.instrument);
      any = true;
    }
    return any;
  }
}

/**
 * When an input arrives (after it is folded, before its checks), every
 * displaced mark's residual decays over the time since it was set:
 * `MarkImpacted` (cause `decay`) to reference + residual·2^(−Δt/halfLife).
 * Instruments in id order. Nothing when the input's `ts` is the residual's.
 */
export function decayImpact(state: ClearingState, ctx: SagaContext, onMarkMoved: (instrument: string) => void): void {
  const residuals = state.impact?.residuals;
  if (!residuals || residuals.size === 0 || !state.rules) return;
  for (const id of [...residuals.keys()].sort()) {
    const entry = residuals.get(id)!;
    const instrument = state.ledger.instruments.get(id);
    const law = impactLawOf(state.rules, id);
    if (!instrument || instrument.mark === undefined || instrument.settled) {
      residuals.delete(id);
      continue;
    }
    if (!(ctx.ts > entry.since)) continue;
    // with no law left (new rules), the residual is gone at once
    const decayed = law ? decayedResidual(entry.residual, ctx.ts - entry.since, law.halfLifeSeconds) : 0n;
    let to = entry.reference + decayed;
    if (to < 1n) to = 1n;
    if (to === instrument.mark) continue;
    ctx.emit({ type: 'MarkImpacted', ts: ctx.ts, instrument: id, from: instrument.mark, to, notional: 0n, cause: 'decay' });
    onMarkMoved(id);
  }
}
