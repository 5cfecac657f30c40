import { writeFile } from 'node:fs/promises';
import { toNumber } from '@clearsim/money';
import type { PathFigures } from '../stress/stress-path';
import { METRICS, type Distribution, type MetricKey } from '../stress/stress-summary';
import { renderPage } from './report-page';

export interface StressReportInput {
  scenario: string;
  name: string;
  seed: string;
  /** Per path, per rule set (runStressPaths' order). */
  byPath: readonly (readonly PathFigures[])[];
  ruleSets: readonly { label: string; summary: Record<MetricKey, Distribution<string | number>> }[];
}

/** The page's data: per rule set, each figure's value on every path (floats for the histograms) and its percentiles (exact). */
export function stressReportData(input: StressReportInput) {
  return {
    scenario: input.scenario,
    name: input.name,
    seed: input.seed,
    paths: input.byPath.length,
    metrics: METRICS.map((m) => ({ key: m.key, title: m.title, lowerIsWorse: m.lowerIsWorse })),
    ruleSets: input.ruleSets.map(({ label, summary }, r) => ({
      label,
      percentiles: Object.fromEntries(METRICS.map((m) => [m.key, Object.fromEntries(Object.entries(summary[m.key]).map(([k, v]) => [k, String(v)]))])),
      values: Object.fromEntries(
        METRICS.map((m) => [
          m.key,
          input.byPath.map((figures) => {
            const v = figures[r]![m.key];
            return typeof v === 'bigint' ? Number(toNumber(v).toPrecision(10)) : v;
          }),
        ]),
      ),
    })),
  };
}

/**
 * `clearsim stress --report`: one self-contained page (report-page.ts) with,
 * per figure (bankruptcies, insurance fund low, ADL fills, socialized loss,
 * margin held), the histogram of its value over the paths for each rule set
 * on the same axes, and the percentiles the CLI prints.
 */
export async function writeStressReport(file: string, title: string, input: StressReportInput): Promise<void> {
  await writeFile(file, renderPage('stress', title, stressReportData(input)));
}
