// the width cli-table3 itself gives a cell's text (a wide character takes two columns): what fitTable must agree with
import stringWidth from 'string-width';
import type { AccountsInTrouble, RunSummary } from '@clearsim/clearing';
import { formatFixed } from '@clearsim/money';
import { displayText, escapeControls } from './display-text';
import { TextTable } from './text-table';

/** The columns a summary's tables keep within (the title above them, which carries the input's path, aside). */
export const SUMMARY_COLUMNS = 100;
/** An outputHash's hex digits: the totals' values are never wrapped narrower. */
const HASH_LENGTH = 64;
/** The narrowest the accounts' positions column is wrapped to. */
const MIN_POSITIONS_WIDTH = 24;

/**
 * Keeps a table of `rows` (its head among them) within SUMMARY_COLUMNS: when the rows fit as they are, they are
 * answered as they are (no colWidths); else column `wrap` takes the width the others leave, between `minimum` and
 * `maximum` characters, and its cells are wrapped into it (wrapText: at spaces, a word longer than the column —
 * a path, an id — broken inside, so that nothing is cut). A table whose other columns alone are too wide stays wider.
 */
export function fitTable(rows: readonly (readonly string[])[], wrap: number, minimum: number, maximum = Infinity): { rows: string[][]; colWidths?: number[] } {
  const copy = rows.map((row) => [...row]);
  if (rows.length === 0) return { rows: copy };
  // a cell's width is its longest line's, plus a space of padding each side
  const widths = rows[0]!.map((_, column) => 2 + Math.max(...rows.map((row) => widestLine(row[column] ?? ''))));
  const total = widths.reduce((sum, width) => sum + width, widths.length + 1);
  if (total <= SUMMARY_COLUMNS) return { rows: copy };
  const text = Math.min(maximum, Math.max(minimum, SUMMARY_COLUMNS - (total - widths[wrap]!) - 2));
  widths[wrap] = text + 2;
  for (const row of copy) if (row[wrap] !== undefined) row[wrap] = wrapText(row[wrap]!, text);
  return { rows: copy, colWidths: widths };
}

/** `text`'s lines wrapped to `width` columns: words joined by a space while they fit, a wider word broken. */
export function wrapText(text: string, width: number): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let current = '';
    for (const word of line.split(' ')) {
      if (current !== '' && stringWidth(current) + 1 + stringWidth(word) <= width) {
        current += ' ' + word;
        continue;
      }
      if (current !== '') out.push(current);
      // a word wider than the column goes in pieces as wide as it
      current = '';
      for (const char of word) {
        if (current !== '' && stringWidth(current) + stringWidth(char) > width) {
          out.push(current);
          current = '';
        }
        current += char;
      }
    }
    out.push(current);
  }
  return out.join('\n');
}

function widestLine(text: string): number {
  let widest = 0;
  for (const line of text.split('\n')) widest = Math.max(widest, stringWidth(line));
  return widest;
}

/** Rows of the table of the accounts most in trouble (ClearingEngine.accountsInTrouble gives them, worst first). */
export const ACCOUNT_ROWS = 15;

function accountRows(troubled: AccountsInTrouble, deficits: ReadonlyMap<string, bigint> | undefined): { rows: string[][]; hidden: number } {
  const rows = troubled.accounts.map(([id, json]) => {
    const a = json as { status: string; cash: string; equity: string; initialMargin: string; maintenanceMargin: string; positions: Record<string, { qty: string; entryPrice: string; liquidationPrice: string | null }> };
    const positions = Object.entries(a.positions)
      .map(([instrument, p]) => `${displayText(instrument)} ${p.qty} @ ${p.entryPrice}${p.liquidationPrice ? ` (liq ${p.liquidationPrice})` : ''}`)
      .join('\n');
    const row = [displayText(id), a.status, a.cash, a.equity, a.initialMargin, a.maintenanceMargin, positions || '—'];
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
  // the title (it carries the input's path) goes above the table, so the table is as wide as its labels and the hash:
  // < 100 columns, unless a value of the user's (the store's path, the rules' name) is longer; then it wraps
  const totalRows: string[][] = [
    ['rules', summary.rules === null ? '—' : displayText(summary.rules)],
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
  ];
  // wrapped, the values are exactly as wide as the hash (which is never wrapped): the table as wide as it always is
  const fittedTotals = fitTable(totalRows, 1, HASH_LENGTH, HASH_LENGTH);
  const totals = new TextTable({ ...(fittedTotals.colWidths ? { colWidths: fittedTotals.colWidths } : {}) });
  totals.push(...fittedTotals.rows);
  const deficits = options.deficits && troubled.accounts.some(([id]) => options.deficits!.has(id)) ? options.deficits : undefined;
  const { rows, hidden } = accountRows(troubled, deficits);
  const head = ['account', 'status', 'cash', 'equity', ...(deficits ? ['deficit'] : []), 'IM', 'MM', 'positions'];
  // the positions wrap first: an account of many positions, or long ids, would otherwise widen the table past 100 columns
  const fitted = fitTable([head, ...rows], head.length - 1, MIN_POSITIONS_WIDTH);
  const accounts = new TextTable({ head: fitted.rows[0]!, ...(fitted.colWidths ? { colWidths: fitted.colWidths } : {}) });
  accounts.push(...fitted.rows.slice(1));
  const more = hidden > 0 ? `\n… ${hidden} more accounts (use --json for all, or \`clearsim account ID\`)` : '';
  return `${escapeControls(options.title)}\n${totals.toString()}\n${accounts.toString()}${more}\n`;
}
