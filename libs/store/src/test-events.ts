import { decodeLine, type ClearingEvent } from '@clearsim/events';

const BASE_TS = Date.UTC(2026, 0, 1);
const ACCOUNTS = ['alice', 'bob', 'carol', 'zoë-🚀', 'mm'];

function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The JSONL input line of the `index`-th sample event (0-based). The types
 * cycle Deposited, PriceUpdated, TradeExecuted, MarginCallIssued; one account
 * name is non-ASCII so multi-byte UTF-8 crosses read-buffer boundaries.
 */
export function sampleEventLine(index: number): string {
  const ts = isoAt(BASE_TS + index * 1000);
  const account = ACCOUNTS[index % ACCOUNTS.length];
  switch (index % 4) {
    case 0:
      return JSON.stringify({ type: 'Deposited', ts, eventId: `dep-${index}`, account, asset: 'USD', amount: `${1000 + index}.5` });
    case 1:
      return JSON.stringify({ type: 'PriceUpdated', ts, instrument: 'BTC-PERP', price: `${10_000 + (index % 997)}.25` });
    case 2:
      return JSON.stringify({
        type: 'TradeExecuted',
        ts,
        tradeId: `t-${index}`,
        instrument: 'BTC-PERP',
        buyer: account === 'mm' ? 'alice' : account,
        seller: 'mm',
        qty: '0.01',
        price: '10000',
        buyerFee: '0.1',
        sellerFee: '-0.02',
      });
    default:
      return JSON.stringify({
        type: 'MarginCallIssued',
        ts,
        account,
        equity: '-12.5',
        initialMargin: '200',
        maintenanceMargin: '100',
        amount: '212.5',
        deadline: isoAt(BASE_TS + index * 1000 + 3_600_000),
      });
  }
}

/** `count` real, validated events (decoded from JSONL), starting at sample `from`. */
export function sampleEvents(count: number, from = 0): ClearingEvent[] {
  const events: ClearingEvent[] = [];
  for (let i = from; i < from + count; i++) events.push(decodeLine(sampleEventLine(i), 'any', 'sample', i + 1));
  return events;
}
