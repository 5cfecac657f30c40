import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { formatFixed } from '@clearsim/money';
import { checkHeldInputs, generateInputStream, rulesReference, ScenarioError, type Scenario } from '@clearsim/scenario';
import { RulesError } from '@clearsim/rules';
import { readTextBounded } from '../io/bounded-read';
import { prepareOutputFile } from '../io/file-paths';
import { UsageError } from '../cli-error';
import { isScenarioFile, parseScenarioFile } from '../io/input-source';
import { loadRules } from '../io/rules-source';
import { wholeNumberOption } from '../io/whole-number-option';
import { displayText, escapeControls, quotedText } from '../output/display-text';
import { TextTable } from '../output/text-table';
import { runStressPaths } from '../stress/stress-pool';
import type { StressJob } from '../stress/stress-path';
import { METRICS, summarize } from '../stress/stress-summary';

export interface StressOptions {
  paths?: string;
  seed?: string;
  rules?: string[];
  workers?: string;
  json?: boolean;
  progress?: boolean;
  report?: string;
}

/**
 * `clearsim stress <scenario.yaml>`: N seeded price paths around the
 * scenario's (GARCH(1,1) + jumps, the scenario's `stress:` block), each
 * replayed in memory through each rule set; per rule set the distribution over
 * the paths of bankruptcies, the insurance fund's low point, ADL fills,
 * socialized loss and the margin held (docs/stress.md). Paths run on worker
 * threads; the figures do not depend on how many.
 */
export async function stressCommand(file: string, options: StressOptions): Promise<void> {
  const count = wholeNumberOption('--paths', options.paths ?? '100', 1, 1_000_000);
  const workers = wholeNumberOption('--workers', options.workers ?? String(availableParallelism()), 1, 256);
  const scenario = readScenario(file);
  const seed = options.seed === undefined ? scenario.seed : seedOf(options.seed);
  const ruleSets = (options.rules && options.rules.length > 0 ? options.rules : [undefined]).map((reference) => {
    if (reference !== undefined) return { label: reference, rules: loadRules(reference).rules };
    const ref = rulesReference(scenario);
    const rules = ref.kind === 'inline' ? ref.rules : loadRules(ref.kind === 'preset' ? ref.name : ref.path, dirname(file)).rules;
    return { label: ref.kind === 'preset' ? ref.name : ref.kind === 'path' ? ref.path : 'scenario rules', rules };
  });
  for (const { rules } of ruleSets) {
    try {
      generateInputStream(scenario, rules); // refuses here, once, what every path would refuse (no tiers for an instrument…)
    } catch (error) {
      if (error instanceof ScenarioError || error instanceof RulesError) throw new UsageError(error.message);
      throw error;
    }
  }
  // the report's folder first: the paths can take minutes
  if (options.report) prepareOutputFile('--report', options.report);
  const job: StressJob = { scenario, ruleSets, seed };
  const bar = options.progress !== false && !options.json && process.stderr.isTTY ? new SingleBar({ format: 'stress {bar} {value}/{total} paths | ETA {eta_formatted}', hideCursor: true, stream: process.stderr }, Presets.shades_classic) : undefined;
  bar?.start(count, 0);
  let byPath;
  try {
    byPath = await runStressPaths(job, count, workers, (done) => bar?.update(done));
  } finally {
    bar?.stop();
  }
  const summaries = summarize(byPath, ruleSets.length);
  if (options.report) {
    const { writeStressReport } = await import('../output/stress-report');
    await writeStressReport(options.report, `clearsim stress ${file}`, { scenario: file, name: scenario.name, seed: seed.toString(), byPath, ruleSets: ruleSets.map(({ label }, r) => ({ label, summary: summaries[r]! })) });
  }
  if (options.json) {
    process.stdout.write(
      JSON.stringify({
        scenario: file,
        name: scenario.name,
        seed: seed.toString(),
        paths: count,
        percentiles: 'nearest-rank, ordered from best to worst (insurance fund low: lower is worse)',
        ruleSets: ruleSets.map(({ label }, r) => ({ rules: label, ...summaries[r] })),
        byPath: byPath.map((figures, index) => ({
          index,
          figures: figures.map((f, r) => ({ rules: ruleSets[r]!.label, ...f, socializedLoss: formatFixed(f.socializedLoss), insuranceFundLow: formatFixed(f.insuranceFundLow), marginHeld: formatFixed(f.marginHeld) })),
        })),
      }) + '\n',
    );
    return;
  }
  const table = new TextTable({ head: ['figure', 'p50', 'p95', 'p99', 'worst'], colWidths: [22, 16, 16, 16, 16] });
  ruleSets.forEach(({ label }, r) => {
    table.push([{ colSpan: 5, content: `rules: ${displayText(label)}` }]);
    for (const metric of METRICS) {
      const d = summaries[r]![metric.key];
      const show = (v: string | number) => (metric.amount ? roundForDisplay(String(v)) : String(v));
      table.push([metric.title, show(d.p50), show(d.p95), show(d.p99), show(d.worst)]);
    }
  });
  process.stdout.write(`clearsim stress ${escapeControls(file)}: ${count} paths, seed ${seed} (scenario ${quotedText(scenario.name)})\n${table.toString()}\n`);
  process.stdout.write('nearest-rank percentiles over the paths, from the best side: p95 is what 95% of paths do no worse\nthan; for the insurance fund low point lower is worse (p95: the level 95% of paths stay at or above)\n');
  if (options.report) process.stdout.write(`report written to ${escapeControls(options.report)} (open it in a browser)\n`);
}

/** An amount in the table: two decimals, rounded half away from zero (the JSON keeps every digit). */
function roundForDisplay(text: string): string {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
  let cents = BigInt(whole!) * 100n + BigInt((fraction + '000').slice(0, 2));
  if (Number((fraction + '000')[2]) >= 5) cents += 1n;
  const out = `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
  return negative && cents !== 0n ? `-${out}` : out;
}

function readScenario(file: string): Scenario {
  if (!isScenarioFile(file)) throw new UsageError(`stress needs a scenario (.yaml): ${file}`);
  let text: string;
  try {
    text = readTextBounded(file);
  } catch {
    throw new UsageError(`scenario file not found: ${file}`);
  }
  const scenario = parseScenarioFile(file, text);
  try {
    // each path's inputs are one array, in each worker: the bound of what is held at once
    checkHeldInputs(scenario, file);
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(error.message);
    throw error;
  }
  return scenario;
}

function seedOf(text: string): bigint {
  if (!/^\d{1,20}$/.test(text)) throw new UsageError(`--seed: "${text}" is not a non-negative integer`);
  return BigInt(text);
}
