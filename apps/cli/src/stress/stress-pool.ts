import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { RuntimeFailure, UsageError } from '../cli-error';
import type { PathFigures, StressJob } from './stress-path';

/** A worker's answer for one path: its figures, or its error's message (`overflow`: the path cannot be priced). */
type Reply = { index: number; figures: PathFigures[] } | { index: number; error: string; overflow: boolean };

/** A path the workers could not run (the message names the path and the generated event). */
export class StressPathError extends RuntimeFailure {}

/**
 * Runs paths 0 … count − 1 of the job on `workers` worker threads: each worker
 * takes the next index as soon as it is free, and the figures are stored by
 * index, so the result does not depend on the number of workers or on which
 * finishes first. The first error stops every worker.
 */
export function runStressPaths(job: StressJob, count: number, workers: number, onPath?: (done: number) => void): Promise<PathFigures[][]> {
  const results: PathFigures[][] = new Array(count);
  let next = 0;
  let done = 0;
  const pool: Worker[] = [];
  return new Promise<PathFigures[][]>((resolve, reject) => {
    let settled = false;
    const stop = (error?: Error) => {
      if (settled) return;
      settled = true;
      for (const worker of pool) void worker.terminate();
      if (error) reject(error);
      else resolve(results);
    };
    const feed = (worker: Worker) => {
      if (next < count) worker.postMessage(next++);
    };
    for (let w = 0; w < Math.min(workers, count); w++) {
      const worker = new Worker(join(__dirname, 'stress-worker.js'), { workerData: job });
      pool.push(worker);
      worker.on('message', (reply: Reply) => {
        if (settled) return;
        if ('error' in reply) {
          // the scenario's settings cannot price this path with this seed, every time: exit 2, as for a setting out of range
          if (reply.overflow) return stop(new UsageError(`${reply.error} (path ${reply.index + 1})`, 'lower the scenario\'s stress: jumps (intensity, mean, stdev) or garch parameters, or try another --seed'));
          return stop(new StressPathError(reply.error));
        }
        results[reply.index] = reply.figures;
        done++;
        onPath?.(done);
        if (done === count) return stop();
        feed(worker);
      });
      worker.on('error', (error) => stop(error));
      // a worker that dies without an error event (killed, out of memory) must not leave the command waiting forever
      worker.on('exit', (code) => stop(new RuntimeFailure(`a stress worker exited (code ${code}) before the ${count} paths were done`)));
      feed(worker);
    }
  });
}
