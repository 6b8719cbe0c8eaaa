// CIFAR-10 loader: the official binary layout from a folder, an archive, a URL or a download, validated.
import { FILES, missingFiles } from "./archive.ts";
import { resolveData, type SourceOptions } from "./source.ts";

/** CIFAR-10's class names in label order (batches.meta.txt). */
export const CIFAR10_CLASSES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/** Bytes of one image: 3 planes (R, G, B) of 32×32. */
export const IMAGE_BYTES = 3 * 32 * 32;
/** Bytes of one record in a batch file: the label byte, then the image. */
export const RECORD_BYTES = 1 + IMAGE_BYTES;
const TRAIN_FILES = FILES.slice(0, 5);
const TEST_FILE = "test_batch.bin";
const META_FILE = "batches.meta.txt";

/** The data set in memory, as the reference loader's `cifar10[]` returns it. */
export interface Cifar10 {
  /** Training images, [n, 3, 32, 32] bytes (channel planes, rows, columns). */
  x: Uint8Array;
  /** Training labels 0–9, [n]. */
  y: Uint8Array;
  /** Test images, [nTest, 3, 32, 32] bytes. */
  X: Uint8Array;
  /** Test labels, [nTest]. */
  Y: Uint8Array;
  /** The ten class names from batches.meta.txt (airplane … truck). */
  s: string[];
  /** Number of training images (50,000). */
  n: number;
  /** Number of test images (10,000). */
  nTest: number;
  /** The folder the files were read from. */
  dir: string;
}

/** Options for {@linkcode cifar10}: where the data is ({@linkcode SourceOptions}), and its size. */
export interface Cifar10Options extends SourceOptions {
  /** Records each batch file must hold (default 10,000; smaller for test fixtures). */
  recordsPerFile?: number;
}

const HINT = "give --data PATH (a folder, cifar-10-binary.tar.gz or its URL) or set CIFAR10_DIR";

/** Splits a batch file into images and labels, validating size and labels. */
function parseBatch(
  bytes: Uint8Array,
  file: string,
  dir: string,
  records: number,
  x: Uint8Array,
  y: Uint8Array,
  first: number,
): void {
  if (bytes.length % RECORD_BYTES !== 0) {
    throw new RangeError(
      `Cannot read CIFAR-10: ${file} in ${dir} has ${bytes.length} bytes, not a whole number ` +
        `of ${RECORD_BYTES}-byte records (truncated or not CIFAR-10)`,
    );
  }
  if (bytes.length / RECORD_BYTES !== records) {
    throw new RangeError(
      `Cannot read CIFAR-10: ${file} in ${dir} holds ${bytes.length / RECORD_BYTES} records, ` +
        `expected ${records}`,
    );
  }
  for (let r = 0; r < records; r++) {
    const at = r * RECORD_BYTES;
    const label = bytes[at];
    if (label > 9) {
      throw new RangeError(
        `Cannot read CIFAR-10: ${file} in ${dir}: record ${r} has label ${label} (labels are 0–9)`,
      );
    }
    y[first + r] = label;
    x.set(bytes.subarray(at + 1, at + RECORD_BYTES), (first + r) * IMAGE_BYTES);
  }
}

/**
 * Reads CIFAR-10 (binary version): 50,000 training and 10,000 test images with labels and the
 * class names. Throws an error naming the file and the problem when anything is missing or wrong.
 *
 * @example
 * ```ts
 * const d = await cifar10(); // $CIFAR10_DIR, else ./data, else downloads the official archive
 * console.log(d.n, d.nTest, d.s.join(" ")); // 50000 10000 airplane … truck
 * ```
 */
export async function cifar10(options: Cifar10Options = {}): Promise<Cifar10> {
  const dir = await resolveData(options);
  const missing = await missingFiles(dir);
  if (missing.length) {
    const what = missing.length === 1 ? `${missing[0]} is` : `${missing.join(", ")} are`;
    throw new Error(`Cannot read CIFAR-10: ${what} missing in ${dir} (${HINT})`);
  }
  const records = options.recordsPerFile ?? 10000;
  const n = records * TRAIN_FILES.length;
  const x = new Uint8Array(n * IMAGE_BYTES);
  const y = new Uint8Array(n);
  const X = new Uint8Array(records * IMAGE_BYTES);
  const Y = new Uint8Array(records);
  for (const [i, f] of TRAIN_FILES.entries()) {
    parseBatch(await Deno.readFile(`${dir}/${f}`), f, dir, records, x, y, i * records);
  }
  parseBatch(await Deno.readFile(`${dir}/${TEST_FILE}`), TEST_FILE, dir, records, X, Y, 0);
  const s = (await Deno.readTextFile(`${dir}/${META_FILE}`)).split(/\r?\n/).map((l) => l.trim())
    .filter((l) => l !== "");
  if (s.length !== 10) {
    throw new RangeError(
      `Cannot read CIFAR-10: ${META_FILE} in ${dir} lists ${s.length} class names, expected 10`,
    );
  }
  return { x, y, X, Y, s, n, nTest: records, dir };
}
