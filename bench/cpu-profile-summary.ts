import { readFileSync } from 'node:fs';
import Table from 'cli-table3';

/**
 * Where a server's CPU time goes, from a `node --cpu-prof` profile (B5:
 * `BENCH_HTTP_CPU_PROF=DIR node dist/bench/http-bench.js`, then this on the
 * profile written to DIR):
 *
 *   node dist/bench/cpu-profile-summary.js DIR/CPU.….cpuprofile [--top 25] [--last 10]
 *
 * `--last S` keeps the samples of the profile's last S seconds only: in
 * http-bench's order (set-up, warm-ups, GET /healthz, then POST /v1/inputs,
 * then the server stops) the last 10 s are the POST /v1/inputs measurement.
 *
 * Prints, over the sampled time, (1) for each part of the server the share of
 * the samples whose innermost known part it is (these add up to 100 %) and
 * of those it is anywhere on the stack (inclusive: a sample in zod under the
 * command handler counts for both), (2) the self time of the hottest functions.
 */

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Parts of the server, matched on a frame's function name and file (first match wins for a frame). */
const PARTS: [name: string, test: (name: string, url: string) => boolean][] = [
  ['idle (waiting for I/O)', (name) => name === '(idle)'],
  ['garbage collection', (name) => name === '(garbage collector)'],
  ['fsync / fdatasync', (name) => /^(fsync|fdatasync|fsyncSync|fdatasyncSync)$/.test(name)],
  ['clearing core (decide, evolve)', (_n, url) => /\/libs\/(clearing|saga|ledger|margin|rules|risk-models|options|money)\//.test(url)],
  ['codec (zod decode, canonical JSON, hash)', (_n, url) => /\/libs\/events\/|\/node_modules\/zod\//.test(url)],
  ['event store (file append)', (_n, url) => /\/libs\/store\//.test(url)],
  ['class-validator / class-transformer (DTOs)', (_n, url) => /\/node_modules\/class-(validator|transformer)\//.test(url)],
  ['pino / pino-http (request logging)', (_n, url) => /\/node_modules\/(pino|pino-http|nestjs-pino|pino-std-serializers|sonic-boom)\//.test(url)],
  ['prom-client (metrics)', (_n, url) => /\/node_modules\/prom-client\//.test(url) || /\/metrics\//.test(url)],
  ['server shell (apps/server)', (_n, url) => /\/apps\/server\//.test(url)],
  ['Nest (router, guards, pipes, interceptors, CQRS)', (_n, url) => /\/node_modules\/@nestjs\//.test(url)],
  ['Express and body-parser', (_n, url) => /\/node_modules\/(express|router|body-parser|raw-body|iconv-lite|type-is|finalhandler|send|on-finished|qs)\//.test(url)],
  ['rxjs', (_n, url) => /\/node_modules\/rxjs\//.test(url)],
  ['Kafka shard worker (libs/kafka)', (_n, url) => /\/libs\/kafka\//.test(url)],
  ['shard runner (libs/shard)', (_n, url) => /\/libs\/shard\//.test(url)],
  ['kafkajs (fetch, decode, protocol)', (_n, url) => /\/node_modules\/kafkajs\//.test(url)],
  ['node:http, net, streams', (_n, url) => /^node:(_http|http|net|stream|internal\/(http|streams|net|stream_base))/.test(url)],
];

export interface ProfileSummary {
  /** Microseconds sampled, and of them not idle. */
  total: number;
  busy: number;
  /** Per part: the samples whose innermost known part it is (a partition of `total`). */
  innermost: Map<string, number>;
  /** Per part: the samples with it anywhere on the stack. */
  inclusive: Map<string, number>;
  /** Per function (`name file:line`): its self time. */
  self: Map<string, number>;
}

/** Attributes the samples of `profile` (only those of its last `lastMicros` µs) to the parts of the server. */
export function summarize(profile: Profile, lastMicros = Infinity): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const partOf = (node: ProfileNode) => PARTS.find(([, test]) => test(node.callFrame.functionName, node.callFrame.url))?.[0];

  const inclusive = new Map<string, number>();
  const innermost = new Map<string, number>();
  const self = new Map<string, number>();
  let total = 0;
  let busy = 0;
  const end = profile.timeDeltas.reduce((sum, delta) => sum + delta, 0);
  let at = 0;
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i] ?? 0;
    at += micros;
    if (end - at > lastMicros) return;
    total += micros;
    const leaf = byId.get(id)!;
    if (leaf.callFrame.functionName !== '(idle)') busy += micros;
    const key = `${leaf.callFrame.functionName || '(anonymous)'} ${shortUrl(leaf.callFrame.url)}:${leaf.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + micros);
    const parts = new Set<string>();
    for (let node: ProfileNode | undefined = leaf; node; node = byId.get(parent.get(node.id) ?? -1)) {
      const part = partOf(node);
      if (part) parts.add(part);
    }
    if (parts.size === 0) parts.add('other (V8, unattributed)');
    const first = parts.values().next().value!;
    innermost.set(first, (innermost.get(first) ?? 0) + micros);
    for (const part of parts) inclusive.set(part, (inclusive.get(part) ?? 0) + micros);
  });
  return { total, busy, innermost, inclusive, self };
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((arg, i) => !arg.startsWith('--') && !['--top', '--last'].includes(args[i - 1] ?? ''));
  if (!file) throw new Error('usage: cpu-profile-summary PROFILE.cpuprofile [--top N] [--last S]');
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
  const lastIndex = args.indexOf('--last');
  const lastMicros = lastIndex >= 0 ? Number(args[lastIndex + 1]) * 1e6 : Infinity;
  const { total, busy, innermost, inclusive, self } = summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, lastMicros);

  const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(1)} %`;
  const parts = new Table({ head: ['part', 'innermost ms', 'of busy', 'inclusive ms', 'of busy'], style: { head: [], border: [] } });
  for (const [part, micros] of [...innermost].sort((a, b) => b[1] - a[1])) {
    const idle = part.startsWith('idle');
    const all = inclusive.get(part) ?? 0;
    parts.push([part, Math.round(micros / 1000), idle ? pct(micros, total) + ' of all' : pct(micros, busy), Math.round(all / 1000), idle ? '' : pct(all, busy)]);
  }
  process.stdout.write(`${file}: ${Math.round(total / 1000)} ms sampled, ${Math.round(busy / 1000)} ms busy (not idle)\n${parts.toString()}\n`);
  const hottest = new Table({ head: ['function (self)', 'ms', 'of busy'], style: { head: [], border: [] } });
  for (const [key, micros] of [...self].filter(([key]) => !key.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) hottest.push([key, Math.round(micros / 1000), pct(micros, busy)]);
  process.stdout.write(`${hottest.toString()}\n`);
}

/** The part of a frame's file that says what it is: from node_modules/, libs/ or apps/ on. */
function shortUrl(url: string): string {
  const at = url.search(/\/(node_modules|libs|apps)\//);
  return at >= 0 ? url.slice(at + 1) : url;
}

if (require.main === module) main();
