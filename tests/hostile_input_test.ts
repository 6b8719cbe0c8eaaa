// Files from strangers: images whose headers lie or end early (predict), damaged metrics (report).
import { assert, assertEquals, assertStringIncludes, assertThrows } from "./assert.ts";
import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import { decodeImage, imageHeader } from "../data/image.ts";
import { Engine } from "../engine/engine.ts";
import { module } from "../models/module.ts";
import { widenet } from "../models/widenet.ts";
import { saveCheckpoint } from "../models/checkpoint.ts";
import { type EpochRecord, logLine, type RunHeader } from "../tasks/run_log.ts";
import { RunRecorder } from "../tasks/run_recorder.ts";

const NAMES = "airplane automobile bird cat deer dog frog horse ship truck".split(" ");

/** A PNG whose IHDR declares `w`×`h` (CRC and all) but whose data is a few bytes. */
function lyingPng(w: number, h: number): Uint8Array {
  const small = encodePng({ width: 1, height: 1, data: new Uint8Array(3), channels: 3 });
  const out = small.slice();
  const view = new DataView(out.buffer);
  view.setUint32(16, w);
  view.setUint32(20, h);
  return out;
}

/** A JPEG whose frame header (SOF0) declares `w`×`h`, then ends. */
function lyingJpeg(w: number, h: number): Uint8Array {
  const sof = [0xff, 0xc0, 0, 17, 8, h >> 8, h & 255, w >> 8, w & 255, 3];
  for (let c = 1; c <= 3; c++) sof.push(c, 0x11, 0);
  return new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, ...sof, 0xff, 0xd9]);
}

const png8 = encodePng({ width: 8, height: 6, data: new Uint8Array(144), channels: 3 });
const jpg8 = new Uint8Array(
  jpeg.encode({ width: 8, height: 6, data: new Uint8Array(192).fill(90) }, 90).data,
);

/** Each hostile file, and the words its refusal must hold (after "Cannot read … NAME: "). */
const HOSTILE: [string, Uint8Array, string][] = [
  [
    "huge.png",
    lyingPng(60000, 60000),
    "Cannot read PNG image DIR/huge.png: it declares 60000×60000 pixels (3600 megapixels), over the 100-megapixel limit; nothing was decoded",
  ],
  [
    "huge.jpg",
    lyingJpeg(60000, 60000),
    "Cannot read JPEG image DIR/huge.jpg: it declares 60000×60000 pixels (3600 megapixels), over the 100-megapixel limit; nothing was decoded",
  ],
  ["empty.png", new Uint8Array(0), "Cannot read image DIR/empty.png: the file is empty"],
  [
    "head.png",
    png8.subarray(0, 20),
    "Cannot read PNG image DIR/head.png: it is truncated (20 bytes; a PNG header needs 33)",
  ],
  [
    "head.jpg",
    jpg8.subarray(0, 30),
    "Cannot read JPEG image DIR/head.jpg: it is truncated (30 bytes, no frame header (SOF) yet)",
  ],
  ["cut.png", png8.subarray(0, png8.length - 20), "Cannot decode PNG image DIR/cut.png:"],
  ["zero.png", lyingPng(0, 5), "Cannot read PNG image DIR/zero.png: it declares 0×5 pixels"],
  [
    "notes.png",
    new TextEncoder().encode("just text"),
    "Cannot read image DIR/notes.png: not a PNG or JPEG file (it starts with 6a 75 73 74)",
  ],
];

Deno.test("image headers: sizes read from PNG IHDR and JPEG SOF before decoding; lies and cuts named", () => {
  assertEquals(imageHeader(png8, "a.png"), { kind: "PNG", width: 8, height: 6 });
  assertEquals(imageHeader(jpg8, "a.jpg"), { kind: "JPEG", width: 8, height: 6 });
  assertEquals(imageHeader(lyingJpeg(640, 480), "b.jpg"), {
    kind: "JPEG",
    width: 640,
    height: 480,
  });
  for (const [name, bytes, message] of HOSTILE) {
    const want = message.replaceAll("DIR/", "");
    const e = assertThrows(() => decodeImage(bytes, name), Error);
    assert(e.message.startsWith(want), `${name}: ${e.message}`);
    assert(!e.message.includes("\n"), `one line: ${e.message}`);
  }
});

Deno.test({
  name: "predict task: each hostile image is refused naming the file, before the GPU starts",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const e = await Engine.create();
      const ckpt = `${tmp}/m.safetensors`;
      try {
        const m = module(e, widenet(10, 1, 0, 10), { seed: 1 });
        await saveCheckpoint(m, ckpt, { stats: { mean: [120, 120, 110], std: [60, 60, 65] } });
      } finally {
        await e.close();
      }
      await Deno.writeFile(`${tmp}/fine.png`, png8);
      for (const [name, bytes, message] of HOSTILE) {
        await Deno.writeFile(`${tmp}/${name}`, bytes);
        // A good image first: the run still stops at the bad one, printing nothing else.
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "tasks/predict.ts",
            "--checkpoint",
            ckpt,
            `${tmp}/fine.png`,
            `${tmp}/${name}`,
          ],
          cwd: new URL("..", import.meta.url).pathname,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const err = new TextDecoder().decode(out.stderr).trim();
        assertEquals(out.code, 1, `${name}: ${err}`);
        assertEquals(err.split("\n").length, 1, err);
        assertStringIncludes(err, `error: ${message.replaceAll("DIR", tmp)}`);
        assertEquals(
          new TextDecoder().decode(out.stdout),
          "",
          "no adapter line: the GPU never started",
        );
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

function header(resumedAt: number): RunHeader {
  return {
    run: { task: "train:wide", epochs: 3 },
    adapter: "WebGPU: test adapter",
    classes: NAMES,
    started: "2026-12-05T10:00:00.000Z",
    resumedAt,
  };
}

function epoch(e: number): EpochRecord {
  const confusion = Array.from({ length: 100 }, (_, i) => (i * 7 + e) % 13);
  return {
    epoch: e,
    lr: 0.08 / e,
    loss: 2 / e,
    testLoss: 2.1 / e,
    accuracy: 10 * e,
    seconds: 3,
    imagesPerSecond: 50,
    confusion,
  };
}

Deno.test({
  name:
    "report: a damaged metrics line is skipped with a warning naming it, by the task and during training",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    try {
      // A run killed mid-append (line 3 cut), then resumed: its header and epoch follow the cut.
      const cut = logLine(epoch(2)).slice(0, 30);
      const text = logLine(header(0)) + logLine(epoch(1)) + cut + "\n" + logLine(header(1)) +
        logLine(epoch(2)) + "{not json at all\n" + logLine(epoch(3));
      await Deno.writeTextFile(`${tmp}/m.jsonl`, text);
      const report = (args: string[]) =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "tasks/report.ts", ...args],
          cwd: new URL("..", import.meta.url).pathname,
          stdout: "piped",
          stderr: "piped",
        }).output();
      const ok = await report([`${tmp}/m.jsonl`]);
      const dec = new TextDecoder();
      assertEquals(ok.code, 0, dec.decode(ok.stderr));
      assertEquals(dec.decode(ok.stderr).trim().split("\n"), [
        `warning: metrics ${tmp}/m.jsonl: line 3 is not JSON: ${cut} (skipped)`,
        `warning: metrics ${tmp}/m.jsonl: line 6 is not JSON: {not json at all (skipped)`,
      ]);
      assertStringIncludes(dec.decode(ok.stdout), `wrote ${tmp}/m.html (3 epochs)`);
      // Nothing readable: refused, naming the first bad line, one line, exit 1.
      await Deno.writeTextFile(`${tmp}/bad.jsonl`, cut + "\n");
      const bad = await report([`${tmp}/bad.jsonl`]);
      assertEquals(bad.code, 1);
      assertEquals(
        dec.decode(bad.stderr).trim(),
        `error: Cannot read metrics ${tmp}/bad.jsonl: line 1 is not JSON: ${cut}`,
      );

      // During training: the recorder appends after the damage and warns once per broken line.
      await Deno.writeTextFile(`${tmp}/r.jsonl`, logLine(header(0)) + logLine(epoch(1)) + cut);
      const warnings: string[] = [];
      const error = console.error;
      console.error = (line: string) => warnings.push(line);
      try {
        const { resumedAt: _r, ...h } = header(0);
        const rec = new RunRecorder(`${tmp}/r.jsonl`, `${tmp}/r.html`, h, { resumed: true });
        for (const e of [2, 3]) {
          await rec.epoch({ ...epoch(e), confusion: new Uint32Array(epoch(e).confusion!) });
        }
      } finally {
        console.error = error;
      }
      // The cut line and the next header share line 3 (no newline after the cut).
      assertEquals(warnings.length, 1, warnings.join("\n"));
      assertStringIncludes(warnings[0], `warning: metrics ${tmp}/r.jsonl: line 3 is not JSON`);
      const page = await Deno.readTextFile(`${tmp}/r.html`);
      assert(page.length > 1000, "the page was written");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
