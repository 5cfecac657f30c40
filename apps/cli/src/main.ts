import { discardEarlyDecodeThread, startEarlyDecodeThread } from './io/early-decode-thread';

/**
 * The CLI's entry point (bin/clearsim): `run` of a large JSONL file starts its decode thread first, then the commands
 * are loaded (program.ts: every command's modules, ~0.15 s), so the thread starts while they load
 * (io/early-decode-thread.ts). Answers the exit code.
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
