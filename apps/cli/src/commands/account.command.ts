import { displayText, escapeControls } from '../output/display-text';
import { TextTable } from '../output/text-table';
import { accountJson, accountView, clockIso } from '@clearsim/clearing';
import { accountFields, encodeEvent, formatTimestamp, isDecision, type ClearingEvent } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { UsageError } from '../cli-error';
import { parseAt } from '../io/at-option';
import { countOption } from '../io/whole-number-option';
import { openStoreFromUrl } from './store-options';

const concerns = (event: ClearingEvent, id: string): boolean => accountFields(event).some((f) => f.account === id);

/** `clearsim account ID`: one account as it was at `--at` (default: now), with the decisions that touched it. */
export async function accountCommand(id: string, options: { store?: string; at?: string; json?: boolean; history?: string }): Promise<void> {
  const at = parseAt(options.at);
  const limit = countOption('--history', options.history ?? '20');
  const store = await openStoreFromUrl(options.store, { readOnly: true });
  try {
    const history: ClearingEvent[] = [];
    const collect = (event: ClearingEvent): void => void (isDecision(event) && concerns(event, id) && history.push(event));
    let runner: ShardRunner;
    if (at === undefined) {
      // the account now: the latest snapshot and its tail, whose decisions are collected as they are folded; the
      // history before the snapshot from a read of the decisions alone (a store passes over the inputs without
      // decoding them: a venue's log is mostly marks)
      runner = await ShardRunner.open(store, { onEvent: collect });
      if (runner.restoredFrom > 0) {
        const tail = history.splice(0);
        for await (const { event } of store.read(1, { toPosition: runner.restoredFrom, decisionsOnly: true })) collect(event);
        for (const event of tail) history.push(event);
      }
    } else {
      // the account at a past time: the whole log folded up to it, its decisions collected on the way
      runner = await ShardRunner.open(store, { at, fullReplay: true, onEvent: collect });
    }
    const account = runner.engine.state.ledger.accounts.get(id);
    if (!account) throw new UsageError(`account "${id}" does not exist in ${store.url}${at === undefined ? '' : ` at ${formatTimestamp(at)}`}`);
    const view = accountJson(accountView(runner.engine.state, account));
    if (options.json) {
      process.stdout.write(JSON.stringify({ account: id, at: clockIso(runner.engine.state), position: runner.head, ...view, decisions: history.map((e) => JSON.parse(encodeEvent(e))) }) + '\n');
      return;
    }
    const head = new TextTable({ head: [`account ${displayText(id)}`, `as of ${clockIso(runner.engine.state) ?? '—'} (position ${runner.head})`] });
    const inUnit = coinUnitLabel(runner.engine.state.ledger.cashAsset);
    head.push(['status', String(view.status)], ['margin mode', String(view.marginMode)], [inUnit('cash'), String(view.cash)], [inUnit('equity'), String(view.equity)], [inUnit('initial margin'), String(view.initialMargin)], [inUnit('maintenance margin'), String(view.maintenanceMargin)]);
    // lending accounts: HF = Σ collateral × liquidation threshold / debt (liquidated below 1)
    if ('healthFactor' in view) head.push(['health factor', view.healthFactor === null ? '∞ (no debt)' : String(view.healthFactor)]);
    const positions = new TextTable({ head: ['instrument', 'qty', 'entry', 'mark', inUnit('unrealized PnL'), inUnit('IM'), inUnit('MM'), 'liquidation price'] });
    for (const [instrument, p] of Object.entries(view.positions as Record<string, Record<string, string | null>>)) {
      positions.push([displayText(instrument), p.qty ?? '', p.entryPrice ?? '', p.mark ?? '', p.unrealizedPnl ?? '', p.initialMargin ?? '', p.maintenanceMargin ?? '', p.liquidationPrice ?? '—']);
    }
    process.stdout.write(head.toString() + '\n' + (positions.length ? positions.toString() : '(no open positions)') + '\n');
    // leveraged token units (docs/rules.md §12): their value is what a redemption pays now, not margin collateral
    if (view.tokens) {
      const tokens = new TextTable({ head: ['token', 'units', 'NAV per unit', 'value (not collateral)'] });
      for (const [token, t] of Object.entries(view.tokens as Record<string, Record<string, string>>)) tokens.push([displayText(token), t.units ?? '', t.navPerUnit ?? '', t.value ?? '']);
      process.stdout.write(tokens.toString() + '\n');
    }
    if (history.length) {
      process.stdout.write(`decisions about ${displayText(id)} (last ${Math.min(limit, history.length)} of ${history.length}):\n`);
      // JSON lines: JSON.stringify leaves C1, bidi and U+2028/U+2029 raw, escapeControls escapes them (the same JSON)
      // slice(-0) is the whole list: --history 0 lists none
      for (const e of limit === 0 ? [] : history.slice(-limit)) process.stdout.write(`  ${escapeControls(encodeEvent(e))}\n`);
    }
  } finally {
    await store.close();
  }
}

/**
 * Labels an amount with the shard's cash asset when it is a coin (an inverse shard margined in BTC or XBT): amounts
 * in the default USD keep their plain labels.
 */
export function coinUnitLabel(cashAsset: string | undefined): (label: string) => string {
  return (label) => (cashAsset === undefined || cashAsset === 'USD' ? label : `${label} (${displayText(cashAsset)})`);
}
