import { parentPort, workerData } from 'node:worker_threads';
import { StressPathOverflow } from '@clearsim/scenario';
import { runStressPath, type StressJob } from './stress-path';

/**
 * A stress worker thread: receives path indices, answers each with its figures
 * (or the error's message). The job (scenario, rule sets, seed) comes once, in
 * workerData.
 */
const job = workerData as StressJob;
parentPort!.on('message', (index: number) => {
  try {
    parentPort!.postMessage({ index, figures: runStressPath(job, index) });
  } catch (error) {
    parentPort!.postMessage({ index, error: error instanceof Error ? error.message : String(error), overflow: error instanceof StressPathOverflow });
  }
});
