import { clockIso, whatIfTrade, type MarginFigures } from '@clearsim/clearing';
import { formatFixed, parseFixed, DecimalFormatError } from '@clearsim/money';
import { ShardRunner } from '@clearsim/shard';
import { UsageError } from '../cli-error';
import { parseAt } from '../io/at-option';
import { displayText } from '../output/display-text';
import { TextTable } from '../output/text-table';
import { openStoreFromUrl } from './store-options';
import { coinUnitLabel } from './account.command';

/** `--trade "buy 0.5 BTC-PERP @ 9500"` (or `sell …`; the price defaults to the mark). */
export function parseTradeSpec(spec: string): { side: 'buy' | 'sell'; qty: string; instrument: string; price?: string } {
  const m = /^\s*(buy|sell)\s+(\S+)\s+(\S+?)(?:\s*@\s*(\S+))?\s*$/i.exec(spec);
  if (!m) throw new UsageError(`--trade: "${spec}" is not "buy|sell QTY INSTRUMENT [@ PRICE]" (e.g. "buy 0.5 BTC-PERP @ 9500")`);
  return { side: m[1]!.toLowerCase() as 'buy' | 'sell', qty: m[2]!, instrument: m[3]!, price: m[4] };
}

/** `--fee`: a decimal the account would pay (0 allowed), refused naming the flag. */
function feeOf(text: string): bigint {
  try {
    return parseFixed(text);
  } catch (error) {
    throw new UsageError(`--fee: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function decimal(field: string, text: string): bigint {
  try {
    const value = parseFixed(text);
    if (value <= 0n) throw new DecimalFormatError('must be greater than 0');
    return value;
  } catch (error) {
    throw new UsageError(`--trade ${field}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const figures = (f: MarginFigures) => ({
  cash: formatFixed(f.cash),
  equity: formatFixed(f.equity),
  initialMargin: formatFixed(f.initialMargin),
  maintenanceMargin: formatFixed(f.maintenanceMargin),
  freeCollateral: formatFixed(f.freeCollateral),
  position: f.position ? { qty: formatFixed(f.position.qty), entryPrice: formatFixed(f.position.entryPrice), liquidationPrice: f.position.liquidationPrice === undefined ? null : formatFixed(f.position.liquidationPrice) } : null,
  meetsInitialMargin: f.meetsInitialMargin,
  meetsMaintenanceMargin: f.meetsMaintenanceMargin,
});

/**
 * `clearsim margin ACCOUNT --trade "buy 1 BTC-PERP @ 9500"`: the account's
 * margin before and after a proposed trade, under the active model, at the
 * current marks (or as of `--at`). Nothing is appended.
 */
export async function marginCommand(account: string, options: { store?: string; trade?: string; fee?: string; at?: string; json?: boolean }): Promise<void> {
  if (!options.trade) throw new UsageError('margin needs --trade "buy|sell QTY INSTRUMENT [@ PRICE]"');
  const spec = parseTradeSpec(options.trade);
  const at = parseAt(options.at);
  const store = await openStoreFromUrl(options.store, { readOnly: true });
  try {
    const runner = await ShardRunner.open(store, { at });
    const state = runner.engine.state;
    const mark = state.ledger.instruments.get(spec.instrument)?.mark;
    const price = spec.price !== undefined ? decimal('price', spec.price) : mark;
    if (price === undefined) throw new UsageError(`--trade: "${spec.instrument}" has no mark yet; give a price ("@ PRICE")`);
    const result = (() => {
      try {
        return whatIfTrade(state, { account, instrument: spec.instrument, side: spec.side, qty: decimal('qty', spec.qty), price, fee: options.fee ? feeOf(options.fee) : undefined });
      } catch (error) {
        throw new UsageError(error instanceof Error ? error.message : String(error));
      }
    })();
    const before = figures(result.before);
    const after = figures(result.after);
    const clock = clockIso(state);
    if (options.json) {
      process.stdout.write(JSON.stringify({ account, trade: { ...spec, price: formatFixed(price) }, model: state.rules?.model ?? null, at: clock, mark: formatFixed(result.mark), before, after }) + '\n');
      return;
    }
    const table = new TextTable({ head: [`${displayText(account)}: ${spec.side} ${spec.qty} ${displayText(spec.instrument)} @ ${formatFixed(price)} (${state.rules?.model ?? 'no'} model, as of ${clock ?? '—'})`, 'before', 'after'] });
    const row = (label: string, key: keyof typeof before) => table.push([label, String(before[key]), String(after[key])]);
    const inUnit = coinUnitLabel(state.ledger.cashAsset);
    row(inUnit('cash'), 'cash');
    row(inUnit('equity'), 'equity');
    row(inUnit('initial margin'), 'initialMargin');
    row(inUnit('maintenance margin'), 'maintenanceMargin');
    row(inUnit('free collateral'), 'freeCollateral');
    table.push([`position in ${displayText(spec.instrument)}`, before.position ? `${before.position.qty} @ ${before.position.entryPrice}` : '—', after.position ? `${after.position.qty} @ ${after.position.entryPrice}` : '—']);
    table.push(['liquidation price', before.position?.liquidationPrice ?? '—', after.position?.liquidationPrice ?? '—']);
    row('meets initial margin', 'meetsInitialMargin');
    row('meets maintenance margin', 'meetsMaintenanceMargin');
    process.stdout.write(table.toString() + '\n');
  } finally {
    await store.close();
  }
}
