// Synthetic CIFAR-10 files and archives for the data tests (written to temp folders).
import { createHash } from "node:crypto";
import { rng } from "./helpers.ts";
import { IMAGE_BYTES, RECORD_BYTES } from "../data/cifar10.ts";
import { FILES, FOLDER } from "../data/archive.ts";

export const NAMES = "airplane automobile bird cat deer dog frog horse ship truck".split(" ");
export const R = 7; // records per synthetic batch file

/** Synthetic files and the arrays a loader must return for them. */
export interface Synth {
  files: Map<string, Uint8Array>;
  x: Uint8Array;
  y: Uint8Array;
  X: Uint8Array;
  Y: Uint8Array;
}

/** Random batch files of `records` records each, plus the meta file. */
export function synth(records: number, seed: number): Synth {
  const r = rng(seed);
  const files = new Map<string, Uint8Array>();
  const x = new Uint8Array(5 * records * IMAGE_BYTES);
  const y = new Uint8Array(5 * records);
  const X = new Uint8Array(records * IMAGE_BYTES);
  const Y = new Uint8Array(records);
  FILES.slice(0, 6).forEach((f, i) => {
    const bytes = new Uint8Array(records * RECORD_BYTES);
    for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(r() * 256);
    for (let rec = 0; rec < records; rec++) {
      const label = Math.floor(r() * 10);
      bytes[rec * RECORD_BYTES] = label;
      const img = bytes.subarray(rec * RECORD_BYTES + 1, (rec + 1) * RECORD_BYTES);
      if (i < 5) {
        y[i * records + rec] = label;
        x.set(img, (i * records + rec) * IMAGE_BYTES);
      } else {
        Y[rec] = label;
        X.set(img, rec * IMAGE_BYTES);
      }
    }
    files.set(f, bytes);
  });
  files.set("batches.meta.txt", new TextEncoder().encode(NAMES.join("\n") + "\n\n"));
  return { files, x, y, X, Y };
}

export async function writeFolder(dir: string, files: Map<string, Uint8Array>): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [f, bytes] of files) await Deno.writeFile(`${dir}/${f}`, bytes);
}

export async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export function members(files: Map<string, Uint8Array>, extra: TarMember[] = []) {
  return [
    { name: `${FOLDER}/`, type: "5" },
    ...extra,
    ...[...files].map(([f, data]) => ({ name: `${FOLDER}/${f}`, data })),
    { name: `${FOLDER}/readme.html`, data: new TextEncoder().encode("<html></html>") },
  ];
}

/** A valid synthetic archive (random files of R records), its bytes and their MD5. */
export async function archiveOf(
  seed: number,
): Promise<{ s: Synth; gz: Uint8Array<ArrayBuffer>; md5: string }> {
  const s = synth(R, seed);
  const gz = await gzip(writeTar(members(s.files)));
  return { s, gz, md5: createHash("md5").update(gz).digest("hex") };
}

/** Runs fn with environment variables set (undefined: unset), then restores them. */
export async function withEnv(
  vars: Record<string, string | undefined>,
  fn: () => Promise<void>,
): Promise<void> {
  const saved = Object.keys(vars).map((k) => [k, Deno.env.get(k)] as const);
  const put = (k: string, v: string | undefined) =>
    v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  for (const [k, v] of Object.entries(vars)) put(k, v);
  try {
    await fn();
  } finally {
    for (const [k, v] of saved) put(k, v);
  }
}

/** Runs fn with `dir` as the working directory, then goes back. */
export async function inDir(dir: string, fn: () => Promise<void>): Promise<void> {
  const cwd = Deno.cwd();
  Deno.chdir(dir);
  try {
    await fn();
  } finally {
    Deno.chdir(cwd);
  }
}

export async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cifar_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** One member for {@linkcode writeTar}. */
export interface TarMember {
  name: string;
  data?: Uint8Array;
  type?: string;
  linkName?: string;
}

/** A tar archive in memory (ustar headers): regular files, links, directories, GNU long names. */
export function writeTar(members: TarMember[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  const BLOCK = 512;
  const enc = new TextEncoder();
  for (const m of members) {
    const data = m.data ?? new Uint8Array(0);
    const h = new Uint8Array(BLOCK);
    const put = (s: string, at: number, len: number) => h.set(enc.encode(s).subarray(0, len), at);
    put(m.name, 0, 100);
    put("0000644\0", 100, 8);
    put("0000000\0", 108, 8);
    put("0000000\0", 116, 8);
    put(data.length.toString(8).padStart(11, "0") + "\0", 124, 12);
    put("00000000000\0", 136, 12);
    put(m.type ?? "0", 156, 1);
    put(m.linkName ?? "", 157, 100);
    put("ustar\0" + "00", 257, 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
    parts.push(h, data, new Uint8Array((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
