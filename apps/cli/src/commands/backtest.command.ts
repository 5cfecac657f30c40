import { BacktestRecorder, ClearingEngine } from '@clearsim/clearing';
import { InputError } from '@clearsim/events';
import type { AccountBacktest } from '@clearsim/risk-models';
import { UsageError } from '../cli-error';
import { countOption } from '../io/whole-number-option';
import { openInput } from '../io/input-source';
import { prepareOutputFile } from '../io/file-paths';
import { displayText, escapeControls } from '../output/display-text';
import { TextTable } from '../output/text-table';
import type { BacktestModelResult } from '../output/backtest-report';

export interface BacktestOptions {
  rules?: string[];
  period?: string;
  confidence?: string;
  margin?: string;
  json?: boolean;
  report?: string;
  accounts?: string;
}

const fmt = (x: number, digits = 4) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

function summarize(result: AccountBacktest, confidence: number): Record<string, string | number> {
  const p = result.pooled;
  return {
    'account-periods': p.observations,
    exceedances: p.exceedances,
    [`coverage (target ${confidence})`]: fmt(p.coverage),
    'Kupiec POF LR (p)': `${fmt(p.kupiec.LR, 3)} (${fmt(p.kupiec.pValue)})`,
    'Christoffersen LR (p)': `${fmt(p.christoffersen.LR, 3)} (${fmt(p.christoffersen.pValue)})`,
    'conditional coverage LR (p)': `${fmt(p.conditionalCoverage.LR, 3)} (${fmt(p.conditionalCoverage.pValue)})`,
    'Basel zone': p.zone,
    accounts: result.accounts.length,
    'accounts red / yellow': `${result.accounts.filter((a) => a.zone === 'red').length} / ${result.accounts.filter((a) => a.zone === 'yellow').length}`,
  };
}

/**
 * `clearsim backtest <input> --rules A [--rules B …]`: runs the history under
 * each rule set (in memory) and, per account and margin period, compares the
 * margin held at the start with the loss realized over the period — coverage,
 * Kupiec, Christoffersen and the Basel traffic light, pooled and per account.
 */
/** The longest margin period --period takes: a year of seconds. */
const MAX_PERIOD_SECONDS = 366 * 24 * 3600;

export async function backtestCommand(file: string, options: BacktestOptions): Promise<void> {
  const rulesList = options.rules ?? [];
  if (rulesList.length === 0) throw new UsageError('backtest needs at least one --rules');
  const periodText = options.period ?? '3600';
  const periodSeconds = Number(periodText);
  // digits only, and at most a year: "99999999999999999999" was read as 1e20 s, rounded, and took as one period a span no log has
  if (!/^\d{1,9}$/.test(periodText) || periodSeconds <= 0 || periodSeconds > MAX_PERIOD_SECONDS) {
    throw new UsageError(`--period: "${periodText}" is not a whole number of seconds from 1 to ${MAX_PERIOD_SECONDS} (a year)`);
  }
  const confidence = Number(options.confidence ?? 0.99);
  if (!(confidence > 0 && confidence < 1)) throw new UsageError(`--confidence: "${options.confidence}" is not in (0, 1)`);
  if (options.report) prepareOutputFile('--report', options.report);
  const limit = countOption('--accounts', options.accounts ?? '10');
  const margin = (options.margin ?? 'initial') as 'initial' | 'maintenance';
  if (margin !== 'initial' && margin !== 'maintenance') throw new UsageError('--margin is initial or maintenance');

  const models: BacktestModelResult[] = [];
  let firstTs: number | undefined;
  for (const rules of rulesList) {
    const engine = ClearingEngine.create();
    const recorder = new BacktestRecorder(periodSeconds, margin);
    for await (const { input, source, line } of openInput(file, rules).inputs) {
      firstTs ??= input.ts;
      recorder.beforeInput(engine.state, input.ts);
      try {
        engine.handle(input);
      } catch (error) {
        if (error instanceof InputError) throw error.withLocation(source, line);
        throw error;
      }
    }
    recorder.close(engine.state);
    const result = recorder.report(confidence);
    models.push({ rules: engine.state.rules?.name ?? rules, rows: recorder.rows, summary: summarize(result, confidence), result });
  }

  if (options.report) {
    const { writeBacktestReport } = await import('../output/backtest-report');
    const periodMs = periodSeconds * 1000;
    await writeBacktestReport(options.report, `clearsim backtest ${file}`, models, { periodSeconds, confidence, margin, origin: Math.floor((firstTs ?? 0) / periodMs) * periodMs });
  }
  if (options.json) {
    process.stdout.write(
      JSON.stringify({
        input: file,
        periodSeconds,
        confidence,
        margin,
        models: models.map((m) => ({ rules: m.rules, pooled: m.result.pooled, accounts: m.result.accounts })),
      }) + '\n',
    );
    return;
  }
  const table = new TextTable({ head: [`clearsim backtest ${file} (period ${periodSeconds} s, ${margin} margin)`, ...models.map((m) => displayText(m.rules))] });
  for (const key of Object.keys(models[0]!.summary)) table.push([key, ...models.map((m) => String(m.summary[key]))]);
  process.stdout.write(table.toString() + '\n');
  for (const m of models) {
    const worst = [...m.result.accounts].sort((a, b) => b.exceedances - a.exceedances || (a.account < b.account ? -1 : 1)).slice(0, limit);
    if (worst.length === 0 || worst[0]!.exceedances === 0) continue;
    const t = new TextTable({ head: [`${displayText(m.rules)}: most exceeded`, 'periods', 'exceedances', 'coverage', 'Kupiec p', 'zone'] });
    for (const a of worst) t.push([displayText(a.account), String(a.observations), String(a.exceedances), fmt(a.coverage), fmt(a.kupiec.pValue), a.zone]);
    process.stdout.write(t.toString() + '\n');
  }
  if (options.report) process.stdout.write(`report: ${escapeControls(options.report)}\n`);
}

