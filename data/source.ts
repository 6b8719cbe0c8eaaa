// Which CIFAR-10 data a run uses: the given folder/archive/URL, $CIFAR10_DIR, ./data or a download.
import {
  ARCHIVE,
  cacheDir,
  CIFAR10_MD5,
  CIFAR10_URL,
  describeArchive,
  extractArchive,
  FILES,
  FOLDER,
  join,
  missingFiles,
  readManifest,
} from "./archive.ts";
import { downloadArchive } from "./download.ts";
import { removeStale } from "../engine/files.ts";

/** Where to find the data and what to do when it is not there (part of `Cifar10Options`). */
export interface SourceOptions {
  /**
   * A folder with the seven files (or one holding `cifar-10-batches-bin/` or
   * `cifar-10-binary.tar.gz`), an archive, or an http(s) URL of one. Default: $CIFAR10_DIR,
   * else ./data, else a download of the official archive into ./data.
   */
  dir?: string;
  /** Same as `dir`, for callers that know they hold an archive path or URL (`dir` wins). */
  archive?: string;
  /**
   * Where to extract an archive (default: ./data for the archive found in or downloaded to
   * ./data, else the user's cache folder: `$XDG_CACHE_HOME/resnet-webgpu` or `~/.cache/…`).
   */
  extractTo?: string;
  /** Expected MD5 of a downloaded archive (default: the official one). */
  md5?: string;
  /** Never download (offline machines): without local data the error says what to do. */
  noDownload?: boolean;
  /** Where to download from when no data is found (default: the official URL). */
  url?: string;
  /** Draw the download's progress bar (default: when stderr is a terminal). */
  terminal?: boolean;
  /** Info lines: the one line saying which data is used (default: console.error). */
  log?: (line: string) => void;
}

const FLAGS = "give --data PATH (a folder, cifar-10-binary.tar.gz or its URL) or set CIFAR10_DIR";

async function stat(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch {
    return null;
  }
}

async function writable(root: string): Promise<boolean> {
  try {
    await Deno.mkdir(root, { recursive: true });
    const probe = join(root, `.write-probe-${Deno.pid}`);
    await Deno.writeFile(probe, new Uint8Array(0));
    await Deno.remove(probe);
    return true;
  } catch {
    return false;
  }
}

/** Logs the folder in use, with the archive it was extracted from when it records one. */
async function useFolder(dir: string, log: (l: string) => void): Promise<string> {
  const m = await readManifest(dir);
  const from = m ? `, extracted from ${m.archive} (${describeArchive(m.size, m.md5)})` : "";
  if ((await missingFiles(dir)).length === 0) log(`CIFAR-10: using ${dir}${from}`);
  return dir;
}

/** A folder given as the data: the files, `cifar-10-batches-bin/`, or an archive in it. */
async function fromFolder(source: string, o: SourceOptions, extractTo: string): Promise<string> {
  const log = o.log ?? ((s: string) => console.error(s));
  const dir = source.replace(/\/+$/, "") || "/";
  if ((await missingFiles(dir)).length === 0) return useFolder(dir, log);
  const sub = join(dir, FOLDER);
  const archive = join(dir, ARCHIVE);
  const hasArchive = (await stat(archive))?.isFile ?? false;
  const subComplete = (await missingFiles(sub)).length === 0;
  // An extraction beside its archive is checked against it; a folder of the user's is used.
  if (subComplete && !(hasArchive && (await readManifest(sub)))) return useFolder(sub, log);
  if (hasArchive) return extractArchive(archive, { extractTo, log });
  if ((await stat(sub))?.isDirectory) return sub; // the caller reports which files it lacks
  if ((await missingFiles(dir)).length < FILES.length) return dir;
  throw new Error(
    `Cannot read CIFAR-10: ${dir} holds neither the CIFAR-10 files, nor ${FOLDER}/, nor ${ARCHIVE}`,
  );
}

/** A folder, archive or URL given (or in $CIFAR10_DIR): the folder it provides. */
async function fromSource(source: string, o: SourceOptions): Promise<string> {
  const log = o.log ?? ((s: string) => console.error(s));
  if (/^https?:\/\//i.test(source)) {
    if (o.noDownload) {
      throw new Error(`Cannot download ${source}: downloading is off (--no-download)`);
    }
    const dir = o.extractTo ?? ((await writable("data")) ? "data" : cacheDir());
    const archive = await downloadArchive(source, { dir, md5: o.md5, log, terminal: o.terminal });
    return extractArchive(archive, { extractTo: o.extractTo ?? dir, log });
  }
  const st = await stat(source);
  if (st?.isFile) return extractArchive(source, { extractTo: o.extractTo, log });
  if (st?.isDirectory) return fromFolder(source, o, o.extractTo ?? cacheDir());
  throw new Error(`Cannot read CIFAR-10: ${source} does not exist (${FLAGS})`);
}

/**
 * Resolves the options to the folder holding the seven files and logs one line saying which
 * data that is (and where it came from). With no `dir`/`archive`: $CIFAR10_DIR, else ./data, else
 * the official archive is downloaded into ./data (or the cache folder when ./data is not
 * writable), its MD5 checked and extracted; `noDownload` turns that last step into an error that
 * names the URL and the flags.
 */
export async function resolveData(o: SourceOptions): Promise<string> {
  const given = o.dir ?? o.archive;
  if (given !== undefined) return fromSource(given, o);
  const env = Deno.env.get("CIFAR10_DIR");
  if (env) return fromSource(env, o);
  const local = (await missingFiles(join("data", FOLDER))).length === 0 ||
    (await stat(join("data", ARCHIVE)))?.isFile;
  const here = async () => (await writable("data")) ? "data" : cacheDir();
  if (local) {
    await removeStale("data").catch(() => {}); // litter of killed runs; not essential
    return fromFolder("data", o, o.extractTo ?? (await here()));
  }
  const url = o.url ?? CIFAR10_URL;
  const md5 = o.md5 ?? CIFAR10_MD5;
  if (o.noDownload) {
    throw new Error(
      `Cannot find CIFAR-10: no data given, $CIFAR10_DIR is not set, ./data holds neither ` +
        `${FOLDER}/ nor ${ARCHIVE}, and downloading is off (--no-download); download ${url} ` +
        `(MD5 ${md5}) and ${FLAGS}`,
    );
  }
  const log = o.log ?? ((s: string) => console.error(s));
  const existed = (await stat("data")) !== null;
  const dir = await here();
  let archive: string;
  try {
    archive = await downloadArchive(url, { dir, md5, log, terminal: o.terminal });
  } catch (e) {
    if (!existed) await Deno.remove("data").catch(() => {}); // only if still empty
    throw new Error(`${(e as Error).message} (to use a local copy, ${FLAGS})`, { cause: e });
  }
  return extractArchive(archive, { extractTo: o.extractTo ?? dir, log });
}
