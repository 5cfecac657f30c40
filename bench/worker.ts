import { reportToHarness, type Job, type WorkerReport } from './harness';

/**
 * A benchmark child (started by bench/harness.ts, never by hand): runs the one job given as its argument and
 * reports its figures and its own peak RSS over IPC. Modules are loaded per job, so a baseline's RSS does not
 * include the CLI.
 */
async function runJob(job: Job): Promise<WorkerReport['values']> {
  const timed = async <T>(fn: () => Promise<T> | T): Promise<{ seconds: number; value: T }> => {
    global.gc?.();
    const start = performance.now();
    const value = await fn();
    return { seconds: (performance.now() - start) / 1000, value };
  };
  const file = String(job.file ?? '');
  switch (job.kind) {
    case 'parse-chunks': {
      const { parseChunks } = await import('./day-jobs');
      const { seconds, value } = await timed(() => parseChunks(file));
      return { seconds, events: value };
    }
    case 'parse-readline': {
      const { parseReadline } = await import('./day-jobs');
      const { seconds, value } = await timed(() => parseReadline(file));
      return { seconds, events: value };
    }
    case 'decode': {
      const { decodeFile } = await import('./day-jobs');
      const { seconds, value } = await timed(() => decodeFile(file));
      return { seconds, events: value };
    }
    case 'run': {
      const { cliRun } = await import('./day-jobs');
      const { seconds } = await timed(() => cliRun(file, String(job.store), job.snapshot === true));
      return { seconds };
    }
    case 'open': {
      const { openShard } = await import('./day-jobs');
      const { seconds, value } = await timed(() => openShard(String(job.store), job.fullReplay === true));
      return { seconds, ...value };
    }
    case 'tick': {
      const { tickBench } = await import('./engine-jobs');
      const result = tickBench(Number(job.holders), Number(job.ticks));
      return { tickUs: result.tickUs, decisions: result.decisions, setupSeconds: result.setupSeconds, bandingSeconds: result.bandingSeconds };
    }
    case 'crash': {
      const { crashBench } = await import('./engine-jobs');
      const result = crashBench(Number(job.accounts), Number(job.bankruptcies), job.mode === 'adl' ? 'adl' : 'socialize');
      return { tickMs: result.tickMs, bankruptcies: result.bankruptcies, decisions: result.decisions, byType: JSON.stringify(result.byType), setupSeconds: result.setupSeconds };
    }
    case 'portfolio': {
      // portfolio-bench reads its sizes from the environment when it loads
      if (job.accounts !== undefined) process.env.PORTFOLIO_ACCOUNTS = String(job.accounts);
      if (job.runs !== undefined) process.env.PORTFOLIO_RUNS = process.env.PORTFOLIO_TICKS = String(job.runs);
      const { runPortfolioBench } = await import('./portfolio-bench');
      const result = runPortfolioBench();
      return { recomputeMs: result.recomputeMs, baselineMs: result.baselineMs, accounts: result.accounts };
    }
    default:
      throw new Error(`unknown benchmark job "${job.kind}"`);
  }
}

async function main(): Promise<void> {
  // the harness went away (Ctrl-C, killed): nobody will read the result
  process.on('disconnect', () => process.exit(1));
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  try {
    await reportToHarness(await runJob(job));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    const message = error instanceof Error ? error.message : String(error);
    await new Promise<void>((resolve) => process.send!({ error: message }, () => resolve()));
    process.exit(1);
  }
  // the job may leave handles open (a store, a timer of the CLI): the report is sent, so the child is done
  process.exit(0);
}

void main();
