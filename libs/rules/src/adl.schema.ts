import { z } from 'zod';

/**
 * Auto-deleveraging policy (`bankruptcy: adl`, docs/rules.md "ADL policies").
 * Absent: the queue, filled at the bankruptcy price, with no counterparty check
 * (what clearsim always did).
 * - `queue`: opposite positions in profit ranked by profit % × effective
 *   leverage, each closed in full until the bankrupt position is (Binance, Bybit, OKX);
 * - `sort-index`: ranked by (mark ÷ entry) × (position notional ÷ account
 *   value), closed in full in that order (Hyperliquid);
 * - `pro-rata`: every opposite position in profit closes the same fraction of
 *   itself (pro rata to its size), at the one bankruptcy price, so the deficit
 *   is shared in proportion to size;
 * - `risk-aware`: pro rata to size × effective leverage, the more leveraged
 *   reducing more (the risk-aware pro-rata of Chitra, "Autodeleveraging:
 *   Impossibilities and Optimization", arXiv:2512.01112; the leverage-draining
 *   rule of Campbell, Hey, Moallemi, Nutz, "Risk-Based Auto-Deleveraging", arXiv:2603.15963).
 */
export const AdlRulesSchema = z.strictObject({
  policy: z.enum(['queue', 'sort-index', 'pro-rata', 'risk-aware']).default('queue'),
  /**
   * `bankruptcy`: the fills are priced to recover the deficit from the counterparties (dYdX, Binance, Bybit, OKX);
   * `mark`: closed at the mark (Hyperliquid: "closed at the previous oracle price"), the deficit is then socialized.
   */
  fill: z.enum(['bankruptcy', 'mark']).default('bankruptcy'),
  /** With `fill: bankruptcy`: no counterparty is filled past its own bankruptcy price (its equity at the mark stays ≥ 0; dYdX's check). */
  protectCounterparties: z.boolean().default(true),
  /**
   * `input` (with `pro-rata` or `risk-aware`): the bankrupt positions of one input are deleveraged together,
   * per instrument and side, so the whole deficit of the instant is shared across every profitable opposite
   * position at once. Absent: each bankruptcy is deleveraged as it happens.
   */
  batch: z.enum(['input']).optional(),
});

export type AdlRules = z.output<typeof AdlRulesSchema>;

/** Where an `adl` block does not compose: it is refused with the reason, naming the field. */
export function refineAdl(rules: { adl?: AdlRules; bankruptcy: string; model: string }, ctx: z.RefinementCtx): void {
  if (!rules.adl) return;
  if (rules.bankruptcy !== 'adl') {
    ctx.addIssue({ code: 'custom', path: ['adl'], message: `an adl policy applies with bankruptcy: adl, not bankruptcy: ${rules.bankruptcy}` });
  }
  if (rules.adl.batch === 'input' && rules.adl.policy !== 'pro-rata' && rules.adl.policy !== 'risk-aware') {
    ctx.addIssue({ code: 'custom', path: ['adl', 'batch'], message: `batch: input shares an instant's deficit pro rata: it needs policy pro-rata or risk-aware, not ${rules.adl.policy}` });
  }
  if (rules.model === 'lending') {
    ctx.addIssue({ code: 'custom', path: ['adl'], message: 'model: lending repays debt from collateral and has no opposite positions to deleverage: remove adl' });
  }
}
