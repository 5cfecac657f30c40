import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeLine, type InputEvent } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { InMemoryEventStore } from '@clearsim/store';
import { decideDay } from '../../bench/engine-day';
import { generateLog } from '../../bench/generate-log';

/**
 * bench/engine-day.ts counts the engine's work over a day "as `run` decides it": its marks through handlePrice, the
 * rest through handle. The same day through the shard runner (what `run` drives) gives the same outputHash.
 */
describe('engine-day', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clearsim-engine-day-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decides a generated day to the outputHash of the shard runner, and decodes alone when asked', async () => {
    const file = join(dir, 'day.jsonl');
    // 300 accounts' set-up, then enough ticks for liquidations and a funding round
    const lines = await generateLog(file, { events: 12_000, accounts: 300, instruments: 4, seed: 7 });
    const day = decideDay(file);
    expect(day.lines).toBe(lines);

    const inputs = readFileSync(file, 'utf8')
      .split('\n')
      .filter((text) => text !== '')
      .map((text, i) => ({ input: decodeLine(text, 'input', file, i + 1) as InputEvent }));
    const store = InMemoryEventStore.open(`memory://engine-day-${process.pid}`);
    const runner = await ShardRunner.open(store);
    const run = await runner.run(inputs);
    expect(run.decisionCount).toBeGreaterThan(0);
    expect(day.outputHash).toBe(runner.engine.outputHash);

    // a prefix, and the decoding alone (no hash)
    expect(decideDay(file, 500).lines).toBe(500);
    expect(decideDay(file, 500, true)).toEqual({ lines: 500 });
  });
});
