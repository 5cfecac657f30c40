const fs = require('fs');
const { ClearingEngine } = require('../dist/libs/clearing/src');
const { decodeLine } = require('../dist/libs/events/src');
const lines = fs.readFileSync('bench/.cache/day-e1000000-a10000.jsonl', 'utf8').split('\n');
if (lines[lines.length - 1] === '') lines.pop();
const events = lines.map((l, i) => decodeLine(l, 'input', 'f', i + 1));
const passes = +(process.argv[2] || 2);
for (let pass = 0; pass < passes; pass++) {
  const engine = ClearingEngine.create();
  const t = {}; const n = {};
  const t0 = process.hrtime.bigint();
  let liqT = 0, liqN = 0, decN = 0;
  for (const e of events) {
    const s = process.hrtime.bigint();
    const r = engine.handle(e);
    const d = Number(process.hrtime.bigint() - s);
    let k = e.type;
    if (k === 'PriceUpdated' && r.decisions.length > 0) k = 'PriceDeciding';
    decN += r.decisions.length;
    t[k] = (t[k] || 0) + d; n[k] = (n[k] || 0) + 1;
  }
  const tot = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log('pass', pass, 'total', tot.toFixed(0), 'ms decisions', decN, engine.outputHash.slice(0, 12));
  for (const [k, v] of Object.entries(t)) console.log('  ', k.padEnd(20), (v / 1e6).toFixed(0).padStart(5), 'ms', String(n[k]).padStart(7), (v / n[k] / 1e3).toFixed(2), 'us');
}
