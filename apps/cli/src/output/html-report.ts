import { writeFile } from 'node:fs/promises';
import { ClearingEngine } from '@clearsim/clearing';
import { isDecision, type ClearingEvent } from '@clearsim/events';
import type { EventStore } from '@clearsim/store';
import { InterestingAccounts, RunReportCollector, type RunReportData } from './report-data';
import { renderPage } from './report-page';

export { esc } from './report-page';

/**
 * `clearsim run --report FILE.html` and `clearsim diff --report`: one
 * self-contained HTML page (report-page.ts) of what the rules did — marks per
 * instrument with liquidations and ADL, decisions over time, the insurance
 * fund and the system accounts, equity against margin, open interest, the
 * accounts with a per-account drill-down, the ADL counterparties, the rules.
 *
 * The log is replayed (`engine.apply`, nothing is decided again) so balances
 * over time come from the same fold as every other view; the data is
 * assembled by RunReportCollector (report-data.ts).
 */
export interface ReportOptions {
  title: string;
  /** The accounts with a timeline (InterestingAccounts.select); found by a first replay when not given. */
  tracked?: readonly string[];
  /** The log's last timestamp (the engine's clock after the run); found by that first replay when not given. */
  lastTs?: number;
  /** How many accounts the run ends with (sizes the aggregate grid); found by that first replay when not given. */
  accounts?: number;
}

export async function writeReport(file: string, store: EventStore, options: ReportOptions): Promise<void> {
  const data = await collectEvents(fromStore(store), options);
  await writeFile(file, renderPage('run', options.title, { runs: [data], labels: [data.rules] }));
}

/** `diff --report`: the runs of the same input under two rule sets, drawn on the same axes. */
export async function writeDiffReport(file: string, title: string, runs: { label: string; events: readonly ClearingEvent[] }[]): Promise<void> {
  const data: RunReportData[] = [];
  for (const run of runs) data.push(await collectEvents(fromArray(run.events), {}));
  await writeFile(file, renderPage('diff', title, { runs: data, labels: runs.map((r) => r.label) }));
}

/** Replays the log once (twice when the accounts to follow or the span are not known) into the report's data. */
export async function collectRun(events: () => AsyncIterable<ClearingEvent>, options: Omit<ReportOptions, 'title'>): Promise<RunReportData> {
  return collectEvents(async (visit) => {
    for await (const event of events()) visit(event);
  }, options);
}

/**
 * Calls `visit` with every event of a log in order. A callback rather than an
 * async iterable of events: a 10^6-event log read through one more async
 * generator layer pays a promise per event for nothing.
 */
type EventSource = (visit: (event: ClearingEvent) => void) => Promise<void>;

async function collectEvents(events: EventSource, options: Omit<ReportOptions, 'title'>): Promise<RunReportData> {
  let { tracked, lastTs, accounts } = options;
  if (tracked === undefined || lastTs === undefined || accounts === undefined) {
    const engine = ClearingEngine.create();
    const interesting = new InterestingAccounts();
    await events((event) => {
      engine.apply(event);
      if (isDecision(event)) interesting.note([event]);
    });
    tracked ??= interesting.select(engine);
    lastTs ??= engine.state.clock;
    accounts ??= engine.state.ledger.accounts.size;
  }
  const engine = ClearingEngine.create();
  const collector = new RunReportCollector(tracked, Number.isFinite(lastTs) ? lastTs : undefined, accounts);
  await events((event) => {
    if (isDecision(event)) collector.beforeDecision(event, engine.state);
    engine.apply(event);
    collector.observe(event, engine.state);
  });
  return collector.finish(engine);
}

function fromStore(store: EventStore): EventSource {
  return async (visit) => {
    for await (const stored of store.read(1)) visit(stored.event);
  };
}

function fromArray(events: readonly ClearingEvent[]): EventSource {
  return async (visit) => {
    for (const event of events) visit(event);
  };
}
