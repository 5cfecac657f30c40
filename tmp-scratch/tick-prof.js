// the day in the engine (marks through handlePrice as run does), profiled after the first 30,000 inputs; 2 passes, the 2nd profiled
const fs = require('fs');
const inspector = require('inspector');
const { ClearingEngine } = require('../dist/libs/clearing/src');
const { decodeLine } = require('../dist/libs/events/src');
const lines = fs.readFileSync('bench/.cache/day-e1000000-a10000.jsonl', 'utf8').split('\n');
if (lines[lines.length - 1] === '') lines.pop();
const events = lines.map((l, i) => decodeLine(l, 'input', 'f', i + 1));
const marks = events.map((e) => e.type === 'PriceUpdated' && e.eventId === undefined ? [e.ts, e.instrument, Number(e.price)] : undefined);
const session = new inspector.Session(); session.connect();
const post = (m, p) => new Promise((res, rej) => session.post(m, p, (e, r) => e ? rej(e) : res(r)));
(async () => {
  await post('Profiler.enable'); await post('Profiler.setSamplingInterval', { interval: 100 });
  for (let pass = 0; pass < 2; pass++) {
    const engine = ClearingEngine.create();
    let i = 0;
    for (; i < 30000; i++) engine.handle(events[i]);
    if (pass === 1) await post('Profiler.start');
    const t = process.hrtime.bigint();
    for (; i < events.length; i++) { const m = marks[i]; if (m) engine.handlePrice(m[0], m[1], m[2]); else engine.handle(events[i]); }
    console.log('pass', pass, Number(process.hrtime.bigint() - t) / 1e6, 'ms', engine.outputHash.slice(0, 12));
  }
  const { profile } = await post('Profiler.stop');
  fs.writeFileSync('/tmp/tick.cpuprofile', JSON.stringify(profile));
})();
