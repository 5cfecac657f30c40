// in-process: decode lines 1..N of the day, then engine.handle them on fresh engines, 4 passes: cold vs warm per type
const fs = require('fs');
const { ClearingEngine } = require('../dist/libs/clearing/src');
const { decodeLine } = require('../dist/libs/events/src');
const N = +(process.argv[2] || 30000);
const lines = fs.readFileSync('bench/.cache/day-e1000000-a10000.jsonl', 'utf8').split('\n', N);
const events = lines.map((l, i) => decodeLine(l, 'input', 'f', i + 1));
for (let pass = 0; pass < 4; pass++) {
  const engine = ClearingEngine.create();
  const t = {}; const n = {};
  for (const e of events) {
    const s = process.hrtime.bigint();
    engine.handle(e);
    const d = Number(process.hrtime.bigint() - s);
    t[e.type] = (t[e.type] || 0) + d; n[e.type] = (n[e.type] || 0) + 1;
  }
  console.log('pass', pass, Object.entries(t).map(([k, v]) => `${k} ${(v / 1e6).toFixed(0)}ms ${(v / n[k] / 1e3).toFixed(1)}us`).join(' | '));
}
