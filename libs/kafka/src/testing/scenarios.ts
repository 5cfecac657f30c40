import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { rulesFor } from '@clearsim/clearing/testing';
import { decodeEvent, decodeLine, type InputEvent } from '@clearsim/events';

const T0 = Date.parse('2026-01-05T09:00:00Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString().replace('.000Z', 'Z');

const RULES = rulesFor({ name: 'kafka-test' });

/** The example CCP margin-call day (examples/ccp-margin-call.jsonl): one account, a call, a cure, withdrawals. */
export function ccpMarginCallInputs(): InputEvent[] {
  const file = path.join(__dirname, '../../../../examples/ccp-margin-call.jsonl');
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => decodeLine(line, 'input', file, i + 1) as InputEvent);
}

/**
 * A day with accounts on both shards of N = 2 (bob, carol, dave → 0; alice,
 * gina, mm → 1; shardOf: murmur2 as Kafka's producers partition keys), trades across shards, a margin call cured, one
 * expired by the clock of a deposit on the *other* shard, an immediate
 * liquidation, withdrawals approved and rejected.
 */
export function twoShardDayInputs(): InputEvent[] {
  const raw: Record<string, unknown>[] = [
    { type: 'RulesActivated', ts: at(0), rules: RULES },
    { type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', multiplier: '1' },
    { type: 'PriceUpdated', ts: at(0), instrument: 'BTC-PERP', price: '100000' },
    { type: 'Deposited', ts: at(0), account: 'insurance', asset: 'USD', amount: '100000' },
    { type: 'Deposited', ts: at(0), account: 'backstop', asset: 'USD', amount: '1000000' },
    { type: 'Deposited', ts: at(0), account: 'mm', asset: 'USD', amount: '5000000' },
    { type: 'Deposited', ts: at(0), account: 'dave', asset: 'USD', amount: '5000000' },
    { type: 'Deposited', ts: at(0), account: 'alice', asset: 'USD', amount: '15000' },
    { type: 'Deposited', ts: at(0), account: 'bob', asset: 'USD', amount: '15000' },
    { type: 'Deposited', ts: at(0), account: 'carol', asset: 'USD', amount: '50000' },
    { type: 'Deposited', ts: at(0), account: 'gina', asset: 'USD', amount: '12000' },
    { type: 'TradeExecuted', ts: at(60), tradeId: 't1', instrument: 'BTC-PERP', buyer: 'alice', seller: 'mm', qty: '1', price: '100000', buyerFee: '10', sellerFee: '5' },
    { type: 'TradeExecuted', ts: at(60), tradeId: 't2', instrument: 'BTC-PERP', buyer: 'bob', seller: 'mm', qty: '1', price: '100000', buyerFee: '10', sellerFee: '5' },
    { type: 'TradeExecuted', ts: at(70), tradeId: 't3', instrument: 'BTC-PERP', buyer: 'gina', seller: 'carol', qty: '1', price: '100000', buyerFee: '10', sellerFee: '10' },
    { type: 'TradeExecuted', ts: at(80), tradeId: 't4', instrument: 'BTC-PERP', buyer: 'dave', seller: 'carol', qty: '0.5', price: '100100', buyerFee: '0', sellerFee: '0' },
    { type: 'WithdrawalRequested', ts: at(120), requestId: 'w1', account: 'carol', asset: 'USD', amount: '1000' },
    { type: 'PriceUpdated', ts: at(600), instrument: 'BTC-PERP', price: '95000' },
    { type: 'PriceUpdated', ts: at(1200), instrument: 'BTC-PERP', price: '89000' },
    { type: 'WithdrawalRequested', ts: at(1300), requestId: 'w2', account: 'alice', asset: 'USD', amount: '100' },
    { type: 'Deposited', ts: at(1800), eventId: 'bob-topup-1', account: 'bob', asset: 'USD', amount: '6000' },
    { type: 'PriceUpdated', ts: at(2400), instrument: 'BTC-PERP', price: '89500' },
    // alice's deadline (1200 + 3600) passes at a deposit of carol's, on the other shard
    { type: 'Deposited', ts: at(4900), eventId: 'carol-topup-1', account: 'carol', asset: 'USD', amount: '100' },
    { type: 'PriceUpdated', ts: at(5400), instrument: 'BTC-PERP', price: '91000' },
    { type: 'WithdrawalRequested', ts: at(5500), requestId: 'w3', account: 'bob', asset: 'USD', amount: '500' },
    { type: 'TradeExecuted', ts: at(5600), tradeId: 't5', instrument: 'BTC-PERP', buyer: 'carol', seller: 'dave', qty: '0.2', price: '91000', buyerFee: '1', sellerFee: '1' },
    { type: 'PriceUpdated', ts: at(6000), instrument: 'BTC-PERP', price: '86000' },
    { type: 'ClockAdvanced', ts: at(9700) },
    { type: 'PriceUpdated', ts: at(10000), instrument: 'BTC-PERP', price: '92000' },
  ];
  return raw.map((r) => decodeEvent(r, 'input') as InputEvent);
}

/** `n` inputs: accounts trading with a market maker under moving prices (for the restart test and the bench). */
export function longDayInputs(n: number, accounts = 20): InputEvent[] {
  const raw: Record<string, unknown>[] = [
    { type: 'RulesActivated', ts: at(0), rules: RULES },
    { type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', multiplier: '1' },
    { type: 'PriceUpdated', ts: at(0), instrument: 'BTC-PERP', price: '100000' },
    { type: 'Deposited', ts: at(0), account: 'backstop', asset: 'USD', amount: '100000000' },
    { type: 'Deposited', ts: at(0), account: 'insurance', asset: 'USD', amount: '10000000' },
    { type: 'Deposited', ts: at(0), account: 'mm', asset: 'USD', amount: '100000000' },
  ];
  for (let a = 0; a < accounts; a++) raw.push({ type: 'Deposited', ts: at(0), account: `acct-${a}`, asset: 'USD', amount: String(3000 + 1000 * (a % 7)) });
  let price = 100000;
  let t = 1;
  let trade = 0;
  // a deterministic walk: prices drift down and up again, accounts buy and sell small lots
  for (let i = 0; raw.length < n; i++) {
    t += 7;
    if (i % 5 === 0) {
      price = Math.round(100000 * (1 + 0.12 * Math.sin(i / 900) + 0.01 * Math.sin(i / 37)));
      raw.push({ type: 'PriceUpdated', ts: at(t), instrument: 'BTC-PERP', price: String(price) });
    } else if (i % 97 === 0) {
      raw.push({ type: 'ClockAdvanced', ts: at(t) });
    } else if (i % 13 === 0) {
      raw.push({ type: 'Deposited', ts: at(t), eventId: `topup-${i}`, account: `acct-${i % accounts}`, asset: 'USD', amount: '500' });
    } else if (i % 17 === 0) {
      raw.push({ type: 'WithdrawalRequested', ts: at(t), requestId: `w-${i}`, account: `acct-${i % accounts}`, asset: 'USD', amount: '300' });
    } else {
      const a = (i * 7) % accounts;
      const account = `acct-${a}`;
      // even accounts mostly buy, odd ones mostly sell: positions build up both ways
      const buy = (i % 4 !== 0) === (a % 2 === 0);
      raw.push({
        type: 'TradeExecuted',
        ts: at(t),
        tradeId: `t${++trade}`,
        instrument: 'BTC-PERP',
        buyer: buy ? account : 'mm',
        seller: buy ? 'mm' : account,
        qty: '0.02',
        price: String(price),
        buyerFee: '0',
        sellerFee: '0',
      });
    }
  }
  return raw.slice(0, n).map((r) => decodeEvent(r, 'input') as InputEvent);
}
