// The trainer's pure parts: schedule, the published log line, the mistakes table, flags.
import { CIFAR10_CLASSES } from "../data/cifar10.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { cosineLr } from "../engine/train/schedule.ts";
import {
  clock,
  epochLine,
  mistakesTable,
  perClassTable,
  topMistakes,
} from "../engine/train/format.ts";
import { parseTrainFlags, usage } from "../tasks/train_flags.ts";

Deno.test("cosine schedule over 60 epochs gives the published learning rates", () => {
  const lrs = Array.from({ length: 60 }, (_, k) => cosineLr(k, 60).toFixed(6));
  assertEquals(lrs.slice(0, 7), [
    "0.080000",
    "0.079945",
    "0.079781",
    "0.079508",
    "0.079126",
    "0.078637",
    "0.078042",
  ]);
  assertEquals(lrs.slice(57), ["0.000492", "0.000219", "0.000055"]);
  // the wide recipe's 200 epochs (the published log: epochs 1, 2, 100, 101, 200)
  assertEquals([0, 1, 99, 100, 199].map((k) => cosineLr(k, 200).toFixed(6)), [
    "0.080000",
    "0.079995",
    "0.040628",
    "0.040000",
    "0.000005",
  ]);
  assertThrows(() => cosineLr(60, 60), RangeError, "outside");
});

Deno.test("the epoch line has the published widths", () => {
  const time = new Date(2020, 4, 4, 19, 0, 52);
  assertEquals(
    epochLine({ epoch: 1, lr: 0.08, loss: 1.395746, testLoss: 1.0029, accuracy: 64.97, time }),
    "   1. lr: 0.080000 loss: 1.395746 test: 1.0029 accuracy: 64.97% 19:00:52",
  );
  assertEquals(
    epochLine({
      epoch: 200,
      lr: 0.000005,
      loss: 0.502738,
      testLoss: 0.6099,
      accuracy: 96.17,
      time,
    }),
    " 200. lr: 0.000005 loss: 0.502738 test: 0.6099 accuracy: 96.17% 19:00:52",
  );
  assertEquals(clock(new Date(2020, 0, 1, 7, 5, 3)), "07:05:03");
});

const NAMES = CIFAR10_CLASSES;

function confusionFrom(pairs: [number, number, number][]): Uint32Array {
  const c = new Uint32Array(100);
  for (let y = 0; y < 10; y++) c[y * 10 + y] = 900;
  for (const [y, p, n] of pairs) c[y * 10 + p] += n;
  return c;
}

Deno.test("the mistakes table lists the most frequent (true, predicted) pairs with names", () => {
  const c = confusionFrom([
    [5, 3, 82],
    [3, 5, 65],
    [3, 2, 30],
    [2, 0, 30],
    [9, 1, 27],
    [0, 8, 26],
    [2, 4, 25],
    [6, 3, 24],
    [1, 9, 22],
    [3, 6, 22],
    [7, 4, 3],
  ]);
  const top = topMistakes(c, 10);
  assertEquals(top.length, 10);
  assertEquals(top[0], { y: 5, yhat: 3, n: 82 });
  assertEquals(top[2], { y: 2, yhat: 0, n: 30 }, "ties sorted by true class");
  assert(!top.some((r) => r.n === 3), "the 11th mistake is left out");
  const lines = mistakesTable(c, NAMES).split("\n");
  assertEquals(lines[0], "y          yhat      | n");
  assertEquals(lines[1], "---------------------| --");
  assertEquals(lines[2], "dog        cat       | 82");
  assertEquals(lines[6], "truck      automobile| 27");
  assertEquals(lines.length, 12);
});

Deno.test("per-class accuracy reads the confusion rows", () => {
  const c = confusionFrom([[5, 3, 100]]);
  const lines = perClassTable(c, NAMES).split("\n");
  assertEquals(lines[6], "dog          900 /  1000  90.00%");
  assertEquals(lines[1], "airplane     900 /   900 100.00%");
});

Deno.test("flags: defaults, overrides and errors that name the flag", () => {
  const res = parseTrainFlags("res", []);
  assert(res !== "help");
  assertEquals([res.epochs, res.batch, res.width, res.limit, res.checkpoint], [
    60,
    125,
    64,
    null,
    "runs/res.safetensors",
  ]);
  const wide = parseTrainFlags("wide", [
    "--depth",
    "10",
    "--width",
    "2",
    "--dropout",
    "0",
    "--epochs",
    "4",
    "--limit",
    "10000",
  ]);
  assert(wide !== "help");
  assertEquals([wide.depth, wide.width, wide.dropout, wide.epochs, wide.limit], [
    10,
    2,
    0,
    4,
    10000,
  ]);
  assertEquals(parseTrainFlags("wide", ["--help"]), "help");
  assertThrows(() => parseTrainFlags("res", ["--epochs", "0"]), RangeError, "--epochs");
  assertThrows(() => parseTrainFlags("res", ["--epochs", "two"]), RangeError, "--epochs");
  assertThrows(() => parseTrainFlags("wide", ["--depth", "12"]), RangeError, "6k+4");
  assertThrows(() => parseTrainFlags("wide", ["--dropout", "1"]), RangeError, "--dropout");
  assertThrows(() => parseTrainFlags("res", ["--depth", "10"]), TypeError, "train:wide");
  assertThrows(() => parseTrainFlags("res", ["--bogus"]));
  assert(usage("wide").includes("--dropout P"));
});
