import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Table from 'cli-table3';
import { ClearingEngine, type RunSummary } from '@clearsim/clearing';
import { encodeEvent, InputError, type ClearingEvent } from '@clearsim/events';
import { UsageError } from '../cli-error';
import { openInput } from '../io/input-source';
import { tableStyle } from '../output/summary-table';

const COUNTS = ['decisions', 'marginCalls', 'marginCallsMet', 'gracePeriodsExpired', 'liquidations', 'positionsLiquidated', 'bankruptcies', 'insuranceDraws', 'insuranceDrawn', 'autoDeleverages', 'lossesSocialized', 'withdrawalsApproved', 'withdrawalsRejected', 'insuranceFund', 'outputHash'] as const;

interface Side {
  rules: string;
  summary: RunSummary;
  decisions: string[];
  /** With --report: the run's log (each input, then its decisions), replayed for the report. */
  log?: ClearingEvent[];
}

/** Runs the same history under one rule set, in memory (nothing is stored). */
async function runUnder(file: string, rules: string, keepLog: boolean): Promise<Side> {
  const engine = ClearingEngine.create();
  const decisions: string[] = [];
  const log: ClearingEvent[] | undefined = keepLog ? [] : undefined;
  for await (const { input, source, line } of openInput(file, rules).inputs) {
    try {
      const result = engine.handle(input);
      for (const d of result.decisions) decisions.push(encodeEvent(d));
      // the log's order: decisions of grace timers the input passed, the input, then the rest
      if (log && !result.duplicate) log.push(...result.decisions.slice(0, result.beforeInput), input, ...result.decisions.slice(result.beforeInput));
    } catch (error) {
      if (error instanceof InputError) throw error.withLocation(source, line);
      throw error;
    }
  }
  return { rules, summary: engine.summary(), decisions, log };
}

/**
 * `clearsim diff <input> --rules A --rules B`: the same history through two
 * rule sets — totals side by side, the first decision where they part, and
 * the accounts whose fate differs.
 */
export async function diffCommand(file: string, options: { rules?: string[]; json?: boolean; accounts?: string; report?: string }): Promise<void> {
  const rules = options.rules ?? [];
  if (rules.length !== 2) throw new UsageError(`diff needs exactly two --rules (got ${rules.length})`);
  const keepLog = options.report !== undefined;
  const [a, b] = [await runUnder(file, rules[0]!, keepLog), await runUnder(file, rules[1]!, keepLog)];
  if (options.report) {
    mkdirSync(dirname(options.report), { recursive: true });
    const { writeDiffReport } = await import('../output/html-report');
    const label = (side: Side): string => side.summary.rules ?? side.rules;
    // two presets of the same name still need two labels
    const labels = label(a) === label(b) ? [`${label(a)} (${a.rules})`, `${label(b)} (${b.rules})`] : [label(a), label(b)];
    await writeDiffReport(options.report, `clearsim diff ${file}`, [
      { label: labels[0]!, events: a.log! },
      { label: labels[1]!, events: b.log! },
    ]);
    a.log = undefined;
    b.log = undefined;
  }
  let firstDifference = -1;
  for (let i = 0; i < Math.max(a.decisions.length, b.decisions.length); i++) {
    if (a.decisions[i] !== b.decisions[i]) {
      firstDifference = i;
      break;
    }
  }
  const accounts = [...new Set([...Object.keys(a.summary.accounts), ...Object.keys(b.summary.accounts)])].sort();
  const changed = accounts
    .map((id) => ({ id, a: a.summary.accounts[id] as Record<string, string> | undefined, b: b.summary.accounts[id] as Record<string, string> | undefined }))
    .filter(({ a: x, b: y }) => x?.status !== y?.status || x?.equity !== y?.equity);
  if (options.json) {
    process.stdout.write(
      JSON.stringify({
        input: file,
        rules: [a.rules, b.rules],
        totals: Object.fromEntries(COUNTS.map((k) => [k, [a.summary[k], b.summary[k]]])),
        identical: firstDifference === -1,
        firstDifference: firstDifference === -1 ? null : { index: firstDifference, a: a.decisions[firstDifference] ?? null, b: b.decisions[firstDifference] ?? null },
        accountsChanged: changed.map(({ id, a: x, b: y }) => ({ account: id, a: x ? { status: x.status, equity: x.equity } : null, b: y ? { status: y.status, equity: y.equity } : null })),
      }) + '\n',
    );
    return;
  }
  const totals = new Table({ head: [`clearsim diff ${file}`, a.rules, b.rules], style: tableStyle() });
  for (const key of COUNTS) totals.push([key, String(a.summary[key]), String(b.summary[key])]);
  process.stdout.write(totals.toString() + '\n');
  if (firstDifference === -1) {
    process.stdout.write('the two rule sets decide exactly the same\n');
    return;
  }
  process.stdout.write(`first difference at decision #${firstDifference + 1}:\n  ${a.rules}: ${a.decisions[firstDifference] ?? '(none)'}\n  ${b.rules}: ${b.decisions[firstDifference] ?? '(none)'}\n`);
  const limit = Number(options.accounts ?? 20);
  const table = new Table({ head: ['account', `${a.rules} status`, 'equity', `${b.rules} status`, 'equity'], style: tableStyle() });
  for (const { id, a: x, b: y } of changed.slice(0, limit)) table.push([id, x?.status ?? '—', x?.equity ?? '—', y?.status ?? '—', y?.equity ?? '—']);
  process.stdout.write(`${changed.length} accounts end differently${changed.length > limit ? ` (first ${limit})` : ''}:\n${table.toString()}\n`);
}
