import Table from 'cli-table3';
import type { AccountsInTrouble, RunSummary } from '@clearsim/clearing';
import { formatFixed } from '@clearsim/money';

/** Colours only on a terminal; piped output stays plain text. */
export function tableStyle(): { head: string[]; border: string[]; compact: boolean } {
  return process.stdout.isTTY ? { head: ['cyan'], border: ['grey'], compact: true } : { head: [], border: [], compact: true };
}

/** Rows of the table of the accounts most in trouble (ClearingEngine.accountsInTrouble gives them, worst first). */
export const ACCOUNT_ROWS = 15;

function accountRows(troubled: AccountsInTrouble, deficits: ReadonlyMap<string, bigint> | undefined): { rows: string[][]; hidden: number } {
  const rows = troubled.accounts.map(([id, json]) => {
    const a = json as { status: string; cash: string; equity: string; initialMargin: string; maintenanceMargin: string; positions: Record<string, { qty: string; entryPrice: string; liquidationPrice: string | null }> };
    const positions = Object.entries(a.positions)
      .map(([instrument, p]) => `${instrument} ${p.qty} @ ${p.entryPrice}${p.liquidationPrice ? ` (liq ${p.liquidationPrice})` : ''}`)
      .join('\n');
    const row = [id, a.status, a.cash, a.equity, a.initialMargin, a.maintenanceMargin, positions || '—'];
    if (deficits) row.splice(4, 0, deficits.has(id) ? formatFixed(deficits.get(id)!) : '');
    return row;
  });
  return { rows, hidden: Math.max(0, troubled.total - troubled.accounts.length) };
}

/** The human-readable result of run/replay: what the saga did, then the accounts most in trouble (the `ACCOUNT_ROWS` worst). */
export function renderSummary(
  summary: Omit<RunSummary, 'accounts'>,
  troubled: AccountsInTrouble,
  options: { title: string; extra?: [string, string][]; /** What each bankrupt account of the run could not pay (AccountBankrupted.deficit), shown beside its equity. */ deficits?: ReadonlyMap<string, bigint> },
): string {
  // the title (it carries the input's path) goes above the table, so the table is as wide as its labels and the hash: < 100 columns
  const totals = new Table({ style: tableStyle() });
  totals.push(
    ['rules', summary.rules ?? '—'],
    ['log clock', summary.clock ?? '—'],
    ['inputs', String(summary.eventsIn) + (summary.duplicates ? ` (+${summary.duplicates} duplicates ignored)` : '')],
    ['decisions', String(summary.decisions)],
    ['margin calls (met)', `${summary.marginCalls} (${summary.marginCallsMet})`],
    ['grace periods expired', String(summary.gracePeriodsExpired)],
    ['liquidations (positions)', `${summary.liquidations} (${summary.positionsLiquidated})`],
    ['bankruptcies', String(summary.bankruptcies)],
    ['insurance fund draws (total)', `${summary.insuranceDraws} (${summary.insuranceDrawn})`],
    ['insurance fund balance', summary.insuranceFund],
    ['auto-deleverages', String(summary.autoDeleverages)],
    // once an ADL fill happened (docs/rules.md "ADL policies"): overshoot = profit taken − deficit covered
    ...(summary.adl
      ? [
          ['ADL accounts (notional)', `${summary.adl.accountsDeleveraged} (${summary.adl.notionalDeleveraged})`],
          ['ADL deficit covered', summary.adl.deficitCovered],
          ['ADL profit taken (overshoot)', `${summary.adl.profitTaken} (${summary.adl.overshoot})`],
        ]
      : []),
    ['losses socialized', String(summary.lossesSocialized)],
    // rules with market impact only (docs/rules.md §11)
    ...(summary.markImpacts !== undefined ? [['impacts (cascade waves)', `${summary.markImpacts} (${summary.cascadeWaves ?? 0})`]] : []),
    // leveraged tokens only (docs/rules.md §12)
    ...(summary.tokenRebalances !== undefined ? [['token rebalances', String(summary.tokenRebalances)]] : []),
    ['withdrawals approved/refused', `${summary.withdrawalsApproved} / ${summary.withdrawalsRejected}`],
    ...(options.extra ?? []),
    ['outputHash', summary.outputHash],
  );
  const deficits = options.deficits && troubled.accounts.some(([id]) => options.deficits!.has(id)) ? options.deficits : undefined;
  const { rows, hidden } = accountRows(troubled, deficits);
  const head = ['account', 'status', 'cash', 'equity', ...(deficits ? ['deficit'] : []), 'IM', 'MM', 'positions'];
  const accounts = new Table({ head, style: tableStyle() });
  accounts.push(...rows);
  const more = hidden > 0 ? `\n… ${hidden} more accounts (use --json for all, or \`clearsim account ID\`)` : '';
  return `${options.title}\n${totals.toString()}\n${accounts.toString()}${more}\n`;
}
