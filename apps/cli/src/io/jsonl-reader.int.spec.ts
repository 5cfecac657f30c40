import fc from 'fast-check';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { InputError } from '@clearsim/events';
import { readLineBatches } from './jsonl-reader';

async function byReadline(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const line of createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })) out.push(line);
  return out;
}

/** readline's lines of `content`, written to a file of their own. */
async function byReadlineOf(content: Buffer): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'clearsim-jsonl-reader-'));
  try {
    writeFileSync(join(dir, 'content'), content);
    return await byReadline(join(dir, 'content'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function byReader(file: string, chunkBytes: number): Promise<string[]> {
  const out: string[] = [];
  for await (const lines of readLineBatches(file, chunkBytes)) out.push(...lines);
  return out;
}

describe('readLineBatches', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'clearsim-jsonl-reader-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('splits at \\n, \\r\\n and a lone \\r, keeps empty lines and an unterminated last line', async () => {
    const file = join(dir, 'mixed.jsonl');
    writeFileSync(file, 'a\nb\r\n\nc\rd\r\r\ne');
    // "a" | "b" (CRLF) | "" | "c" (lone CR) | "d" | "" (CR then CRLF) | "e" (no final break)
    expect(await byReader(file, 3)).toEqual(['a', 'b', '', 'c', 'd', '', 'e']);
    expect(await byReadline(file)).toEqual(['a', 'b', '', 'c', 'd', '', 'e']);
  });

  it('drops a UTF-8 byte-order mark before the first line (only there), whatever the chunk size', async () => {
    const file = join(dir, 'bom.jsonl');
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n\ufeff{"b":2}\n')]));
    // a mark inside the file is the line's own character (JSON.parse will refuse it, naming the line)
    for (const chunk of [3, 4, 7, 1 << 20]) expect(await byReader(file, chunk)).toEqual(['{"a":1}', '\ufeff{"b":2}']);
  });

  it('refuses a line longer than the bound, naming the file and line, without holding the rest of the file', async () => {
    const file = join(dir, 'long.jsonl');
    // lines 1 and 2 are short; line 3 is 100 characters with no break after it
    writeFileSync(file, `{"a":1}\n\n${'x'.repeat(100)}`);
    const read: string[] = [];
    const reading = (async () => {
      for await (const lines of readLineBatches(file, 16, undefined, 64)) read.push(...lines);
    })();
    await expect(reading).rejects.toThrow(InputError);
    await expect((async () => {
      for await (const _ of readLineBatches(file, 16, undefined, 64)) void _;
    })()).rejects.toThrow(`${file}:line 3: line longer than 64 characters`);
    expect(read).toEqual(['{"a":1}', '']);
    // at the bound exactly, it is read
    writeFileSync(file, `${'x'.repeat(64)}\n`);
    const lines: string[] = [];
    for await (const batch of readLineBatches(file, 16, undefined, 64)) lines.push(...batch);
    expect(lines).toEqual(['x'.repeat(64)]);
  });

  it('gives readline\'s lines for any text and any chunk size (CRLF and multi-byte characters cut at chunk edges)', async () => {
    const file = join(dir, 'random.jsonl');
    const text = fc.array(fc.constantFrom('a', '{"x":1}', '\n', '\r', '\r\n', 'é', '€', '😀', ' ', '\ufeff'), { maxLength: 40 }).map((parts) => parts.join(''));
    const bytes = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(fc.oneof(text.map((t) => Buffer.from(t, 'utf8')), bytes.map((b) => Buffer.from(b))), fc.integer({ min: 1, max: 9 }), async (content, chunkBytes) => {
        writeFileSync(file, content);
        // readline's, but for a byte-order mark at the file's start, which the reader drops (readline keeps it)
        const bom = content.length >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf;
        expect(await byReader(file, chunkBytes)).toEqual(bom ? await byReadlineOf(content.subarray(3)) : await byReadline(file));
      }),
      { numRuns: 300 },
    );
  });
});
