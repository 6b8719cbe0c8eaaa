// MD5 (RFC 1321) in TypeScript, incremental: WebCrypto has no MD5 and a browser has no
// node:crypto, yet CIFAR-10's archive is published with its MD5.

/** Left-rotation of step i: four per round, each used four times in turn. */
const SHIFTS = [[7, 12, 17, 22], [5, 9, 14, 20], [4, 11, 16, 23], [6, 10, 15, 21]];
const S = Int32Array.from({ length: 64 }, (_, i) => SHIFTS[i >> 4][i & 3]);
const K = Int32Array.from(
  { length: 64 },
  (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32),
);
/** Message word read by step i: i, 5i+1, 3i+5, 7i (mod 16) in rounds 1 to 4. */
const G = Int32Array.from(
  { length: 64 },
  (_, i) => i < 16 ? i : i < 32 ? (5 * i + 1) % 16 : i < 48 ? (3 * i + 5) % 16 : (7 * i) % 16,
);

/**
 * An MD5 hash fed in pieces; `hex()` ends it.
 *
 * @example
 * ```ts
 * const h = new Md5();
 * for await (const chunk of file.readable) h.update(chunk);
 * console.log(h.hex()); // "c32a1d4ab5d03f1284b67883e8d87530" for the CIFAR-10 archive
 * ```
 */
export class Md5 {
  #state = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476);
  #block = new Uint8Array(64);
  #words = new Int32Array(16);
  #filled = 0;
  #length = 0;
  #done = false;

  /** Feeds `bytes`; returns this hash (for chaining). */
  update(bytes: Uint8Array): this {
    if (this.#done) throw new Error("Md5.update: the hash has already been read with hex()");
    this.#length += bytes.length;
    let at = 0;
    if (this.#filled > 0) {
      const take = Math.min(64 - this.#filled, bytes.length);
      this.#block.set(bytes.subarray(0, take), this.#filled);
      this.#filled += take;
      at = take;
      if (this.#filled < 64) return this;
      this.#compress(this.#block, 0);
      this.#filled = 0;
    }
    for (; at + 64 <= bytes.length; at += 64) this.#compress(bytes, at);
    this.#block.set(bytes.subarray(at), 0);
    this.#filled = bytes.length - at;
    return this;
  }

  /** The digest as 32 lower-case hex digits; the hash takes no more input after this. */
  hex(): string {
    if (!this.#done) {
      const bits = this.#length * 8;
      const pad = new Uint8Array(((this.#filled < 56 ? 56 : 120) - this.#filled) + 8);
      pad[0] = 0x80;
      const view = new DataView(pad.buffer);
      view.setUint32(pad.length - 8, bits >>> 0, true);
      view.setUint32(pad.length - 4, Math.floor(bits / 2 ** 32), true);
      this.update(pad);
      this.#done = true;
    }
    let out = "";
    for (const v of this.#state) {
      for (let b = 0; b < 4; b++) out += ((v >>> (8 * b)) & 0xff).toString(16).padStart(2, "0");
    }
    return out;
  }

  #compress(bytes: Uint8Array, at: number): void {
    const x = this.#words;
    for (let j = 0; j < 16; j++) {
      const p = at + 4 * j;
      x[j] = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
    }
    const st = this.#state;
    let a = st[0], b = st[1], c = st[2], d = st[3];
    for (let i = 0; i < 64; i++) {
      const f = i < 16
        ? (b & c) | (~b & d)
        : i < 32
        ? (d & b) | (~d & c)
        : i < 48
        ? b ^ c ^ d
        : c ^ (b | ~d);
      const t = (a + f + K[i] + x[G[i]]) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((t << S[i]) | (t >>> (32 - S[i])))) | 0;
    }
    st[0] = (st[0] + a) | 0;
    st[1] = (st[1] + b) | 0;
    st[2] = (st[2] + c) | 0;
    st[3] = (st[3] + d) | 0;
  }
}

/** Hex MD5 of `bytes`. */
export function md5Hex(bytes: Uint8Array): string {
  return new Md5().update(bytes).hex();
}
