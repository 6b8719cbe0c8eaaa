// data/md5.ts against node:crypto (the MD5 the Deno build used before) and RFC 1321's vectors.
import { createHash } from "node:crypto";
import { assertEquals, assertThrows } from "./assert.ts";
import { Md5, md5Hex } from "../data/md5.ts";
import { mulberry32 } from "../engine/random.ts";

Deno.test("md5: RFC 1321's test suite", () => {
  const vectors: [string, string][] = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    [
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      "d174ab98d277d9f5a5611c2c9f419d9f",
    ],
    ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"],
  ];
  for (const [text, hex] of vectors) {
    assertEquals(md5Hex(new TextEncoder().encode(text)), hex, text);
  }
});

Deno.test("md5: random inputs fed in random pieces match node:crypto", () => {
  const rand = mulberry32(21);
  // Every length around the 64-byte block and the 56-byte padding boundary, then larger ones.
  const lengths = [...Array.from({ length: 200 }, (_, i) => i), 4095, 4096, 4097, 100_003];
  for (const n of lengths) {
    const bytes = Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
    const h = new Md5();
    for (let at = 0; at < n;) {
      const take = Math.min(n - at, Math.floor(rand() * 150));
      h.update(bytes.subarray(at, at + take));
      at += take;
    }
    assertEquals(h.hex(), createHash("md5").update(bytes).digest("hex"), `length ${n}`);
  }
});

Deno.test("md5: hex() twice gives the same digest; update after hex() is refused", () => {
  const h = new Md5().update(new Uint8Array([1, 2, 3]));
  assertEquals(h.hex(), h.hex());
  assertThrows(() => h.update(new Uint8Array(1)), Error, "already been read");
});
