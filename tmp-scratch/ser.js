const v8 = require('v8');
const { encodeEvent } = require('../dist/libs/events/src');
const d = { type: 'PositionLiquidated', ts: 1767225600000, account: 'acct003070', instrument: 'I09-PERP', qty: -6439443n, price: 55000000000n, counterparty: 'backstop', fee: 123456n };
const N = 200000;
for (let r = 0; r < 3; r++) {
  let t = process.hrtime.bigint(); let n = 0;
  for (let i = 0; i < N; i++) n += encodeEvent({ ...d, ts: d.ts + i }).length;
  const enc = Number(process.hrtime.bigint() - t) / N;
  t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) n += v8.serialize({ ...d, ts: d.ts + i }).length;
  const ser = Number(process.hrtime.bigint() - t) / N;
  const { port1, port2 } = new (require('worker_threads').MessageChannel)();
  const batch = []; for (let i = 0; i < 2000; i++) batch.push({ ...d, ts: d.ts + i });
  t = process.hrtime.bigint();
  for (let k = 0; k < N / 2000; k++) port1.postMessage(batch);
  const post = Number(process.hrtime.bigint() - t) / N;
  port1.close();
  console.log(`encodeEvent ${enc.toFixed(0)} ns, v8.serialize ${ser.toFixed(0)} ns, postMessage (batch of 2000) ${post.toFixed(0)} ns per decision`);
}
