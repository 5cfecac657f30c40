import { emptyLedger } from './ledger.state';
import { ensureAccount, moveCollateral } from './ledger';

describe('collateral of accounts that never held any', () => {
  it('is one shared empty map until the first deposit gives the account its own', () => {
    const ledger = emptyLedger();
    const alice = ensureAccount(ledger, 'alice', false);
    const bob = ensureAccount(ledger, 'bob', false);
    expect(alice.collateral).toBe(bob.collateral);
    // 2 BTC into alice: 2 × 10^8 units; bob still holds none
    moveCollateral(ledger, alice, 'BTC', 200_000_000n);
    expect(alice.collateral.get('BTC')).toBe(200_000_000n);
    expect(bob.collateral.size).toBe(0);
    expect(ledger.collateralHolders.get('BTC')?.toArray()).toEqual(['alice']);
    // all of it back out: the entry goes, alice keeps her (now empty) own map
    moveCollateral(ledger, alice, 'BTC', -200_000_000n);
    expect(alice.collateral.size).toBe(0);
    expect(alice.collateral).not.toBe(bob.collateral);
  });

  it('refuses a write to the shared map instead of giving every account that collateral', () => {
    const ledger = emptyLedger();
    const carol = ensureAccount(ledger, 'carol', false);
    expect(() => carol.collateral.set('ETH', 1n)).toThrow(/shares this empty map/);
    expect(ensureAccount(ledger, 'dave', false).collateral.size).toBe(0);
  });
});
