// A tiny streaming tar reader (ustar/GNU/pax headers, 512-byte blocks) and a gunzip helper.

/** One member of a tar archive, yielded by {@linkcode readTar}. */
export interface TarEntry {
  /** Path inside the archive, pax/GNU long names applied, as stored (not normalised). */
  name: string;
  /** Type flag: "0" file, "1" hard link, "2" symlink, "5" directory, … ("0" for the old "\0"). */
  type: string;
  /** Link target for link types ("" otherwise). */
  linkName: string;
  /** Bytes of data. */
  size: number;
  /** Reads the member's data (call at most once, before asking for the next entry). */
  bytes(): Promise<Uint8Array>;
}

const BLOCK = 512;

/** Pulls exact byte counts out of a stream of chunks. */
class ByteReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #pos = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** Exactly n bytes; null at a clean end of stream; throws when the stream ends inside them. */
  async read(n: number, skip = false): Promise<Uint8Array | null> {
    const out = skip ? null : new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (this.#pos === this.#chunk.length) {
        const { value, done } = await this.#reader.read();
        if (done) {
          if (got === 0 && n > 0) return null;
          throw new RangeError(`the data ends early (${got} of ${n} bytes of a block)`);
        }
        this.#chunk = value;
        this.#pos = 0;
        continue;
      }
      const take = Math.min(n - got, this.#chunk.length - this.#pos);
      out?.set(this.#chunk.subarray(this.#pos, this.#pos + take), got);
      this.#pos += take;
      got += take;
    }
    return out ?? new Uint8Array(0);
  }

  /** Reads to the end of the stream (so a gzip trailer's CRC is checked). */
  async drain(): Promise<void> {
    this.#pos = this.#chunk.length;
    while (!(await this.#reader.read()).done);
  }

  cancel(): Promise<void> {
    return this.#reader.cancel().catch(() => {});
  }
}

function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
}

function octal(block: Uint8Array, start: number, length: number, what: string): number {
  if (block[start] & 0x80) { // GNU base-256 for large sizes
    let v = block[start] & 0x7f;
    for (let i = 1; i < length; i++) v = v * 256 + block[start + i];
    return v;
  }
  const s = text(block, start, length).trim();
  if (!/^[0-7]*$/.test(s)) throw new SyntaxError(`bad ${what} field "${s}" in a tar header`);
  return s === "" ? 0 : parseInt(s, 8);
}

function checkHeader(block: Uint8Array): void {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  const stored = octal(block, 148, 8, "checksum");
  if (stored !== sum) {
    throw new SyntaxError(`tar header checksum mismatch (stored ${stored}, computed ${sum})`);
  }
}

/** Parses pax extended-header records ("LEN key=value\n"). */
function paxRecords(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const s = new TextDecoder().decode(data);
  let i = 0;
  while (i < s.length) {
    const space = s.indexOf(" ", i);
    const len = parseInt(s.slice(i, space), 10);
    if (space < 0 || !(len > 0)) break;
    const record = s.slice(space + 1, i + len - 1);
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    i += len;
  }
  return out;
}

/**
 * Yields the members of a tar stream in order. Unread member data is skipped.
 * Throws SyntaxError/RangeError on a bad header checksum or a stream that ends inside a member.
 */
export async function* readTar(stream: ReadableStream<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(stream);
  let longName: string | null = null;
  let longLink: string | null = null;
  try {
    while (true) {
      const block = await r.read(BLOCK);
      if (!block) return;
      if (block.every((b) => b === 0)) { // end-of-archive blocks: read the rest to surface errors
        await r.drain();
        return;
      }
      checkHeader(block);
      const size = octal(block, 124, 12, "size");
      const type = String.fromCharCode(block[156] || 0x30);
      const magic = text(block, 257, 6);
      const prefix = magic.startsWith("ustar") ? text(block, 345, 155) : "";
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      let consumed = false;
      const bytes = async (): Promise<Uint8Array> => {
        if (consumed) throw new Error("tar entry data was already read");
        consumed = true;
        const data = (await r.read(padded)) ?? new Uint8Array(0);
        if (data.length < size) throw new RangeError("the data ends early inside a member");
        return data.subarray(0, size);
      };
      if (type === "L" || type === "K" || type === "x") {
        const data = new TextDecoder().decode(await bytes());
        if (type === "L") longName = data.replace(/\0+$/, "");
        else if (type === "K") longLink = data.replace(/\0+$/, "");
        else {
          const pax = paxRecords(new TextEncoder().encode(data));
          longName = pax.get("path") ?? longName;
          longLink = pax.get("linkpath") ?? longLink;
        }
        continue;
      }
      if (type === "g") {
        await bytes();
        continue;
      }
      const name = longName ?? (prefix ? `${prefix}/` : "") + text(block, 0, 100);
      const linkName = longLink ?? text(block, 157, 100);
      longName = longLink = null;
      yield { name, type, linkName, size, bytes };
      if (!consumed) await r.read(padded, true);
    }
  } finally {
    await r.cancel();
  }
}

/** The bytes of a .gz stream, decompressed (errors surface while reading). */
export function gunzip(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
): ReadableStream<Uint8Array> {
  return stream.pipeThrough<Uint8Array>(new DecompressionStream("gzip"));
}
