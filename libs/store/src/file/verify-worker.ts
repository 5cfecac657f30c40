import { parentPort, workerData } from 'node:worker_threads';
import { walkSecondHalf, type SecondHalfJob } from './log-verifier';

/**
 * The thread that hashes the second half of a long log while the opening thread hashes the first (log-verifier.ts,
 * verifyInHalves): it walks its half from the chain the split record carries and posts where it ended, or null when
 * something did not verify (the opening thread then walks the whole log itself and names it).
 */
walkSecondHalf(workerData as SecondHalfJob).then(
  (end) => parentPort!.postMessage(end ?? null),
  () => parentPort!.postMessage(null),
);
