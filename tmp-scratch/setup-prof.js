const fs = require('fs');
const { ClearingEngine } = require('../dist/libs/clearing/src');
const { decodeLine } = require('../dist/libs/events/src');
const N = +(process.argv[2] || 30000);
const only = process.argv[3];
const lines = fs.readFileSync('bench/.cache/day-e1000000-a10000.jsonl', 'utf8').split('\n', N);
const events = lines.map((l, i) => decodeLine(l, 'input', 'f', i + 1));
for (let pass = 0; pass < 8; pass++) {
  const engine = ClearingEngine.create();
  for (const e of events) { if (only && e.type === 'TradeExecuted' && only === 'nodeposit') continue; engine.handle(e); }
}
