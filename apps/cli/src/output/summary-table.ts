import Table from 'cli-table3';
import type { RunSummary } from '@clearsim/clearing';

/** Colours only on a terminal; piped output stays plain text. */
export function tableStyle(): { head: string[]; border: string[]; compact: boolean } {
  return process.stdout.isTTY ? { head: ['cyan'], border: ['grey'], compact: true } : { head: [], border: [], compact: true };
}

const ORDER: Record<string, number> = { bankrupt: 0, liquidated: 1, 'margin-call': 2, healthy: 3, system: 4 };

function accountRows(summary: RunSummary, limit: number): { rows: string[][]; hidden: number } {
  const accounts = Object.entries(summary.accounts).map(([id, a]) => ({ id, ...(a as Record<string, unknown>) })) as ({ id: string; status: string; cash: string; equity: string; initialMargin: string; maintenanceMargin: string; positions: Record<string, { qty: string; entryPrice: string; liquidationPrice: string | null }> })[];
  accounts.sort((a, b) => (ORDER[a.status] ?? 9) - (ORDER[b.status] ?? 9) || Number(a.equity) - Number(b.equity) || (a.id < b.id ? -1 : 1));
  const rows = accounts.slice(0, limit).map((a) => {
    const positions = Object.entries(a.positions)
      .map(([instrument, p]) => `${instrument} ${p.qty} @ ${p.entryPrice}${p.liquidationPrice ? ` (liq ${p.liquidationPrice})` : ''}`)
      .join('\n');
    return [a.id, a.status, a.cash, a.equity, a.initialMargin, a.maintenanceMargin, positions || '—'];
  });
  return { rows, hidden: Math.max(0, accounts.length - limit) };
}

/** The human-readable result of run/replay: what the saga did, then the accounts most in trouble. */
export function renderSummary(summary: RunSummary, options: { title: string; accountLimit?: number; extra?: [string, string][] }): string {
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
    ['losses socialized', String(summary.lossesSocialized)],
    // rules with market impact only (docs/rules.md §11)
    ...(summary.markImpacts !== undefined ? [['impacts (cascade waves)', `${summary.markImpacts} (${summary.cascadeWaves ?? 0})`]] : []),
    ['withdrawals approved/refused', `${summary.withdrawalsApproved} / ${summary.withdrawalsRejected}`],
    ...(options.extra ?? []),
    ['outputHash', summary.outputHash],
  );
  const limit = options.accountLimit ?? 15;
  const { rows, hidden } = accountRows(summary, limit);
  const accounts = new Table({ head: ['account', 'status', 'cash', 'equity', 'IM', 'MM', 'positions'], style: tableStyle() });
  accounts.push(...rows);
  const more = hidden > 0 ? `\n… ${hidden} more accounts (use --json for all, or \`clearsim account ID\`)` : '';
  return `${options.title}\n${totals.toString()}\n${accounts.toString()}${more}\n`;
}
