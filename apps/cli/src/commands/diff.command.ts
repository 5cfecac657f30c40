import { basename } from 'node:path';
import { ClearingEngine, initialMarginHeld, insuranceFundCash, type RunSummary } from '@clearsim/clearing';
import { encodeEvent, InputError, type ClearingEvent } from '@clearsim/events';
import { formatFixed, formatFixedPlaces, parseFixed, type Fixed } from '@clearsim/money';
import { prepareOutputFile } from '../io/file-paths';
import { UsageError } from '../cli-error';
import { countOption } from '../io/whole-number-option';
import { openInput } from '../io/input-source';
import { displayText, escapeControls } from '../output/display-text';
import { TextTable } from '../output/text-table';

const COUNTS = ['decisions', 'marginCalls', 'marginCallsMet', 'gracePeriodsExpired', 'liquidations', 'positionsLiquidated', 'bankruptcies', 'insuranceDraws', 'insuranceDrawn', 'autoDeleverages', 'lossesSocialized', 'withdrawalsApproved', 'withdrawalsRejected', 'insuranceFund'] as const;

/** The figures that compare venues (amounts as decimal strings; the ADL ones "0" where no ADL fill happened). */
const FIGURES = ['insuranceFundLow', 'socializedLoss', 'marginHeld', 'adlDeficitCovered', 'adlProfitTaken', 'adlOvershoot', 'accountsDeleveraged'] as const;
type Figure = (typeof FIGURES)[number];

/** Rows of the text table: what each shows, and the key it reads. */
const ROWS: [string, (typeof COUNTS)[number] | Figure | 'outputHash'][] = [
  ['margin calls', 'marginCalls'],
  ['liquidations', 'liquidations'],
  ['positions liquidated', 'positionsLiquidated'],
  ['bankruptcies', 'bankruptcies'],
  ['insurance drawn', 'insuranceDrawn'],
  ['insurance fund low', 'insuranceFundLow'],
  ['insurance fund end', 'insuranceFund'],
  ['ADL fills', 'autoDeleverages'],
  ['ADL accounts', 'accountsDeleveraged'],
  ['ADL deficit covered', 'adlDeficitCovered'],
  ['ADL profit taken', 'adlProfitTaken'],
  ['ADL overshoot', 'adlOvershoot'],
  ['socialized loss', 'socializedLoss'],
  ['margin held (IM)', 'marginHeld'],
  ['decisions', 'decisions'],
  ['outputHash', 'outputHash'],
];

/** The widest table the text output prints: rule sets beyond it go to a further table. */
/** Line styles the report has for the rule sets of one diff (report-client.ts DASH). */
const MAX_REPORTED_RULE_SETS = 8;
const MAX_COLUMNS = 100;

interface Side {
  rules: string;
  summary: RunSummary;
  figures: Record<Figure, string | number>;
  decisions: string[];
  /** With --report: the run's log (each input, then its decisions), replayed for the report. */
  log?: ClearingEvent[];
}

/**
 * Runs the same history under one rule set, in memory (nothing is stored),
 * keeping the figures that compare venues: the insurance fund's lowest balance
 * once it was first funded, Σ LossSocialized, the margin the opening book posts
 * (Σ IM of the traders after the inputs of the first timestamp), the ADL figures.
 */
async function runUnder(file: string, rules: string, keepLog: boolean): Promise<Side> {
  const engine = ClearingEngine.create();
  const decisions: string[] = [];
  const log: ClearingEvent[] | undefined = keepLog ? [] : undefined;
  let socializedLoss = 0n;
  let fundLow: Fixed | undefined;
  let firstTs: number | undefined;
  let marginHeld: Fixed | undefined;
  for await (const { input, source, line } of openInput(file, rules).inputs) {
    firstTs ??= input.ts;
    if (marginHeld === undefined && input.ts > firstTs) marginHeld = initialMarginHeld(engine.state);
    try {
      const result = engine.handle(input);
      for (const d of result.decisions) {
        decisions.push(encodeEvent(d));
        if (d.type === 'LossSocialized') socializedLoss += d.amount;
      }
      // the log's order: decisions of grace timers the input passed, the input, then the rest
      if (log && !result.duplicate) log.push(...result.decisions.slice(0, result.beforeInput), input, ...result.decisions.slice(result.beforeInput));
    } catch (error) {
      if (error instanceof InputError) throw error.withLocation(source, line);
      throw error;
    }
    const fund = insuranceFundCash(engine.state);
    if (fund !== undefined && (fundLow !== undefined || fund > 0n) && (fundLow === undefined || fund < fundLow)) fundLow = fund;
  }
  marginHeld ??= initialMarginHeld(engine.state);
  const summary = engine.summary();
  const adl = summary.adl;
  return {
    rules,
    summary,
    decisions,
    log,
    figures: {
      insuranceFundLow: formatFixed(fundLow ?? 0n),
      socializedLoss: formatFixed(socializedLoss),
      marginHeld: formatFixed(marginHeld),
      adlDeficitCovered: adl?.deficitCovered ?? '0',
      adlProfitTaken: adl?.profitTaken ?? '0',
      adlOvershoot: adl?.overshoot ?? '0',
      accountsDeleveraged: adl?.accountsDeleveraged ?? 0,
    },
  };
}


const valueOf = (side: Side, key: (typeof ROWS)[number][1]): string | number => (key in side.figures ? side.figures[key as Figure] : (side.summary[key as keyof RunSummary] as string | number));

/**
 * Amounts to the cent in the text table (the JSON keeps every decimal); counts as they are; the hash shortened beside
 * more than two rule sets. The amounts are the engine's (a fund's balance, Σ of deposits): read with the bounds of a
 * computed decimal, not an input's 30 digits.
 */
function cell(value: string | number, key: string, sides: number): string {
  if (key === 'outputHash') return sides > 2 ? String(value).slice(0, 12) + '…' : String(value);
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) && value.includes('.')) return formatFixedPlaces(parseFixed(value, 'computed'), 2);
  return String(value);
}

/** The first decision index where two runs part, or −1. */
function firstDifferenceOf(a: Side, b: Side): number {
  for (let i = 0; i < Math.max(a.decisions.length, b.decisions.length); i++) if (a.decisions[i] !== b.decisions[i]) return i;
  return -1;
}

/**
 * `clearsim diff <input> --rules A --rules B [--rules C …]`: the same history
 * through two or more rule sets — one table, metrics as rows and rule sets as
 * columns (split into several tables of at most 100 columns); with two, also
 * the first decision where they part and the accounts whose fate differs; with
 * more, where each parts from the first.
 */
export async function diffCommand(file: string, options: { rules?: string[]; json?: boolean; accounts?: string; report?: string }): Promise<void> {
  const rules = options.rules ?? [];
  const limit = countOption('--accounts', options.accounts ?? '20');
  if (rules.length < 2) throw new UsageError(`diff needs at least two --rules (got ${rules.length})`);
  if (options.report !== undefined && rules.length > MAX_REPORTED_RULE_SETS) {
    throw new UsageError(`diff --report draws at most ${MAX_REPORTED_RULE_SETS} rule sets on the same axes (got ${rules.length}); drop --report for the table alone`);
  }
  // the report's path first: the runs under each rule set can take a while
  if (options.report !== undefined) prepareOutputFile('--report', options.report);
  const keepLog = options.report !== undefined;
  const sides: Side[] = [];
  for (const r of rules) sides.push(await runUnder(file, r, keepLog));
  if (options.report) {
    const { writeDiffReport } = await import('../output/html-report');
    const label = (side: Side): string => side.summary.rules ?? side.rules;
    // two presets of the same name still need two labels
    const names = sides.map(label);
    const labels = sides.map((side, i) => (names.indexOf(names[i]!) !== names.lastIndexOf(names[i]!) ? `${names[i]} (${side.rules})` : names[i]!));
    await writeDiffReport(options.report, `clearsim diff ${file}`, sides.map((side, i) => ({ label: labels[i]!, events: side.log! })));
    for (const side of sides) side.log = undefined;
  }
  const [a, b] = [sides[0]!, sides[1]!];
  const differences = sides.slice(1).map((side) => firstDifferenceOf(a, side));
  const firstDifference = differences[0]!;
  const identical = differences.every((d) => d === -1);
  const accounts = [...new Set([...Object.keys(a.summary.accounts), ...Object.keys(b.summary.accounts)])].sort();
  const changed = accounts
    .map((id) => ({ id, a: a.summary.accounts[id] as Record<string, string> | undefined, b: b.summary.accounts[id] as Record<string, string> | undefined }))
    .filter(({ a: x, b: y }) => x?.status !== y?.status || x?.equity !== y?.equity);
  if (options.json) {
    const totals = Object.fromEntries([...COUNTS, 'outputHash' as const].map((k) => [k, sides.map((s) => s.summary[k])]));
    for (const k of FIGURES) totals[k] = sides.map((s) => s.figures[k]);
    process.stdout.write(
      JSON.stringify({
        input: file,
        rules: sides.map((s) => s.rules),
        totals,
        identical,
        // the two-rule form: where B parts from A, and the accounts whose fate differs
        firstDifference: firstDifference === -1 ? null : { index: firstDifference, a: a.decisions[firstDifference] ?? null, b: b.decisions[firstDifference] ?? null },
        ...(sides.length > 2 ? { firstDifferences: sides.slice(1).map((s, i) => ({ rules: s.rules, index: differences[i] === -1 ? null : differences[i] })) } : {}),
        accountsChanged: changed.map(({ id, a: x, b: y }) => ({ account: id, a: x ? { status: x.status, equity: x.equity } : null, b: y ? { status: y.status, equity: y.equity } : null })),
      }) + '\n',
    );
    return;
  }
  process.stdout.write(`clearsim diff ${escapeControls(file)}\n`);
  for (const group of columnGroups(sides)) process.stdout.write(group.toString() + '\n');
  if (identical) {
    process.stdout.write(`the ${sides.length === 2 ? 'two' : sides.length} rule sets decide exactly the same\n`);
    return;
  }
  if (sides.length > 2) {
    sides.slice(1).forEach((s, i) => process.stdout.write(`${displayText(s.rules)} parts from ${displayText(a.rules)} ${differences[i] === -1 ? 'nowhere' : `at decision #${differences[i]! + 1}`}\n`));
    return;
  }
  // the decisions are JSON lines: escapeControls escapes what JSON.stringify leaves raw (C1, bidi, U+2028/U+2029)
  process.stdout.write(
    `first difference at decision #${firstDifference + 1}:\n  ${displayText(a.rules)}: ${escapeControls(a.decisions[firstDifference] ?? '(none)')}\n  ${displayText(b.rules)}: ${escapeControls(b.decisions[firstDifference] ?? '(none)')}\n`,
  );
  const table = new TextTable({ head: ['account', `${displayText(a.rules)} status`, 'equity', `${displayText(b.rules)} status`, 'equity'] });
  for (const { id, a: x, b: y } of changed.slice(0, limit)) table.push([displayText(id), x?.status ?? '—', x?.equity ?? '—', y?.status ?? '—', y?.equity ?? '—']);
  process.stdout.write(`${changed.length} accounts end differently${changed.length > limit ? ` (first ${limit})` : ''}:\n${table.toString()}\n`);
}

/** A rule set's column heading: a preset's name, or a file's name without its directory and extension (as printed). */
const heading = (rules: string): string => displayText(/[\\/]|\.ya?ml$/i.test(rules) ? basename(rules).replace(/\.ya?ml$/i, '') : rules);

/** The comparison as tables of at most MAX_COLUMNS columns: metrics as rows, as many rule sets per table as fit. */
function columnGroups(sides: Side[]): TextTable[] {
  const label = Math.max(...ROWS.map(([name]) => name.length));
  const widthOf = (s: Side) => Math.max(heading(s.rules).length, ...ROWS.map(([, key]) => cell(valueOf(s, key), key, sides.length).length));
  const groups: Side[][] = [];
  let width = label + 4;
  for (const side of sides) {
    const w = widthOf(side) + 3;
    if (groups.length === 0 || width + w > MAX_COLUMNS) {
      groups.push([]);
      width = label + 4;
    }
    groups[groups.length - 1]!.push(side);
    width += w;
  }
  return groups.map((group) => {
    const table = new TextTable({ head: ['metric', ...group.map((s) => heading(s.rules))] });
    for (const [name, key] of ROWS) table.push([name, ...group.map((s) => cell(valueOf(s, key), key, sides.length))]);
    return table;
  });
}
