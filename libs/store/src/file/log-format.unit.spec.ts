import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { encodeEvent, encodeEventForLog, type ClearingEvent } from '@clearsim/events';
import { sampleEvents } from '../test-events';
import { createHash } from 'node:crypto';
import { BatchChain, checkpointBytesOf, checkpointLine, commitLine, crc32Bytes, eventLine, LineBatch, MARK_JSON_MAX_BYTES, MarkJsonEncoder, parseCheckpoint, parseCommit, splitEventLine, splitEventLineBytes } from './log-format';

describe('log format', () => {
  it('writes an event line as position, CRC-32 of the canonical JSON, then the event without its opening brace', () => {
    const json = '{"type":"PriceUpdated","v":1,"ts":"2026-01-01T00:00:00Z","instrument":"BTC-PERP","price":"1"}';
    const crc = crc32(json).toString(16).padStart(8, '0');
    expect(eventLine(12, json)).toBe(`{"position":12,"crc":"${crc}","type":"PriceUpdated","v":1,"ts":"2026-01-01T00:00:00Z","instrument":"BTC-PERP","price":"1"}\n`);
    expect(splitEventLine(eventLine(12, json).slice(0, -1))).toEqual({ position: 12, json, crcOk: true });
    const bytes = Buffer.from('xx' + eventLine(12, json));
    expect(splitEventLineBytes(bytes, 2, bytes.length - 1)).toEqual({ position: 12, restStart: 2 + '{"position":12,"crc":"00000000",'.length, crcOk: true });
    bytes[bytes.indexOf('"1"') + 1] = 0x32;
    expect(splitEventLineBytes(bytes, 2, bytes.length - 1)).toMatchObject({ position: 12, crcOk: false });
    expect(splitEventLineBytes(Buffer.from('{"position":012,"crc":"00000000","type":1}'), 0, 42)).toBeUndefined();
    // the CRC is read as written: lower-case hex only (an upper-case digit or a non-digit is not a stored line)
    const line = eventLine(12, json).slice(0, -1);
    const stored = line.slice(22, 30);
    const upper = Buffer.from(line.replace(stored, stored.toUpperCase()));
    expect(stored).toBe('aaf190c5'); // has letters: the upper-case spelling differs
    expect(splitEventLineBytes(upper, 0, upper.length)).toBeUndefined();
    const notHex = Buffer.from(line.replace(stored, 'g' + stored.slice(1)));
    expect(splitEventLineBytes(notHex, 0, notHex.length)).toBeUndefined();
    // a line cut inside its crc member is not one either
    expect(splitEventLineBytes(Buffer.from(line), 0, 25)).toBeUndefined();
    // one character changed (price 1 → 2): the CRC no longer matches
    expect(splitEventLine(eventLine(12, json).slice(0, -1).replace('"price":"1"', '"price":"2"'))).toMatchObject({ position: 12, crcOk: false });
  });

  it('crc32Bytes is zlib.crc32, from any start, continuing from any previous CRC', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(40), fc.string(), (bytes, cut, prefix) => {
        const start = Math.min(cut, bytes.length);
        const previous = crc32(prefix);
        expect(crc32Bytes(bytes, start, bytes.length, previous)).toBe(crc32(Buffer.from(bytes.subarray(start)), previous));
      }),
    );
    // a worked value: the CRC-32 of "123456789" is 0xcbf43926 (the standard check value)
    expect(crc32Bytes(Buffer.from('123456789'), 0, 9)).toBe(0xcbf43926);
  });

  it('LineBatch gives the same bytes as eventLine, for any run of positions (across powers of ten) and non-ASCII events', () => {
    const events = sampleEvents(40).map(encodeEvent); // sample 3, 8, … name the account zoë-🚀 (multi-byte UTF-8)
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_000_000 }), fc.integer({ min: 1, max: 40 }), fc.constantFrom(1, 9, 95, 999_990), (offset, count, base) => {
        const first = offset % 3 === 0 ? base : offset;
        const batch = new LineBatch(encodeEventForLog);
        let expected = '';
        for (let i = 0; i < count; i++) {
          batch.add(first + i, events[i]!);
          expected += eventLine(first + i, events[i]!);
        }
        const { buffer, first: from, last } = batch.take();
        expect(buffer.toString('utf8')).toBe(expected);
        expect(buffer.equals(Buffer.from(expected, 'utf8'))).toBe(true);
        expect([from, last]).toEqual([first, first + count - 1]);
        expect(batch.length).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('LineBatch.lend gives take\'s bytes and positions from one reused buffer; clear forgets lines not lent', () => {
    const events = sampleEvents(40).map(encodeEvent);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 5 }), (chunkSizes, cleared) => {
        const reused = new LineBatch(encodeEventForLog);
        let position = 1;
        let lentBuffer: ArrayBufferLike | undefined;
        for (const [chunk, size] of chunkSizes.entries()) {
          const fresh = new LineBatch(encodeEventForLog);
          // lines added and then cleared (a chunk that failed half-way) are not in the next lend
          for (let i = 0; i < cleared; i++) reused.add(999, events[i]!);
          reused.clear();
          for (let i = 0; i < size; i++) {
            reused.add(position, events[(chunk + i) % 40]!);
            fresh.add(position, events[(chunk + i) % 40]!);
            position++;
          }
          const lent = reused.lend();
          const taken = fresh.take();
          expect(lent.buffer.equals(taken.buffer)).toBe(true);
          if (size > 0) expect([lent.first, lent.last]).toEqual([taken.first, taken.last]);
          expect(reused.length).toBe(0);
          // the same memory every time once it is large enough for a chunk (40 lines fit in the first 64 KiB)
          if (size > 0) {
            if (lentBuffer !== undefined) expect(lent.buffer.buffer).toBe(lentBuffer);
            lentBuffer = lent.buffer.buffer;
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('LineBatch.addEvent gives the bytes of add(position, encodeEvent(event)), price updates written directly or not', () => {
    const events = [
      ...sampleEvents(12),
      { type: 'PriceUpdated', ts: Date.UTC(2026, 0, 2, 8, 38, 30, 500), instrument: 'I01-PERP', price: 14_281_000_000n },
      { type: 'PriceUpdated', ts: Date.UTC(2026, 0, 2, 8, 38, 31), instrument: 'zoë-🚀', price: 100_000_000n },
      { type: 'PriceUpdated', ts: Date.UTC(2026, 0, 2, 8, 38, 31), instrument: 'I02-PERP', price: 2n ** 60n },
    ] as ClearingEvent[];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...events.keys()), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 2_000_000 }), (picks, first) => {
        const direct = new LineBatch(encodeEventForLog);
        const viaText = new LineBatch(encodeEventForLog);
        picks.forEach((pick, i) => {
          direct.addEvent(first + i, events[pick]!);
          viaText.add(first + i, encodeEvent(events[pick]!));
        });
        expect(direct.take().buffer.equals(viaText.take().buffer)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('LineBatch.addEvent writes eventLine\'s bytes for streams of mark lines across minutes and instruments, between other events', () => {
    // the mark line's CRC reuses what it computed over the head and minute (per minute) and over the instrument's
    // middle (per instrument): any order of minutes, instruments (escaped ones too) and other events must not matter
    const minute = fc.constantFrom(Date.UTC(2026, 0, 2, 8, 38), Date.UTC(2026, 0, 2, 8, 39), Date.UTC(2026, 0, 3), Date.UTC(1999, 11, 31, 23, 59), 0);
    const instrument = fc.constantFrom('I01-PERP', 'I02-PERP', 'BTC-PERP', 'a"b', 'a\\b', 'x'.repeat(128), 'zoë-🚀', 'I1', 'ETH-USD-PERP');
    const mark = fc
      .tuple(minute, fc.integer({ min: 0, max: 59_999 }), fc.boolean(), instrument, fc.bigInt({ min: 1n, max: 2n ** 54n }))
      .map(([m, inMinute, whole, name, price]) => ({ type: 'PriceUpdated', ts: m + (whole ? inMinute - (inMinute % 1000) : inMinute), instrument: name, price }) as ClearingEvent);
    const other = fc.constantFrom(...sampleEvents(12));
    fc.assert(
      fc.property(fc.array(fc.oneof({ arbitrary: mark, weight: 4 }, { arbitrary: other, weight: 1 }), { minLength: 1, maxLength: 80 }), fc.integer({ min: 1, max: 2_000_000 }), (events, first) => {
        const batch = new LineBatch(encodeEventForLog);
        let expected = '';
        events.forEach((event, i) => {
          batch.addEvent(first + i, event);
          expected += eventLine(first + i, encodeEvent(event));
        });
        const { buffer } = batch.take();
        expect(buffer.toString('utf8')).toBe(expected);
        for (const line of buffer.toString('utf8').split('\n').slice(0, -1)) expect(splitEventLine(line)).toMatchObject({ crcOk: true });
      }),
      { numRuns: 300 },
    );
  });

  it('MarkJsonEncoder writes encodeEvent\'s bytes and their CRC-32 where asked, and LineBatch.addEncoded copies them into eventLine\'s bytes', () => {
    // what the decode thread of `run` makes of a mark line (its own buffer, several lines one after the other) and
    // what the store then writes from it; other events (declined: −1) go through addEvent, in any order
    const minute = fc.constantFrom(Date.UTC(2026, 0, 2, 8, 38), Date.UTC(2026, 0, 2, 8, 39), Date.UTC(1999, 11, 31, 23, 59), 0);
    const instrument = fc.constantFrom('I01-PERP', 'BTC-PERP', 'a"b', 'x'.repeat(128), 'zoë-🚀', 'I1');
    const mark = fc
      .tuple(minute, fc.integer({ min: 0, max: 59_999 }), instrument, fc.bigInt({ min: 1n, max: 2n ** 54n }))
      .map(([m, inMinute, name, price]) => ({ type: 'PriceUpdated', ts: m + inMinute, instrument: name, price }) as ClearingEvent);
    const other = fc.constantFrom(...sampleEvents(12));
    fc.assert(
      fc.property(fc.array(fc.oneof({ arbitrary: mark, weight: 4 }, { arbitrary: other, weight: 1 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 50 }), (events, offset) => {
        const encoder = new MarkJsonEncoder();
        const json = new Uint8Array(offset + events.length * MARK_JSON_MAX_BYTES);
        const batch = new LineBatch(encodeEventForLog);
        let expected = '';
        let at = offset;
        events.forEach((event, i) => {
          const end = encoder.encode(event, json, at);
          if (end >= 0) {
            expect(Buffer.from(json.subarray(at, end)).toString('utf8')).toBe(encodeEvent(event));
            expect(encoder.crc).toBe(crc32(encodeEvent(event)));
            batch.addEncoded(i + 1, json, at, end, encoder.crc);
            at = end;
          } else batch.addEvent(i + 1, event);
          expected += eventLine(i + 1, encodeEvent(event));
        });
        expect(batch.take().buffer.toString('utf8')).toBe(expected);
      }),
      { numRuns: 300 },
    );
    // a worked example: the head, the minute's text, seconds and milliseconds, the instrument, the price's digits
    const encoder = new MarkJsonEncoder();
    const json = new Uint8Array(MARK_JSON_MAX_BYTES);
    const end = encoder.encode({ type: 'PriceUpdated', ts: Date.UTC(2026, 0, 2, 8, 38, 5, 250), instrument: 'BTC-PERP', price: 6_500_012_345_678n } as ClearingEvent, json, 0);
    expect(Buffer.from(json.subarray(0, end)).toString('latin1')).toBe('{"type":"PriceUpdated","v":1,"ts":"2026-01-02T08:38:05.250Z","instrument":"BTC-PERP","price":"65000.12345678"}');
    // too little room: declined
    expect(encoder.encode({ type: 'PriceUpdated', ts: 0, instrument: 'BTC-PERP', price: 1n } as ClearingEvent, json, 1)).toBe(-1);
  });

  it('LineBatch.addEvent writes eventLine\'s bytes past the 10,000 instruments whose middles the codec keeps', () => {
    // (the codec's caches live as long as this test file's modules: the tests after this one see them full)
    const batch = new LineBatch(encodeEventForLog);
    let expected = '';
    for (let i = 0; i < 10_050; i++) {
      const event = { type: 'PriceUpdated', ts: Date.UTC(2026, 0, 2, 8, 38, 30, i % 1000), instrument: `I${i}-PERP`, price: BigInt(i + 1) * 1_000_000n } as ClearingEvent;
      batch.addEvent(i + 1, event);
      expected += eventLine(i + 1, encodeEvent(event));
      if (i % 1000 === 999 || i === 10_049) {
        expect(batch.take().buffer.toString('latin1')).toBe(expected);
        expected = '';
      }
    }
  });

  it('reads back exactly the commit records it writes (a TAB first), and nothing else', () => {
    const chain = 'ab'.repeat(32);
    expect(commitLine({ commit: 10, events: 3, chain })).toBe(`\t{"commit":10,"events":3,"chain":"${chain}"}\n`);
    expect(parseCommit(`\t{"commit":10,"events":3,"chain":"${chain}"}`)).toEqual({ commit: 10, events: 3, chain });
    expect(parseCommit(`\t{"commit":10,"events":11,"chain":"${chain}"}`)).toBeUndefined(); // more events than positions
    expect(parseCommit(`\t{"commit":10,"events":3,"chain":"${chain.slice(1)}"}`)).toBeUndefined();
    expect(parseCommit(`\t{"commit":10, "events":3,"chain":"${chain}"}`)).toBeUndefined();
    expect(parseCommit(`{"commit":10,"events":3,"chain":"${chain}"}`)).toBeUndefined(); // no TAB
  });

  it('reads back exactly the checkpoint records it writes, and no commit record as one (nor one as a commit)', () => {
    const chain = 'cd'.repeat(32);
    expect(checkpointLine({ checkpoint: 7, chain })).toBe(`\t{"checkpoint":7,"chain":"${chain}"}\n`);
    expect(parseCheckpoint(`\t{"checkpoint":7,"chain":"${chain}"}`)).toEqual({ checkpoint: 7, chain });
    expect(parseCheckpoint(`\t{"checkpoint":07,"chain":"${chain}"}`)).toBeUndefined();
    expect(parseCheckpoint(`\t{"checkpoint":7,"chain":"${chain.toUpperCase()}"}`)).toBeUndefined();
    expect(parseCheckpoint(`\t{"commit":7,"events":3,"chain":"${chain}"}`)).toBeUndefined();
    expect(parseCommit(`\t{"checkpoint":7,"chain":"${chain}"}`)).toBeUndefined();
  });

  it('BatchChain: a checkpoint once a write takes the lines past checkpointBytes, the chain going on over its line; none in a version-2 log', () => {
    const previous = createHash('sha256').update('the chain before').digest();
    const sha = (...parts: (Buffer | string)[]) => parts.reduce((hash, part) => hash.update(part), createHash('sha256')).digest();
    const writes = ['a'.repeat(60) + '\n', 'b'.repeat(50) + '\n', 'c'.repeat(30) + '\n', 'd'.repeat(80) + '\n'].map((text) => Buffer.from(text));
    const chain = new BatchChain(previous, 100);
    // 61 bytes: none due; 61 + 51 = 112 ≥ 100: one after the second write (the last position 2), then 31 + 81 ≥ 100 again
    expect(chain.add(writes[0]!, 1)).toBeUndefined();
    const first = chain.add(writes[1]!, 2)!;
    const firstChain = sha(previous, writes[0]!, writes[1]!);
    expect(first.toString('latin1')).toBe(checkpointLine({ checkpoint: 2, chain: firstChain.toString('hex') }));
    expect(chain.add(writes[2]!, 3)).toBeUndefined();
    const second = chain.add(writes[3]!, 4)!;
    const secondChain = sha(firstChain, first, writes[2]!, writes[3]!);
    expect(parseCheckpoint(second.toString('latin1').trimEnd())).toEqual({ checkpoint: 4, chain: secondChain.toString('hex') });
    expect(chain.checkpoints).toBe(2);
    expect(chain.digest()).toEqual(sha(secondChain, second));

    // a version-2 log: the plain chain of the batch, no checkpoint however long
    expect(checkpointBytesOf(2)).toBe(Infinity);
    expect(checkpointBytesOf(3, 100)).toBe(100);
    const plain = new BatchChain(previous, checkpointBytesOf(2));
    for (const [i, write] of writes.entries()) expect(plain.add(write, i + 1)).toBeUndefined();
    expect(plain.digest()).toEqual(sha(previous, ...writes));
  });
});
