// CIFAR-10's files as bytes: which archive members are the data (hostile ones refused), the
// archive read member by member, and the batch files parsed and validated. No file system: the
// Deno loader (cifar10.ts, archive.ts) and the browser page share this one code path.
import { gunzip, readTar } from "./tar.ts";

/** The folder the archive unpacks to. */
export const FOLDER = "cifar-10-batches-bin";
/** The files a CIFAR-10 folder must hold. */
export const FILES = [
  "data_batch_1.bin",
  "data_batch_2.bin",
  "data_batch_3.bin",
  "data_batch_4.bin",
  "data_batch_5.bin",
  "test_batch.bin",
  "batches.meta.txt",
] as const;
/** Bytes of one image: 3 planes (R, G, B) of 32×32. */
export const IMAGE_BYTES = 3 * 32 * 32;
/** Bytes of one record in a batch file: the label byte, then the image. */
export const RECORD_BYTES = 1 + IMAGE_BYTES;
const TRAIN_FILES = FILES.slice(0, 5);
const TEST_FILE = "test_batch.bin";
const META_FILE = "batches.meta.txt";

/** The data set in memory, as the reference loader's `cifar10[]` returns it (without where it came from). */
export interface CifarArrays {
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
}

/** Refuses bytes that cannot start a .tar.gz (no gzip signature) before any work is done. */
export function checkGzipSignature(head: Uint8Array, archive: string): void {
  if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
    throw new Error(
      `Cannot read CIFAR-10: ${archive} is neither a CIFAR-10 folder nor a .tar.gz archive ` +
        `(it does not start with the gzip signature)`,
    );
  }
}

/** Classifies a member: the CIFAR file it provides, null to skip; throws for a hostile member. */
export function memberFile(name: string, type: string, archive: string): string | null {
  const bad = (why: string) =>
    new Error(`Cannot extract ${archive}: member "${name}" ${why}; refusing this archive`);
  if (name.startsWith("/") || /^[A-Za-z]:[\\/]/.test(name)) throw bad("has an absolute path");
  if (name.split(/[\\/]/).includes("..")) throw bad('has a ".." path component');
  if (type === "1" || type === "2") throw bad(`is a ${type === "1" ? "hard" : "symbolic"} link`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length !== 2 || parts[0] !== FOLDER) return null;
  if (!(FILES as readonly string[]).includes(parts[1])) return null;
  if (type !== "0" && type !== "7") throw bad(`is not a regular file (type "${type}")`);
  return parts[1];
}

/**
 * The seven CIFAR files of a `.tar.gz` stream of `size` bytes called `archive`, each handed to
 * `take` as it is read (once; other members are skipped). Throws naming the archive when it is
 * corrupt, holds a hostile member, or lacks a file.
 */
export async function readCifarMembers(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  archive: string,
  size: number,
  take: (file: string, bytes: Uint8Array) => Promise<void> | void,
): Promise<void> {
  const got = new Set<string>();
  try {
    for await (const m of readTar(gunzip(stream))) {
      const f = memberFile(m.name, m.type, archive);
      if (f === null || got.has(f)) continue;
      await take(f, await m.bytes());
      got.add(f);
    }
  } catch (e) {
    if (e instanceof Error && e.message.startsWith(`Cannot extract ${archive}`)) throw e;
    throw new Error(
      `Cannot extract ${archive}: the archive (${size.toLocaleString("en-US")} bytes) is ` +
        `unreadable or corrupt (${(e as Error).message})`,
    );
  }
  const lacking = FILES.filter((f) => !got.has(f));
  if (lacking.length) {
    throw new Error(`Cannot extract ${archive}: it lacks ${FOLDER}/${lacking.join(", ")}`);
  }
}

/** Splits a batch file into images and labels, validating size and labels. */
function parseBatch(
  bytes: Uint8Array,
  file: string,
  where: string,
  records: number,
  into: { x: Uint8Array; y: Uint8Array; first: number },
): void {
  if (bytes.length % RECORD_BYTES !== 0) {
    throw new RangeError(
      `Cannot read CIFAR-10: ${file} in ${where} has ${bytes.length} bytes, not a whole number ` +
        `of ${RECORD_BYTES}-byte records (truncated or not CIFAR-10)`,
    );
  }
  if (bytes.length / RECORD_BYTES !== records) {
    throw new RangeError(
      `Cannot read CIFAR-10: ${file} in ${where} holds ${bytes.length / RECORD_BYTES} records, ` +
        `expected ${records}`,
    );
  }
  for (let r = 0; r < records; r++) {
    const at = r * RECORD_BYTES;
    const label = bytes[at];
    if (label > 9) {
      throw new RangeError(
        `Cannot read CIFAR-10: ${file} in ${where}: record ${r} has label ${label} (labels are 0–9)`,
      );
    }
    into.y[into.first + r] = label;
    into.x.set(bytes.subarray(at + 1, at + RECORD_BYTES), (into.first + r) * IMAGE_BYTES);
  }
}

/** "X is missing in W" / "X, Y are missing in W" for the files `read` does not have. */
export function missingMessage(missing: string[], where: string, hint: string): string {
  const what = missing.length === 1 ? `${missing[0]} is` : `${missing.join(", ")} are`;
  return `Cannot read CIFAR-10: ${what} missing in ${where}${hint ? ` (${hint})` : ""}`;
}

/**
 * Parses the seven files (as `read` gives them, by name) into the data set, validating each:
 * record counts (`records` per batch file, 10,000 in the official data), labels 0–9, ten class
 * names. Every error names the file, `where` it is, and the problem.
 */
export async function parseCifarFiles(
  read: (file: string) => Promise<Uint8Array> | Uint8Array,
  where: string,
  records = 10000,
): Promise<CifarArrays> {
  const n = records * TRAIN_FILES.length;
  const x = new Uint8Array(n * IMAGE_BYTES);
  const y = new Uint8Array(n);
  const X = new Uint8Array(records * IMAGE_BYTES);
  const Y = new Uint8Array(records);
  for (const [i, f] of TRAIN_FILES.entries()) {
    parseBatch(await read(f), f, where, records, { x, y, first: i * records });
  }
  parseBatch(await read(TEST_FILE), TEST_FILE, where, records, { x: X, y: Y, first: 0 });
  const s = new TextDecoder().decode(await read(META_FILE)).split(/\r?\n/).map((l) => l.trim())
    .filter((l) => l !== "");
  if (s.length !== 10) {
    throw new RangeError(
      `Cannot read CIFAR-10: ${META_FILE} in ${where} lists ${s.length} class names, expected 10`,
    );
  }
  return { x, y, X, Y, s, n, nTest: records };
}

/**
 * CIFAR-10 from the bytes of `cifar-10-binary.tar.gz` (a browser's File or a fetch body), read
 * in memory: the same checks and errors as the Deno loader's extraction and parsing.
 */
export async function cifarFromArchive(
  blob: Blob,
  archive: string,
  records = 10000,
): Promise<CifarArrays> {
  checkGzipSignature(new Uint8Array(await blob.slice(0, 2).arrayBuffer()), archive);
  const files = new Map<string, Uint8Array>();
  await readCifarMembers(blob.stream(), archive, blob.size, (f, bytes) => void files.set(f, bytes));
  return parseCifarFiles((f) => files.get(f)!, `${archive}/${FOLDER}`, records);
}
