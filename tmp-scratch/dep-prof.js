const fs = require('fs');
const { ClearingEngine } = require('../dist/libs/clearing/src');
const { decodeLine } = require('../dist/libs/events/src');
const lines = fs.readFileSync('bench/.cache/day-e1000000-a10000.jsonl', 'utf8').split('\n', 30000);
const events = lines.map((l, i) => decodeLine(l, 'input', 'f', i + 1)).filter(e => e.type !== 'TradeExecuted');
let t = 0;
for (let pass = 0; pass < 30; pass++) {
  const engine = ClearingEngine.create();
  const s = process.hrtime.bigint();
  for (const e of events) engine.handle(e);
  t = Number(process.hrtime.bigint() - s);
}
console.log('last pass', (t / 1e6).toFixed(1), 'ms for', events.length);
