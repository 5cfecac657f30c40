import fc from 'fast-check';
import { decodeEvent, OutputHasher, type DecisionEvent, type InputEvent } from '@clearsim/events';
import { ClearingEngine } from './clearing-engine';
import { at, rulesFor } from './testing/given';

/**
 * `clearsim run` hands the hashing of a run's decisions to its log writer (detachOutputHash, attachOutputHash): the
 * outputHash must come out as if the engine had hashed them itself, and must not be read while it misses them.
 */
const input = (raw: Record<string, unknown>): InputEvent => decodeEvent(raw, 'input') as InputEvent;

/** A venue with two traders at 10× against a market maker, then a walk of marks: calls and liquidations along it. */
function inputs(moves: readonly number[]): InputEvent[] {
  const out = [
    input({ type: 'RulesActivated', ts: at(0), rules: rulesFor() }),
    input({ type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC' }),
    input({ type: 'PriceUpdated', ts: at(0), instrument: 'BTC-PERP', price: '10000' }),
    input({ type: 'Deposited', ts: at(0), account: 'mm', asset: 'USD', amount: '10000000' }),
    input({ type: 'Deposited', ts: at(1), account: 'a', asset: 'USD', amount: '1000' }),
    input({ type: 'Deposited', ts: at(1), account: 'b', asset: 'USD', amount: '1000' }),
    input({ type: 'TradeExecuted', ts: at(1), tradeId: 't1', instrument: 'BTC-PERP', buyer: 'a', seller: 'mm', qty: '1', price: '10000' }),
    input({ type: 'TradeExecuted', ts: at(1), tradeId: 't2', instrument: 'BTC-PERP', buyer: 'mm', seller: 'b', qty: '1', price: '10000' }),
  ];
  let price = 10000;
  moves.forEach((move, i) => {
    price = Math.max(1000, Math.round(price * (1 + move)));
    out.push(input({ type: 'PriceUpdated', ts: at(60 * (i + 2)), instrument: 'BTC-PERP', price: String(price) }));
  });
  return out;
}

describe('the outputHash hashed elsewhere for a while (detachOutputHash, attachOutputHash)', () => {
  it('comes out as the engine\'s own, wherever the hand-over starts and ends', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -0.08, max: 0.08, noNaN: true }), { minLength: 1, maxLength: 30 }), fc.nat(), fc.nat(), (moves, a, b) => {
        const events = inputs(moves);
        const own = ClearingEngine.create();
        for (const event of events) own.handle(event);
        const from = a % events.length;
        const to = from + (b % (events.length - from + 1));
        const engine = ClearingEngine.create();
        let elsewhere: OutputHasher | undefined;
        events.forEach((event, i) => {
          if (i === from) elsewhere = new OutputHasher(engine.detachOutputHash());
          if (i === to && elsewhere) {
            engine.attachOutputHash(elsewhere.state());
            elsewhere = undefined;
          }
          const { decisions } = engine.handle(event);
          for (const decision of decisions) elsewhere?.add(decision as DecisionEvent);
        });
        if (elsewhere) engine.attachOutputHash(elsewhere.state());
        expect(engine.outputHash).toBe(own.outputHash);
        expect(engine.snapshot()).toBe(own.snapshot());
      }),
      { numRuns: 100 },
    );
  });

  it('is not read while detached: outputHash, snapshot and replay throw; hashDecisions catches up what the taker did not', () => {
    const events = inputs([-0.06, -0.03, 0.02]);
    const own = ClearingEngine.create();
    for (const event of events) own.handle(event);
    const engine = ClearingEngine.create();
    for (const event of events.slice(0, 3)) engine.handle(event);
    const state = engine.detachOutputHash();
    expect(() => engine.outputHash).toThrow("the engine's outputHash is detached");
    expect(() => engine.snapshot()).toThrow('detached');
    expect(() => engine.apply(events[3]!)).toThrow('detached');
    expect(() => engine.detachOutputHash()).toThrow('detached');
    const missed: DecisionEvent[] = [];
    for (const event of events.slice(3)) missed.push(...engine.handle(event).decisions);
    // the walk called and liquidated someone: there were decisions to miss
    expect(missed.length).toBeGreaterThan(0);
    engine.attachOutputHash(state);
    expect(engine.outputHash).not.toBe(own.outputHash);
    engine.hashDecisions(missed);
    expect(engine.outputHash).toBe(own.outputHash);
  });
});
