// A full disk at a checkpoint, for real: the training task writing into a small tmpfs.
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { realCifarSource } from "./helpers.ts";
import { readCheckpointMetadata } from "../models/checkpoint_file.ts";
import { epochLines, RUN, run, SMALL } from "./train_process.ts";

const source = realCifarSource();

async function sh(cmd: string, ...args: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { ok: r.success, text: (dec.decode(r.stdout) + dec.decode(r.stderr)).trim() };
  } catch (e) {
    return { ok: false, text: (e as Error).message };
  }
}

Deno.test({
  name:
    "train task: a full disk at a checkpoint stops the run naming the file, bytes and step; the previous checkpoint is intact and --resume finishes the same",
  sanitizeOps: false,
  sanitizeResources: false,
  ignore: !source,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    const mnt = `${tmp}/small`;
    let mounted = false;
    const base = [...RUN, ...SMALL, "--data", source!, "--quiet", "--epochs", "2"];
    try {
      // The uninterrupted run (on the ordinary disk): its epoch lines and its checkpoint's size.
      const full = await run(tmp, [...base, "--checkpoint", "ref.safetensors"]);
      assertEquals(full.code, 0, full.err);
      const S = (await Deno.stat(`${tmp}/ref.safetensors`)).size;

      // A tmpfs of 1.5 checkpoints: epoch 1's checkpoint fits, epoch 2's temp file beside it not.
      await Deno.mkdir(mnt);
      const size = Math.ceil((1.5 * S) / 4096) * 4096;
      const m = await sh("mount", "-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mnt);
      if (!m.ok) {
        console.error(
          `\n!!! SKIPPED: cannot mount a tmpfs here (${m.text}); the full-disk test did not run !!!\n`,
        );
        return;
      }
      mounted = true;
      const ck = `${mnt}/ck.safetensors`;
      const failed = await run(tmp, [...base, "--checkpoint", ck]);
      assertEquals(failed.code, 1, failed.err);
      // Epoch 2's line is printed, then its checkpoint write fails.
      assertEquals(epochLines(failed.out), epochLines(full.out));
      const error = failed.err.split("\n").filter((l) => l.startsWith("error:"));
      assertEquals(error.length, 1, failed.err);
      assertStringIncludes(
        error[0],
        `error: Cannot write ${ck}: No space left on device (os error 28) while writing its ${
          S.toLocaleString("en-US")
        } bytes (`,
      );
      assertStringIncludes(
        error[0],
        `; the temporary file was removed, ${ck} is as it was; the run stopped in epoch 2: the last good checkpoint is ${ck}: resume with --resume ${ck} once there is room`,
      );
      // Nothing half-written is left, and the checkpoint is epoch 1's, whole.
      const names = [...Deno.readDirSync(mnt)].map((e) => e.name);
      assert(!names.some((n) => n.includes(".tmp-")), `temp file left: ${names}`);
      assert(!names.includes("ck.safetensors.lock"), "the lock goes with the error");
      const meta = await readCheckpointMetadata(ck);
      assertEquals(JSON.parse(meta!.position).epoch, 1);
      assertEquals((await Deno.stat(ck)).size, S);

      // Room again: --resume finishes epoch 2 as the uninterrupted run did.
      const grown = await sh("mount", "-o", `remount,size=${8 * size}`, mnt);
      assert(grown.ok, grown.text);
      const resumed = await run(tmp, [...base, "--resume", ck]);
      assertEquals(resumed.code, 0, resumed.err);
      assertEquals(epochLines(resumed.out), epochLines(full.out).slice(1));
    } finally {
      if (mounted) await sh("umount", mnt);
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
