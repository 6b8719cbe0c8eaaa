/// <reference lib="dom" />
// The training page: data, model and run settings, start / pause / resume, progress, the epoch
// lines, curves and confusion matrix, downloads. Every failure is a message on the page.
import { Engine } from "../engine/engine.ts";
import { describeGpu } from "../engine/device.ts";
import { duration } from "../engine/train/format.ts";
import { decodeCheckpoint } from "../models/checkpoint_store.ts";
import {
  dataFromFile,
  dataFromServer,
  expectedRecords,
  type PageData,
  type ServeConfig,
} from "./data.ts";
import { describePreset, preset, presetOfSpec, PRESETS } from "./presets.ts";
import { type RunChoices, Session } from "./session.ts";
import { drawConfusion, drawCurves } from "./charts.ts";
import { clearMessage, deviceLost, explain, noWebGpu, showMessage } from "./messages.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);
const count = (n: number) => n.toLocaleString("en-US");

let engine: Engine | null = null;
let data: PageData | null = null;
let session: Session | null = null;
let running = false;
let lost = false;
const records = (() => {
  try {
    return expectedRecords(location.search);
  } catch (e) {
    showMessage((e as Error).message);
    return 10000;
  }
})();

/** Enables the buttons that make sense now. */
function refresh(): void {
  const ready = !!engine && !!data && !lost;
  $<HTMLButtonElement>("start").disabled = !ready || running;
  $<HTMLButtonElement>("pause").disabled = !running;
  const paused = !!session && !running && session.checkpoint() !== undefined &&
    session.epochs.length < session.choices.epochs;
  $<HTMLButtonElement>("resume").disabled = !ready || !paused;
  input("resume-file").disabled = !ready || running;
  $("resume-file-label").classList.toggle("disabled", !ready || running);
  for (const id of ["preset", "epochs", "batch", "seed", "limit", "test-limit"]) {
    ($(id) as HTMLInputElement).disabled = running;
  }
}

/** Points a download link at `bytes` (or disables it). */
function offer(id: string, bytes: BlobPart | undefined, name: string, type: string): void {
  const a = $<HTMLAnchorElement>(id);
  if (a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
  if (bytes === undefined) {
    a.removeAttribute("href");
    a.classList.add("disabled");
    return;
  }
  a.href = URL.createObjectURL(new Blob([bytes], { type }));
  a.download = name;
  a.classList.remove("disabled");
  a.removeAttribute("aria-disabled");
}

function offerDownloads(): void {
  if (!session) return;
  const ckpt = session.checkpoint();
  offer("download-checkpoint", ckpt?.slice(), session.checkpointName, "application/octet-stream");
  const name = session.checkpointName.replace(/\.safetensors$/, ".jsonl");
  offer(
    "download-metrics",
    session.metrics.length ? session.metrics.join("") : undefined,
    name,
    "application/x-ndjson",
  );
}

function logLine(text: string): void {
  const log = $("log");
  log.textContent += text + "\n";
  log.scrollTop = log.scrollHeight;
}

function fail(e: unknown): void {
  console.error(e);
  showMessage(explain(e, session?.checkpoint() !== undefined));
}

/** Model figures beside the picker; defaults for the preset's epochs and batch. */
function showModel(setDefaults: boolean): void {
  const p = preset($<HTMLSelectElement>("preset").value);
  const d = describePreset(p);
  if (setDefaults) {
    input("epochs").value = String(p.epochs);
    input("batch").value = String(p.batch);
  }
  const r = d.recipe;
  const how = [
    r.augment ? "random crop + flip" : "",
    r.mirror ? "training images doubled by mirroring" : "",
    r.smoothing ? `label smoothing ${r.smoothing}` : "",
    `SGD (Nesterov), cosine lr from ${r.sgd.baseLr}`,
  ].filter(Boolean).join(", ");
  $("model-info").textContent = `${d.model}: ${count(d.params)} parameters, ${
    d.gflop.toFixed(3)
  } GFLOP forward per image; ${r.name === "res" ? "ResNet" : "Wide-ResNet"} recipe: ${how}`;
}

function whole(id: string, what: string, max?: number): number {
  const v = Number(input(id).value);
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a whole number ≥ 1`);
  if (max !== undefined && v > max) {
    throw new RangeError(`${what}: ${count(v)} is more than the ${count(max)} there are`);
  }
  return v;
}

function choices(): RunChoices {
  const seed = Number(input("seed").value);
  if (!Number.isInteger(seed) || seed < 0 || seed > 4294967295) {
    throw new RangeError("Seed must be a whole number from 0 to 4294967295");
  }
  return {
    preset: preset($<HTMLSelectElement>("preset").value),
    epochs: whole("epochs", "Epochs"),
    batch: whole("batch", "Batch"),
    seed,
    limit: whole("limit", "Training images", data!.n),
    testLimit: whole("test-limit", "Test images", data!.nTest),
  };
}

function newSession(c: RunChoices): Session {
  session?.dispose();
  $("log").textContent = "";
  const s = new Session(engine!, data!, c, {
    line: logLine,
    progress(epoch, batch, batches, rate, eta) {
      const done = (epoch - 1 + batch / batches) / c.epochs;
      $<HTMLProgressElement>("progress").value = done;
      $("progress-text").textContent =
        `epoch ${epoch} of ${c.epochs} · batch ${batch}/${batches} · ${
          rate.toFixed(1)
        } images/s · this epoch's training ends in ${duration(eta)}`;
    },
    epoch(record, all) {
      drawCurves($("curves"), all);
      drawConfusion($("heatmap"), record, data!.s);
      $<HTMLProgressElement>("progress").value = record.epoch / c.epochs;
      $("progress-text").textContent = `epoch ${record.epoch} of ${c.epochs} done: ${
        record.accuracy.toFixed(2)
      }% test accuracy, ${record.imagesPerSecond.toFixed(1)} training images/s`;
      offerDownloads();
    },
  });
  logLine(
    `${describePreset(c.preset).model} on ${count(s.trainImages)} training images, ${
      count(c.testLimit)
    } test images, batch ${c.batch}, ${c.epochs} epoch${c.epochs === 1 ? "" : "s"}, seed ${c.seed}`,
  );
  return s;
}

/** Runs (or resumes) the session until it ends, pauses or fails. */
async function go(resume: boolean): Promise<void> {
  clearMessage();
  running = true;
  refresh();
  try {
    const r = await session!.run(resume);
    if (r.interrupted) $("progress-text").textContent += " · paused";
    else if (r.alreadyDone) {
      $("progress-text").textContent = "This checkpoint has finished every epoch.";
    } else $("progress-text").textContent += ` · finished in ${duration(r.seconds)}`;
    document.body.dataset.state = r.interrupted ? "paused" : "finished";
  } catch (e) {
    document.body.dataset.state = "failed";
    fail(e);
  } finally {
    running = false;
    offerDownloads();
    refresh();
  }
}

async function loadData(get: () => Promise<PageData>, what: string): Promise<void> {
  clearMessage();
  $("data-status").textContent = `Reading ${what}…`;
  try {
    const t0 = performance.now();
    data = await get();
    $("data-status").textContent = `CIFAR-10 from ${data.source} (${count(data.bytes)} bytes): ${
      count(data.n)
    } training and ${count(data.nTest)} test images, read in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s`;
    input("limit").value = String(data.n);
    input("test-limit").value = String(data.nTest);
    document.body.dataset.data = "ready";
  } catch (e) {
    $("data-status").textContent = `Could not read ${what}.`;
    fail(e);
  }
  refresh();
}

/** A checkpoint given back: the form takes its settings, then the run resumes from it. */
async function resumeFromFile(file: File): Promise<void> {
  clearMessage();
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const meta = decodeCheckpoint(bytes, file.name, "resume from").metadata;
    const p = presetOfSpec(meta.spec ?? "");
    const s = JSON.parse(meta.settings ?? "null") as Record<string, number> | null;
    if (!p || !s) {
      throw new Error(
        `Cannot resume from ${file.name}: ${
          s ? `its model (${meta.model}) is not one this page offers` : "it holds no training state"
        }; the command line can (deno task train:res|wide --resume ${file.name})`,
      );
    }
    $<HTMLSelectElement>("preset").value = p.id;
    showModel(false);
    input("epochs").value = String(s.epochs);
    input("batch").value = String(s.batch);
    input("seed").value = String(s.seed);
    input("limit").value = String(s.limit);
    input("test-limit").value = String(s.testLimit);
    session = newSession(choices());
    await session.adopt(bytes);
    await go(true);
  } catch (e) {
    fail(e);
    refresh();
  }
}

async function init(): Promise<void> {
  const sel = $<HTMLSelectElement>("preset");
  for (const p of PRESETS) sel.add(new Option(p.label, p.id));
  sel.addEventListener("change", () => showModel(true));
  showModel(true);
  input("file").addEventListener("change", () => {
    const f = input("file").files?.[0];
    if (f) loadData(() => dataFromFile(f, records), f.name);
  });
  addEventListener("dragover", (e) => {
    e.preventDefault();
    document.body.classList.add("dragging");
  });
  addEventListener("dragleave", () => document.body.classList.remove("dragging"));
  addEventListener("drop", (e) => {
    e.preventDefault();
    document.body.classList.remove("dragging");
    const f = (e as DragEvent).dataTransfer?.files[0];
    if (!f) return;
    if (f.name.endsWith(".safetensors")) resumeFromFile(f);
    else loadData(() => dataFromFile(f, records), f.name);
  });
  $("start").addEventListener("click", () => {
    try {
      session = newSession(choices());
    } catch (e) {
      return fail(e);
    }
    go(false);
  });
  $("pause").addEventListener("click", () => session?.pause());
  $("resume").addEventListener("click", () => go(true));
  input("resume-file").addEventListener("change", () => {
    const f = input("resume-file").files?.[0];
    input("resume-file").value = "";
    if (f) resumeFromFile(f);
  });
  refresh();

  const why = noWebGpu();
  if (why) {
    $("adapter").textContent = "No WebGPU in this browser.";
    document.body.dataset.state = "no-webgpu";
    return showMessage(why);
  }
  try {
    engine = await Engine.create();
  } catch (e) {
    $("adapter").textContent = "No WebGPU adapter.";
    document.body.dataset.state = "no-adapter";
    return fail(e);
  }
  const info = engine.gpu.info;
  const about = [info.vendor, info.architecture, info.device, info.description].filter(Boolean);
  $("adapter").textContent = `${describeGpu(engine.gpu)}${
    about.length ? ` · ${about.join(", ")}` : ""
  }`;
  const rows = [...Object.entries(engine.gpu.limits), ["features", engine.gpu.features.join(", ")]];
  $("limits-table").replaceChildren(...rows.map(([k, v]) => {
    const tr = document.createElement("tr");
    tr.innerHTML = "<td></td><td></td>";
    tr.cells[0].textContent = String(k);
    tr.cells[1].textContent = typeof v === "number" ? count(v) : String(v);
    return tr;
  }));
  // The page never destroys its device: any loss (driver reset, GPU gone) ends training here.
  engine.device.lost.then((info) => {
    lost = true;
    document.body.dataset.state = "lost";
    session?.pause();
    showMessage(deviceLost(info.message || info.reason, session?.checkpoint() !== undefined));
    refresh();
  });
  document.body.dataset.state = "ready";
  refresh();
  const config = await fetch("config.json").then((r) =>
    r.ok ? r.json() as Promise<ServeConfig> : null
  )
    .catch(() => null);
  if (config?.data) loadData(() => dataFromServer(config, records), config.dataName ?? config.data);
}

/** For the end-to-end test and the curious: the run's logits on the first test images. */
Object.assign(globalThis, {
  trainingPage: {
    logits: (n: number) => session!.logits(n),
    checkpoint: () => session?.checkpoint(),
    metrics: () => session?.metrics.join(""),
    /** What a driver reset does to the page: the device goes away. */
    loseDevice: () => engine?.device.destroy(),
  },
});

init().catch(fail);
