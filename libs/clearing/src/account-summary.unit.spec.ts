import fc from 'fast-check';
import { ClearingEngine } from './clearing-engine';
import { Given, rulesFor } from './testing/given';

/**
 * The accounts of a summary without every view at once: `accountsJson`
 * (streamed `--json`) and `accountsInTrouble` (the table of run/replay) must
 * give exactly what the whole `summary().accounts` gives.
 */
const STATUS_RANK: Record<string, number> = { bankrupt: 0, liquidated: 1, 'margin-call': 2, healthy: 3, system: 4 };

/** The table's order over every account's view, the slow way: sort them all. */
function sortedByTrouble(engine: ClearingEngine): string[] {
  const accounts = engine.summary().accounts;
  const ids = Object.keys(accounts);
  const equity = (id: string) => BigInt(Math.round(Number(accounts[id]!.equity) * 1e8));
  return ids.sort((a, b) => STATUS_RANK[accounts[a]!.status as string]! - STATUS_RANK[accounts[b]!.status as string]! || (equity(a) < equity(b) ? -1 : equity(a) > equity(b) ? 1 : 0) || (a < b ? -1 : 1));
}

/** Accounts of every status: alice called, dave liquidated, carol bankrupt, integer-like ids healthy, system accounts. */
function venue(): Given {
  const g = new Given(rulesFor({ marginCall: { graceSeconds: 3600, cureAt: 'initial' } }));
  g.deposit('mm', '1000000').deposit('insurance', '100000').deposit('backstop', '100000');
  // ids JSON.stringify would write first (array indexes, ascending), and ones it would not ("007", "-1", "4294967295")
  for (const id of ['10', '2', '007', '-1', '4294967295', 'alice', 'bob', 'carol', 'dave']) g.deposit(id, id === 'dave' ? '700' : '1000');
  g.price('10000');
  g.trade('alice', 'mm', '1', '10000'); // equity 1,000 − 550 = 450 at 9,450: called (MM 472.5, above half of it)
  g.trade('mm', 'bob', '1', '10000'); // short: at 9,450 +550, healthy
  g.trade('carol', 'mm', '2', '10000'); // 2 long: at 9,450 1,000 − 1,100 < 0: liquidated and bankrupt
  g.trade('dave', 'mm', '1', '10000'); // at 9,450 equity 700 − 550 = 150 < 236.25: liquidated, 150 − fee 94.5 left
  g.trade('10', 'mm', '0.5', '10000');
  g.trade('mm', '2', '0.25', '10000');
  g.at(60).price('9450');
  return g;
}

describe('accounts of the summary, one at a time', () => {
  it('accountsJson gives the accounts of summary() in the order JSON.stringify writes them', () => {
    const { engine } = venue();
    const whole = engine.summary().accounts;
    const streamed = [...engine.accountsJson()];
    // integer-like ids first, ascending as numbers; then the others sorted as strings
    expect(streamed.map(([id]) => id)).toEqual(['2', '10', '-1', '007', '4294967295', 'alice', 'backstop', 'bob', 'carol', 'dave', 'fees', 'insurance', 'mm']);
    expect(streamed.map(([id]) => id)).toEqual(Object.keys(whole));
    expect(`{${streamed.map(([id, json]) => `${JSON.stringify(id)}:${JSON.stringify(json)}`).join(',')}}`).toBe(JSON.stringify(whole));
  });

  it('accountsInTrouble keeps the worst accounts of a full sort, worst first', () => {
    const { engine } = venue();
    const statuses = Object.values(engine.summary().accounts).map((a) => a.status);
    // the venue has every status, so the ranking is exercised across them
    for (const status of Object.keys(STATUS_RANK)) expect(statuses).toContain(status);
    const order = sortedByTrouble(engine);
    const accounts = engine.summary().accounts;
    for (let limit = 0; limit <= order.length + 1; limit++) {
      const troubled = engine.accountsInTrouble(limit);
      expect(troubled.total).toBe(order.length);
      expect(troubled.accounts.map(([id]) => id)).toEqual(order.slice(0, limit));
      for (const [id, json] of troubled.accounts) expect(json).toEqual(accounts[id]);
    }
    expect(engine.accountsInTrouble(3).accounts.map(([id, json]) => [id, json.status])).toEqual([
      ['carol', 'bankrupt'],
      ['dave', 'liquidated'],
      ['alice', 'margin-call'],
    ]);
  });

  it('accountsInTrouble agrees with a full sort on random equities', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 12 }), fc.nat({ max: 14 }), (deposits, limit) => {
        const g = new Given();
        deposits.forEach((amount, i) => g.deposit(`t${i % 5}${i}`, String(amount)));
        expect(g.engine.accountsInTrouble(limit).accounts.map(([id]) => id)).toEqual(sortedByTrouble(g.engine).slice(0, limit));
      }),
      { numRuns: 100 },
    );
  });
});
