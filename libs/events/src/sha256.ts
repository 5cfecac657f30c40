/**
 * SHA-256 (FIPS 180-4) whose running state is plain data, so a shard's
 * `outputHash` can be carried inside a snapshot and resumed after a restart.
 * node:crypto cannot export a hash's midstate; this can. Checked against
 * node:crypto on random inputs by sha256.unit.spec.ts.
 */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** The resumable state: chaining values, the unprocessed tail (hex) and the message length in bytes. */
export interface Sha256State {
  h: number[];
  tail: string;
  length: number;
}

const encoder = new TextEncoder();
const NEWLINE = 0x0a;
// the text of an update, encoded (grown for a longer one): no array per update
let scratch = new Uint8Array(1024);
// the message schedule and round constants as Int32Array: their values stay small integers in V8 (a Uint32Array's
// above 2^31 are doubles), and every sum below is |0 anyway
const w = new Int32Array(64);

export class Sha256 {
  private readonly h: Uint32Array;
  private readonly buffer = new Uint8Array(64);
  private buffered = 0;
  private length = 0;

  constructor(state?: Sha256State) {
    this.h = Uint32Array.from(state?.h ?? INITIAL);
    if (state) {
      const tail = Uint8Array.from(state.tail.match(/../g) ?? [], (byte) => parseInt(byte, 16));
      this.buffer.set(tail);
      this.buffered = tail.length;
      this.length = state.length;
    }
  }

  update(text: string): this {
    return this.updateEncoded(text, false);
  }

  /** update(text + "\n"), without making that string. */
  updateLine(text: string): this {
    return this.updateEncoded(text, true);
  }

  private updateEncoded(text: string, newline: boolean): this {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit
    if (scratch.length < 3 * text.length + 1) scratch = new Uint8Array(2 * (3 * text.length + 1));
    const data = scratch;
    let size = encoder.encodeInto(text, data).written;
    if (newline) data[size++] = NEWLINE;
    this.length += size;
    // the tail and the head of the bytes (under 64 each) are copied byte by byte: no view of them is made
    const buffer = this.buffer;
    let offset = 0;
    if (this.buffered > 0) {
      const take = Math.min(64 - this.buffered, size);
      for (let i = 0; i < take; i++) buffer[this.buffered + i] = data[i]!;
      this.buffered += take;
      offset = take;
      if (this.buffered < 64) return this;
      this.compress(buffer, 0);
      this.buffered = 0;
    }
    for (; offset + 64 <= size; offset += 64) this.compress(data, offset);
    for (let i = offset; i < size; i++) buffer[i - offset] = data[i]!;
    this.buffered = size - offset;
    return this;
  }

  state(): Sha256State {
    return { h: [...this.h], tail: Buffer.from(this.buffer.subarray(0, this.buffered)).toString('hex'), length: this.length };
  }

  /** The digest of everything so far; the running state is left as it was. */
  hex(): string {
    const copy = new Sha256(this.state());
    const bits = copy.length * 8;
    const padding = new Uint8Array(((copy.buffered < 56 ? 56 : 120) - copy.buffered) + 8);
    padding[0] = 0x80;
    const view = new DataView(padding.buffer);
    view.setUint32(padding.length - 8, Math.floor(bits / 2 ** 32));
    view.setUint32(padding.length - 4, bits >>> 0);
    copy.updateBytes(padding);
    return [...copy.h].map((x) => x.toString(16).padStart(8, '0')).join('');
  }

  private updateBytes(data: Uint8Array): void {
    for (const byte of data) {
      this.buffer[this.buffered++] = byte;
      if (this.buffered === 64) {
        this.compress(this.buffer, 0);
        this.buffered = 0;
      }
    }
  }

  private compress(data: Uint8Array, offset: number): void {
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4;
      w[i] = (data[j]! << 24) | (data[j + 1]! << 16) | (data[j + 2]! << 8) | data[j + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!;
      const b = w[i - 2]!;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    // plain locals (not a destructuring of the typed array, which goes through its iterator), as int32
    const state = this.h;
    let a = state[0]! | 0;
    let b = state[1]! | 0;
    let c = state[2]! | 0;
    let d = state[3]! | 0;
    let e = state[4]! | 0;
    let f = state[5]! | 0;
    let g = state[6]! | 0;
    let h = state[7]! | 0;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    this.h[0] = (this.h[0]! + a) | 0;
    this.h[1] = (this.h[1]! + b) | 0;
    this.h[2] = (this.h[2]! + c) | 0;
    this.h[3] = (this.h[3]! + d) | 0;
    this.h[4] = (this.h[4]! + e) | 0;
    this.h[5] = (this.h[5]! + f) | 0;
    this.h[6] = (this.h[6]! + g) | 0;
    this.h[7] = (this.h[7]! + h) | 0;
  }
}
