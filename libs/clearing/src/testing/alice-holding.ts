import { Given } from './given';

/**
 * The venue tests' book: alice deposits `deposit` and buys `qty` at `price` from the backstop (sells with a
 * negative qty), after a mark at that price; an instrument other than BTC-PERP is listed first as a perpetual on
 * the underlying its name gives (SOL-PERP → SOL).
 */
export function aliceHolding(rules: Record<string, unknown>, { deposit = '100000000', qty, price, instrument = 'BTC-PERP', backstop = '100000000000' }: { deposit?: string; qty: string; price: string; instrument?: string; backstop?: string }): Given {
  const g = new Given(rules);
  if (instrument !== 'BTC-PERP') g.input({ type: 'InstrumentListed', instrument, kind: 'perpetual', underlying: instrument.replace('-PERP', '') });
  g.deposit('alice', deposit).deposit('backstop', backstop);
  g.price(price, instrument);
  g.trade('alice', 'backstop', qty, price, instrument);
  return g;
}
