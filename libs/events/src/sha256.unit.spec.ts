import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Sha256 } from './sha256';

describe('Sha256', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ])('FIPS 180-4 test vector %#', (input, digest) => {
    expect(new Sha256().update(input).hex()).toBe(digest);
  });

  it('equals node:crypto on any sequence of UTF-8 chunks, resumed from its state at any point', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 150 }), { maxLength: 12 }), fc.nat(12), (chunks, cut) => {
        let ours = new Sha256();
        const theirs = createHash('sha256');
        chunks.forEach((chunk, i) => {
          if (i === cut) ours = new Sha256(JSON.parse(JSON.stringify(ours.state())));
          ours.update(chunk);
          theirs.update(chunk);
        });
        expect(ours.hex()).toBe(theirs.digest('hex'));
      }),
    );
  });

  it('updateLine(text) hashes text + "\\n": equals node:crypto over lines of any length (one longer than the encoding buffer too), mixed with plain updates', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.oneof(fc.string({ unit: 'grapheme', maxLength: 150 }), fc.string({ unit: 'binary', minLength: 400, maxLength: 1200 }))), { maxLength: 10 }), (updates) => {
        const ours = new Sha256();
        const theirs = createHash('sha256');
        for (const [line, text] of updates) {
          if (line) ours.updateLine(text);
          else ours.update(text);
          theirs.update(line ? text + '\n' : text);
        }
        expect(ours.hex()).toBe(theirs.digest('hex'));
      }),
    );
  });
});
