// Image input for predict: PNG/JPEG decoding to RGB, centre crop + area-averaging to 32×32, errors.
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { assertClose, rng } from "./helpers.ts";
import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import { areaWeights, decodeImage, type RgbImage, toCifarInput } from "../data/image.ts";

function randomImage(width: number, height: number, seed: number): RgbImage {
  const r = rng(seed);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.floor(r() * 256);
  return { width, height, rgb };
}

/**
 * Float64 reference of centre crop + area-averaging: each source pixel of the centred s×s
 * square replicated into a size×size block (a grid of s·size), then the plain mean of each
 * s×s block of that grid — exactly the overlap-weighted mean, computed another way.
 */
function referenceResize(img: RgbImage, size: number): Float64Array {
  const s = Math.min(img.width, img.height);
  const x0 = Math.floor((img.width - s) / 2), y0 = Math.floor((img.height - s) / 2);
  const out = new Float64Array(3 * size * size);
  for (let oy = 0; oy < size; oy++) {
    for (let ox = 0; ox < size; ox++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let fy = oy * s; fy < (oy + 1) * s; fy++) {
          for (let fx = ox * s; fx < (ox + 1) * s; fx++) {
            const sy = y0 + Math.floor(fy / size), sx = x0 + Math.floor(fx / size);
            sum += img.rgb[(sy * img.width + sx) * 3 + c];
          }
        }
        out[c * size * size + oy * size + ox] = sum / (s * s);
      }
    }
  }
  return out;
}

Deno.test("area weights: every output covers n/m source samples, contiguous, all inside", () => {
  for (const [n, m] of [[37, 32], [20, 32], [64, 32], [33, 7], [1, 3]]) {
    const w = areaWeights(n, m);
    assertEquals(w.length, m);
    let covered = 0;
    for (const row of w) {
      const total = row.reduce((a, b) => a + b.weight, 0);
      assert(Math.abs(total - n / m) < 1e-12, `${n}→${m}: a row sums to ${total}, not ${n / m}`);
      assert(row.every((r) => r.index >= 0 && r.index < n && r.weight > 0));
      covered += total;
    }
    assert(Math.abs(covered - n) < 1e-9, `${n}→${m}: weights cover ${covered} samples`);
  }
});

Deno.test("toCifarInput: centre crop and area-average against a float64 reference (odd sizes)", () => {
  // Landscape (crop 4 off the left, 4 off the right), portrait with an odd excess, upsampling.
  for (const [w, h, seed] of [[45, 37, 1], [37, 46, 2], [20, 20, 3], [67, 33, 4]]) {
    const img = randomImage(w, h, seed);
    assertClose(toCifarInput(img), referenceResize(img, 32), { atol: 1e-3, rtol: 0 }, `${w}×${h}`);
  }
  // 64×64 → 32×32 is the mean of each 2×2 block, checked directly.
  const big = randomImage(64, 64, 5);
  const x = toCifarInput(big);
  const px = (yy: number, xx: number, c: number) => big.rgb[(yy * 64 + xx) * 3 + c];
  for (const [oy, ox, c] of [[0, 0, 0], [31, 31, 2], [7, 19, 1]]) {
    const mean = (px(2 * oy, 2 * ox, c) + px(2 * oy, 2 * ox + 1, c) + px(2 * oy + 1, 2 * ox, c) +
      px(2 * oy + 1, 2 * ox + 1, c)) / 4;
    assertEquals(x[c * 1024 + oy * 32 + ox], mean);
  }
});

Deno.test("toCifarInput: a 32×32 image is copied exactly, as channel planes", () => {
  const img = randomImage(32, 32, 6);
  const x = toCifarInput(img);
  for (let p = 0; p < 1024; p++) {
    for (let c = 0; c < 3; c++) assertEquals(x[c * 1024 + p], img.rgb[p * 3 + c]);
  }
});

Deno.test("decodeImage: PNG as RGB, RGBA, grey, grey+alpha, 16-bit, 2-bit palette and 1-bit grey", () => {
  const { width, height, rgb } = randomImage(13, 9, 7);
  const n = width * height;
  const rgba = new Uint8Array(n * 4), grey = new Uint8Array(n), greyA = new Uint8Array(n * 2);
  const deep = new Uint16Array(n * 3);
  for (let i = 0; i < n; i++) {
    rgba.set([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2], (i * 37) % 256], i * 4);
    grey[i] = rgb[i * 3];
    greyA.set([rgb[i * 3], 255 - rgb[i * 3]], i * 2);
    for (let c = 0; c < 3; c++) deep[i * 3 + c] = rgb[i * 3 + c] * 256 + ((i * 31) % 256); // high byte = the 8-bit value
  }
  const expectGrey = new Uint8Array(n * 3).map((_, k) => grey[Math.floor(k / 3)]);
  const cases: [string, Uint8Array, Uint8Array][] = [
    ["rgb", encodePng({ width, height, data: rgb, channels: 3 }), rgb],
    ["rgba", encodePng({ width, height, data: rgba, channels: 4 }), rgb],
    ["grey", encodePng({ width, height, data: grey, channels: 1 }), expectGrey],
    ["grey+alpha", encodePng({ width, height, data: greyA, channels: 2 }), expectGrey],
    ["16-bit", encodePng({ width, height, data: deep, channels: 3, depth: 16 }), rgb],
  ];
  // Packed low-depth rows (each row starts on a byte): a 2-bit palette and 1-bit grey.
  const palette = [[255, 0, 0], [0, 128, 255], [7, 8, 9], [200, 201, 202]];
  const pack = (values: number[], depth: number) => {
    const perRow = Math.ceil((width * depth) / 8);
    const out = new Uint8Array(perRow * height);
    values.forEach((v, i) => {
      const y = Math.floor(i / width), bit = (i % width) * depth;
      out[y * perRow + (bit >> 3)] |= v << (8 - depth - (bit & 7));
    });
    return out;
  };
  const idx = Array.from({ length: n }, (_, i) => (i * 7 + 3) % 4);
  cases.push([
    "palette",
    encodePng({ width, height, data: pack(idx, 2), channels: 1, depth: 2, palette }),
    Uint8Array.from(idx.flatMap((i) => palette[i])),
  ]);
  const bits = Array.from({ length: n }, (_, i) => (i * 5) % 3 === 0 ? 1 : 0);
  cases.push([
    "1-bit",
    encodePng({ width, height, data: pack(bits, 1), channels: 1, depth: 1 }),
    Uint8Array.from(bits.flatMap((b) => [b * 255, b * 255, b * 255])),
  ]);
  for (const [what, bytes, want] of cases) {
    const img = decodeImage(bytes, `${what}.png`);
    assertEquals([img.width, img.height], [width, height], what);
    assertEquals(img.rgb, want, what);
  }
});

Deno.test("decodeImage: JPEG within JPEG's loss of a smooth image; signature decides, not the name", () => {
  const width = 40, height = 24;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rgba.set([x * 6, y * 10, 128 + ((x + y) % 16), 255], (y * width + x) * 4);
    }
  }
  const bytes = jpeg.encode({ width, height, data: rgba }, 100).data;
  const img = decodeImage(new Uint8Array(bytes), "photo.png"); // misnamed on purpose
  assertEquals([img.width, img.height], [width, height]);
  let worst = 0;
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) {
      worst = Math.max(worst, Math.abs(img.rgb[i * 3 + c] - rgba[i * 4 + c]));
    }
  }
  assert(worst <= 8, `JPEG at quality 100 differs by ${worst} levels (expected ≤ 8)`);
});

Deno.test("decodeImage: undecodable files are one-line errors naming the file", () => {
  const png = encodePng({ width: 8, height: 8, data: new Uint8Array(192), channels: 3 });
  const jpg = new Uint8Array(
    jpeg.encode({ width: 8, height: 8, data: new Uint8Array(256).fill(200) }, 90).data,
  );
  const cases: [Uint8Array, string, string][] = [
    [
      new TextEncoder().encode("GIF89a…"),
      "cat.gif",
      "Cannot read image cat.gif: not a PNG or JPEG file",
    ],
    [new Uint8Array(0), "empty.png", "Cannot read image empty.png: the file is empty"],
    [png.subarray(0, 40), "cut.png", "Cannot decode PNG image cut.png:"],
    [jpg.subarray(0, 30), "cut.jpg", "Cannot read JPEG image cut.jpg: it is truncated"],
    [jpg.subarray(0, jpg.length - 40), "end.jpg", "Cannot decode JPEG image end.jpg:"],
  ];
  for (const [bytes, name, message] of cases) {
    const e = assertThrows(() => decodeImage(bytes, name), TypeError, message);
    assert(!e.message.includes("\n"), `one line: ${e.message}`);
  }
});
