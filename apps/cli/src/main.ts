import { discardEarlyDecodeThread, startEarlyDecodeThread } from './io/early-decode-thread';

/**
 * The CLI's entry point (bin/clearsim): `run` of a large JSONL file starts its decode thread first, then the program
 * and the command's modules are loaded (program.ts; `run`'s are ~0.13 s: the engine, the codec's schemas, the
 * stores), so the thread starts while they load (io/early-decode-thread.ts). Answers the exit code.
 */
export async function main(argv: string[]): Promise<number> {
  startEarlyDecodeThread(argv);
  try {
    const { runProgram } = await import('./program');
    return await runProgram(argv);
  } finally {
    await discardEarlyDecodeThread();
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
