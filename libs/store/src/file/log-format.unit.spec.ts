import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { encodeEvent } from '@clearsim/events';
import { sampleEvents } from '../test-events';
import { commitLine, eventLine, LineBatch, parseCommit, splitEventLine, splitEventLineBytes } from './log-format';

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
        expect([from, last]).toEqual([first, first + count - 1]);
        expect(batch.length).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('reads back exactly the commit records it writes, and nothing else', () => {
    const chain = 'ab'.repeat(32);
    expect(commitLine({ commit: 10, events: 3, chain })).toBe(`{"commit":10,"events":3,"chain":"${chain}"}\n`);
    expect(parseCommit(`{"commit":10,"events":3,"chain":"${chain}"}`)).toEqual({ commit: 10, events: 3, chain });
    expect(parseCommit(`{"commit":10,"events":11,"chain":"${chain}"}`)).toBeUndefined(); // more events than positions
    expect(parseCommit(`{"commit":10,"events":3,"chain":"${chain.slice(1)}"}`)).toBeUndefined();
    expect(parseCommit(`{"commit":10, "events":3,"chain":"${chain}"}`)).toBeUndefined();
  });
});
