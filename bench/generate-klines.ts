import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { streamFor } from '@clearsim/scenario';

/**
 * A synthetic Binance USDⓈ-M 1-minute kline file (the 12 columns of
 * data.binance.vision's archives, with their header) for measuring `clearsim
 * import` on a file of a million rows: a seeded random walk from 60,000, each
 * bar's high and low a little outside its open and close. Never commit its
 * output (91 MB for 10^6 rows).
 *
 *   node dist/bench/generate-klines.js /tmp/btc-1m.csv [rows=1000000] [seed=1]
 */
export async function generateKlines(file: string, rows: number, seed: number): Promise<void> {
  const rng = streamFor(seed, 'klines');
  const uniform = () => Number(rng.next() >> 11n) / 2 ** 53;
  const out = createWriteStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  out.write('open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n');
  let time = Date.parse('2020-01-01T00:00:00Z');
  let price = 60_000;
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const open = price;
    // a minute's return of about 0.1 %, never below 1,000
    const close = Math.max(1000, open * (1 + (uniform() - 0.5) * 0.002));
    const high = Math.max(open, close) * (1 + uniform() * 0.0005);
    const low = Math.min(open, close) * (1 - uniform() * 0.0005);
    const volume = (uniform() * 100).toFixed(3);
    chunk += `${time},${open.toFixed(2)},${high.toFixed(2)},${low.toFixed(2)},${close.toFixed(2)},${volume},${time + 59_999},0,0,0,0,0\n`;
    // the next bar opens where this one closed (as printed)
    price = Number(close.toFixed(2));
    time += 60_000;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'close');
}

if (require.main === module) {
  const [file, rows = '1000000', seed = '1'] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/generate-klines.js FILE.csv [rows] [seed]\n');
    process.exit(2);
  }
  void generateKlines(file, Number(rows), Number(seed));
}
