import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { encodeEvent, type ClearingEvent } from '@clearsim/events';
import { sampleEvents } from '../test-events';
import { commitLine, crc32Bytes, eventLine, LineBatch, parseCommit, splitEventLine, splitEventLineBytes } from './log-format';

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
        const batch = new LineBatch();
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
        const reused = new LineBatch();
        let position = 1;
        let lentBuffer: ArrayBufferLike | undefined;
        for (const [chunk, size] of chunkSizes.entries()) {
          const fresh = new LineBatch();
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
        const direct = new LineBatch();
        const viaText = new LineBatch();
        picks.forEach((pick, i) => {
          direct.addEvent(first + i, events[pick]!);
          viaText.add(first + i, encodeEvent(events[pick]!));
        });
        expect(direct.take().buffer.equals(viaText.take().buffer)).toBe(true);
      }),
      { numRuns: 200 },
    );
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
});
