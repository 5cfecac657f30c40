/**
 * The file store's own costs, for libs/store/README.md ("Figures"):
 *
 *   npm run --silent build && node --expose-gc dist/libs/store/bench/file-store-bench.js --events 10000000 --runs 3 [--dir /tmp/x]
 *
 * 1. Write: `--events` PriceUpdated events appended through one transaction
 *    in chunks of 100,000 (events/s, peak RSS: memory must stay flat).
 * 2. The per-event cost of the integrity data alone, in memory: building the
 *    lines with their CRC-32 and hashing them (SHA-256 over the 8 MB buffers)
 *    against building the previous format's lines, over the same events.
 * 3. Open = verify the whole chain, writer and read-only, `--runs` times each
 *    (min / median / max), and the log's size.
 * Prints the machine's load average beside the figures. Not a test: no figure is asserted.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeLine, encodeEvent, type ClearingEvent } from '@clearsim/events';
import { FileEventStore } from '../src/file/file-event-store';
import { LineBatch } from '../src/file/log-format';

const CHUNK = 100_000;

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(3);
  return `min ${f(sorted[0]!)} / median ${f(sorted[Math.floor(sorted.length / 2)]!)} / max ${f(sorted.at(-1)!)}`;
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

function chunkOf(from: number, count: number, template: Extract<ClearingEvent, { type: 'PriceUpdated' }>): ClearingEvent[] {
  const events: ClearingEvent[] = [];
  for (let i = from; i < from + count; i++) events.push({ ...template, ts: template.ts + i * 10, price: template.price + BigInt(i % 100_000) * 1_000_000n });
  return events;
}

async function main(): Promise<void> {
  const total = option('events', 1_000_000);
  const runs = option('runs', 3);
  const dirAt = process.argv.indexOf('--dir');
  const dir = dirAt < 0 ? mkdtempSync(path.join(tmpdir(), 'clearsim-file-store-bench-')) : process.argv[dirAt + 1]!;
  const template = decodeLine('{"type":"PriceUpdated","ts":"2026-01-01T00:00:00Z","instrument":"BTC-PERP","price":"42000.5"}', 'any', 'bench', 1) as Extract<
    ClearingEvent,
    { type: 'PriceUpdated' }
  >;
  console.log(`file store bench: ${total.toLocaleString('en-US')} events, ${runs} runs, node ${process.version}, load before: ${load()}`);

  // 2. integrity cost per event, in memory (same events, same concatenation, same 8 MB buffers)
  const sample = chunkOf(0, Math.min(total, 1_000_000), template);
  const json = sample.map(encodeEvent);
  const perEvent = (since: bigint) => Number(process.hrtime.bigint() - since) / json.length;
  const plainTimes: number[] = [];
  const crcTimes: number[] = [];
  const shaTimes: number[] = [];
  for (let run = 0; run < runs; run++) {
    let t = process.hrtime.bigint();
    let text = '';
    for (let i = 0; i < json.length; i++) {
      text += '{"position":' + (i + 1) + ',"crc":"00000000",' + json[i]!.slice(1) + '\n'; // the lines without their CRC
      if (text.length >= 8 * 1024 * 1024) {
        Buffer.from(text, 'utf8');
        text = '';
      }
    }
    Buffer.from(text, 'utf8');
    plainTimes.push(perEvent(t));
    t = process.hrtime.bigint();
    const buffers: Buffer[] = [];
    const lines = new LineBatch(); // what the writer does: the same lines, CRCs filled in
    for (let i = 0; i < json.length; i++) {
      lines.add(i + 1, json[i]!);
      if (lines.length >= 8 * 1024 * 1024) buffers.push(lines.take().buffer);
    }
    buffers.push(lines.take().buffer);
    crcTimes.push(perEvent(t));
    t = process.hrtime.bigint();
    const hash = createHash('sha256');
    for (const buffer of buffers) hash.update(buffer);
    hash.digest();
    shaTimes.push(perEvent(t));
  }
  console.log(`lines without CRC (ns/event): ${stats(plainTimes)}`);
  console.log(`lines with CRC-32, as written (ns/event): ${stats(crcTimes)}   → CRC cost (paired, ns/event): ${stats(crcTimes.map((c, i) => c - plainTimes[i]!))}`);
  console.log(`SHA-256 chain over the buffers (ns/event): ${stats(shaTimes)}   load: ${load()}`);

  // 1. write through one transaction
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const writeStart = process.hrtime.bigint();
  const store = await FileEventStore.open(dir, { warn: () => undefined });
  const tx = await store.beginAppend(await store.head());
  const heapAlong: number[] = [];
  const collect = (globalThis as { gc?: () => void }).gc; // with node --expose-gc: live memory, not GC timing
  for (let from = 0; from < total; from += CHUNK) {
    await tx.append(chunkOf(from, Math.min(CHUNK, total - from), template));
    if ((from / CHUNK) % Math.max(1, Math.floor(total / CHUNK / 5)) === 0) {
      collect?.();
      heapAlong.push(process.memoryUsage().heapUsed);
    }
  }
  await tx.commit();
  await store.close();
  const writeSeconds = Number(process.hrtime.bigint() - writeStart) / 1e9;
  clearInterval(sampler);
  const size = statSync(path.join(dir, 'events.jsonl')).size;
  console.log(
    `write (one transaction, chunks of ${CHUNK.toLocaleString('en-US')}): ${writeSeconds.toFixed(2)} s = ${Math.round(total / writeSeconds).toLocaleString('en-US')} events/s; ` +
      `log ${(size / 1e9).toFixed(2)} GB; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (the in-memory comparison above included); ` +
      `live heap along the transaction${collect ? ' (after a GC)' : ''} (MiB): ${heapAlong.map((r) => (r / 2 ** 20).toFixed(0)).join(', ')}; load: ${load()}`,
  );

  // 3. open = verify
  for (const readOnly of [false, true]) {
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      const t = process.hrtime.bigint();
      const opened = await FileEventStore.open(dir, { readOnly, warn: (m) => console.log(`warning: ${m}`) });
      times.push(Number(process.hrtime.bigint() - t) / 1e9);
      await opened.close();
    }
    console.log(`open ${readOnly ? 'read-only' : 'writer'} (verifies ${(size / 1e9).toFixed(2)} GB) (s): ${stats(times)}   load: ${load()}`);
  }
  if (dirAt < 0) rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
