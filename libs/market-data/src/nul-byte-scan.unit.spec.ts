import fc from 'fast-check';
import { NulByteScan, nulByteProblem } from './nul-byte-scan';

/** The line of the first NUL of `text` fed in chunks cut at `cuts`, or undefined. */
function lineOfNul(text: string, cuts: number[] = []): number | undefined {
  const bytes = Buffer.from(text, 'latin1');
  const scan = new NulByteScan();
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    const line = scan.feed(bytes.subarray(from, cut));
    if (line !== undefined) return line;
    from = cut;
  }
  return undefined;
}

describe('NulByteScan: the first NUL byte of a file and its line', () => {
  it('names the line of the first NUL: lines end at \\n, \\r\\n or a lone \\r', () => {
    expect(lineOfNul('\u0000\u0000\u0000')).toBe(1);
    expect(lineOfNul('time,price\n1,2\n3,\u00004\n\u0000')).toBe(3);
    expect(lineOfNul('time,price\r\n1,2\r\n\u0000')).toBe(3);
    expect(lineOfNul('a\rb\rc\u0000')).toBe(3);
    expect(lineOfNul('a\n\nb\u0000')).toBe(3);
    expect(lineOfNul('time,price\n1,2\n')).toBeUndefined();
    expect(lineOfNul('')).toBeUndefined();
  });

  it('counts across chunks: a \\r\\n cut between its two bytes is one line break, a NUL in a later chunk is on the line the earlier ones reached', () => {
    expect(lineOfNul('a\r\nb\r\n\u0000', [2])).toBe(3);
    expect(lineOfNul('a\r\nb\r\n\u0000', [2, 5])).toBe(3);
    expect(lineOfNul('a\n\u0000', [2])).toBe(2);
    expect(lineOfNul('a\r', [2])).toBeUndefined();
  });

  it('gives the same line however the file is cut into chunks: the line of the first NUL in its text', () => {
    const text = fc.array(fc.constantFrom('a', ',', '1', '\n', '\r', '\r\n', '\u0000', 'é'), { maxLength: 40 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, fc.array(fc.nat(45), { maxLength: 5 }), (t, cuts) => {
        const nul = t.indexOf('\u0000');
        const expected = nul < 0 ? undefined : t.slice(0, nul).split(/\r\n|\r|\n/).length;
        expect(lineOfNul(t, cuts)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('says what the file is', () => {
    expect(nulByteProblem(3)).toBe('line 3 holds a NUL byte (U+0000): not a CSV/text file');
  });
});
