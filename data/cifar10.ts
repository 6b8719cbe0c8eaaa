// CIFAR-10 loader: the official binary layout from a folder, an archive, a URL or a download, validated.
import { missingFiles } from "./archive.ts";
import {
  type CifarArrays,
  IMAGE_BYTES,
  missingMessage,
  parseCifarFiles,
  RECORD_BYTES,
} from "./cifar_files.ts";
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

export { IMAGE_BYTES, RECORD_BYTES };

/** The data set in memory, as the reference loader's `cifar10[]` returns it. */
export interface Cifar10 extends CifarArrays {
  /** The folder the files were read from. */
  dir: string;
}

/** Options for {@linkcode cifar10}: where the data is ({@linkcode SourceOptions}), and its size. */
export interface Cifar10Options extends SourceOptions {
  /** Records each batch file must hold (default 10,000; smaller for test fixtures). */
  recordsPerFile?: number;
}

const HINT = "give --data PATH (a folder, cifar-10-binary.tar.gz or its URL) or set CIFAR10_DIR";

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
  if (missing.length) throw new Error(missingMessage(missing, dir, HINT));
  const d = await parseCifarFiles((f) => Deno.readFile(`${dir}/${f}`), dir, options.recordsPerFile);
  return { ...d, dir };
}
