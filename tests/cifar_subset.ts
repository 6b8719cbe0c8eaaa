// A small CIFAR-10 archive made from the real data: the first `records` records of each batch
// file, in the official layout (cifar-10-batches-bin/…, gzip), for tests that need real images
// but not 170 MB of them.
import { type Cifar10, cifar10, RECORD_BYTES } from "../data/cifar10.ts";
import { FILES } from "../data/archive.ts";
import { gzip, members, writeTar } from "./cifar_fixture.ts";

/** The subset's archive bytes, and the real data it was cut from. */
export async function realSubsetArchive(
  source: string,
  records: number,
): Promise<{ gz: Uint8Array<ArrayBuffer>; data: Cifar10 }> {
  const d = await cifar10({ dir: source, log: () => {} });
  const files = new Map<string, Uint8Array>();
  const batch = (x: Uint8Array, y: Uint8Array, first: number) => {
    const out = new Uint8Array(records * RECORD_BYTES);
    for (let r = 0; r < records; r++) {
      out[r * RECORD_BYTES] = y[first + r];
      out.set(x.subarray((first + r) * 3072, (first + r + 1) * 3072), r * RECORD_BYTES + 1);
    }
    return out;
  };
  // data_batch_k holds training images 10,000·(k−1) onwards.
  for (let k = 0; k < 5; k++) files.set(FILES[k], batch(d.x, d.y, k * 10000));
  files.set("test_batch.bin", batch(d.X, d.Y, 0));
  files.set("batches.meta.txt", new TextEncoder().encode(d.s.join("\n") + "\n"));
  return { gz: await gzip(writeTar(members(files))), data: d };
}
