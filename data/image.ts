// Image files to CIFAR-10 input: PNG/JPEG decoding, RGB, centre crop, area-average to 32×32.
import { decode as decodePng } from "fast-png";
import jpeg from "jpeg-js";

/** An image as 8-bit RGB, row-major, 3 bytes a pixel. */
export interface RgbImage {
  width: number;
  height: number;
  /** [height, width, 3] bytes. */
  rgb: Uint8Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Largest image decoded, in megapixels (a guard against decompression bombs). */
const MAX_MEGAPIXELS = 100;

function isPng(b: Uint8Array): boolean {
  return PNG_SIGNATURE.every((v, i) => b[i] === v);
}

function isJpeg(b: Uint8Array): boolean {
  return b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** One value a pixel from rows of packed 1/2/4-bit samples (each row starts on a byte). */
function unpack(data: ArrayLike<number>, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const perRow = Math.ceil((depth * width) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      out[y * width + x] = (data[y * perRow + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** PNG samples (any bit depth, grey / grey+alpha / RGB / RGBA / palette) to 8-bit RGB. */
function pngToRgb(bytes: Uint8Array): RgbImage {
  const png = decodePng(bytes);
  const { width, height, channels, depth, palette } = png;
  if (width * height > MAX_MEGAPIXELS * 1e6) {
    throw new RangeError(`${width}×${height} is over ${MAX_MEGAPIXELS} megapixels`);
  }
  const src = depth < 8 ? unpack(png.data, width, height, depth) : png.data;
  // 16-bit samples keep their high byte; 1/2/4-bit grey is scaled to 0–255.
  const scale = (v: number) =>
    depth === 16 ? v >> 8 : depth < 8 ? Math.round((v * 255) / ((1 << depth) - 1)) : v;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    if (palette) {
      const entry = palette[src[i]];
      if (!entry) throw new RangeError(`palette index ${src[i]} is outside the palette`);
      rgb[i * 3] = entry[0];
      rgb[i * 3 + 1] = entry[1];
      rgb[i * 3 + 2] = entry[2];
    } else if (channels >= 3) {
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = scale(src[i * channels + c]);
    } else {
      rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = scale(src[i * channels]);
    }
  }
  return { width, height, rgb };
}

function jpegToRgb(bytes: Uint8Array): RgbImage {
  const img = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: MAX_MEGAPIXELS,
    maxMemoryUsageInMB: 1024,
  });
  return { width: img.width, height: img.height, rgb: img.data };
}

/** What an image file's header declares, read before any pixel is decoded. */
export interface ImageHeader {
  kind: "PNG" | "JPEG";
  width: number;
  height: number;
}

const u16 = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const u32 = (b: Uint8Array, at: number) =>
  ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + u16(b, at + 2);

/** PNG: the IHDR chunk must come first (bytes 8–32): length 13, "IHDR", width, height. */
function pngHeader(b: Uint8Array): ImageHeader | string {
  if (b.length < 33) return `it is truncated (${b.length} bytes; a PNG header needs 33)`;
  const type = String.fromCharCode(...b.subarray(12, 16));
  if (type !== "IHDR" || u32(b, 8) !== 13) return "its first chunk is not a PNG IHDR header";
  return { kind: "PNG", width: u32(b, 16), height: u32(b, 20) };
}

/** JPEG: the markers up to the first frame header (SOF0–SOF15 but DHT, JPG, DAC). */
function jpegHeader(b: Uint8Array): ImageHeader | string {
  let at = 2;
  while (at < b.length) {
    if (b[at] !== 0xff) return `its marker stream is broken at byte ${at}`;
    while (b[at] === 0xff) at++; // fill bytes
    if (at >= b.length) break;
    const marker = b[at++];
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (marker === 0xd9 || marker === 0xda) {
      return "it has no frame header (SOF) before its image data";
    }
    if (at + 2 > b.length) break;
    const length = u16(b, at);
    const sof = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (sof) {
      if (at + 7 > b.length) break;
      return { kind: "JPEG", height: u16(b, at + 3), width: u16(b, at + 5) };
    }
    if (length < 2) return `its marker stream is broken at byte ${at}`;
    at += length;
  }
  return `it is truncated (${b.length} bytes, no frame header (SOF) yet)`;
}

/**
 * The kind and size an image file declares, from its header alone (PNG IHDR, JPEG SOF), checked
 * before any pixel buffer is allocated: an empty, truncated or non-image file, a zero size, and
 * a size over the 100-megapixel limit (a small file declaring a huge image) are refused with one
 * sentence naming `name`.
 */
export function imageHeader(bytes: Uint8Array, name: string): ImageHeader {
  if (bytes.length === 0) throw new TypeError(`Cannot read image ${name}: the file is empty`);
  const kind = isPng(bytes) ? "PNG" : isJpeg(bytes) ? "JPEG" : null;
  if (!kind) {
    const head = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new TypeError(
      `Cannot read image ${name}: not a PNG or JPEG file (it starts with ${head})`,
    );
  }
  const h = kind === "PNG" ? pngHeader(bytes) : jpegHeader(bytes);
  if (typeof h === "string") throw new TypeError(`Cannot read ${kind} image ${name}: ${h}`);
  if (!(h.width > 0 && h.height > 0)) {
    throw new TypeError(
      `Cannot read ${kind} image ${name}: it declares ${h.width}×${h.height} pixels`,
    );
  }
  const mp = (h.width * h.height) / 1e6;
  if (mp > MAX_MEGAPIXELS) {
    throw new RangeError(
      `Cannot read ${kind} image ${name}: it declares ${h.width}×${h.height} pixels (${
        mp.toFixed(0)
      } megapixels), over the ${MAX_MEGAPIXELS}-megapixel limit; nothing was decoded`,
    );
  }
  return h;
}

/**
 * Decodes a PNG or JPEG file's bytes (recognised by their signature, not the name) to 8-bit RGB.
 * Alpha is dropped (as PIL's `convert("RGB")` does), grey is copied to all three channels,
 * 16-bit samples keep their high byte. Throws one sentence naming `name` and the problem.
 */
export function decodeImage(bytes: Uint8Array, name: string): RgbImage {
  // Size and kind from the header first: nothing is allocated for a file that lies about them.
  const { kind } = imageHeader(bytes, name);
  let img: RgbImage;
  try {
    img = kind === "PNG" ? pngToRgb(bytes) : jpegToRgb(bytes);
  } catch (e) {
    throw new TypeError(`Cannot decode ${kind} image ${name}: ${(e as Error).message}`);
  }
  if (!(img.width > 0 && img.height > 0) || img.rgb.length < img.width * img.height * 3) {
    throw new TypeError(`Cannot decode ${kind} image ${name}: it has no pixels`);
  }
  return img;
}

/**
 * The weights of area-averaging `n` source samples onto `m` outputs: output j covers source
 * interval [j·n/m, (j+1)·n/m) and each source sample weighs its overlap with it (sum n/m).
 */
export function areaWeights(n: number, m: number): { index: number; weight: number }[][] {
  const out: { index: number; weight: number }[][] = [];
  const step = n / m;
  for (let j = 0; j < m; j++) {
    const lo = j * step, hi = (j + 1) * step;
    const row: { index: number; weight: number }[] = [];
    for (let i = Math.floor(lo); i < Math.min(n, Math.ceil(hi)); i++) {
      const w = Math.min(hi, i + 1) - Math.max(lo, i);
      if (w > 0) row.push({ index: i, weight: w });
    }
    out.push(row);
  }
  return out;
}

/**
 * The network's input from any image: the centred square of side min(width, height) (the longer
 * side trimmed equally, the odd pixel off the end), area-averaged to `size`×`size` (each output
 * pixel the overlap-weighted mean of the source pixels it covers; exact copy at 32×32). Returns
 * f32 [3, size, size] in pixel units 0–255, channel planes as CIFAR-10 stores them.
 */
export function toCifarInput(img: RgbImage, size = 32): Float32Array {
  const s = Math.min(img.width, img.height);
  const x0 = Math.floor((img.width - s) / 2);
  const y0 = Math.floor((img.height - s) / 2);
  const w = areaWeights(s, size);
  const area = (s / size) * (s / size);
  const out = new Float32Array(3 * size * size);
  const acc = new Float64Array(3);
  for (let oy = 0; oy < size; oy++) {
    for (let ox = 0; ox < size; ox++) {
      acc.fill(0);
      for (const ry of w[oy]) {
        const row = (y0 + ry.index) * img.width;
        for (const rx of w[ox]) {
          const at = (row + x0 + rx.index) * 3;
          const k = ry.weight * rx.weight;
          acc[0] += k * img.rgb[at];
          acc[1] += k * img.rgb[at + 1];
          acc[2] += k * img.rgb[at + 2];
        }
      }
      for (let c = 0; c < 3; c++) out[c * size * size + oy * size + ox] = acc[c] / area;
    }
  }
  return out;
}
