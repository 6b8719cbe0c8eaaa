/// <reference lib="dom" />
// What the page tells a user when something fails: the problem, then what to do about it.
import { DeviceError, NoAdapterError } from "../engine/device.ts";
import { DeviceLostError, GpuError } from "../engine/device_errors.ts";

/** The page's message box: shown with a problem and what to do, hidden when cleared. */
export function showMessage(text: string): void {
  const box = document.getElementById("message")!;
  box.textContent = text;
  box.hidden = false;
}

/** Hides the message box. */
export function clearMessage(): void {
  const box = document.getElementById("message")!;
  box.textContent = "";
  box.hidden = true;
}

/** Why this browser offers no WebGPU, and what to do (null when it does). */
export function noWebGpu(): string | null {
  if (!globalThis.isSecureContext) {
    return "WebGPU needs a secure page: open it at http://127.0.0.1 or http://localhost (as " +
      "`deno task serve` prints it) or over https, not at another address.";
  }
  if (!("gpu" in navigator) || !navigator.gpu) {
    return "This browser offers no WebGPU (navigator.gpu is missing). Use a browser that has it: " +
      "Chrome or Edge 113 or newer (on Linux, start it with --enable-unsafe-webgpu), Safari 26, " +
      "or Firefox 141 on Windows; then reload this page.";
  }
  return null;
}

/** A lost device: what happened and how to go on. */
export function deviceLost(detail: string, haveCheckpoint: boolean): string {
  const keep = haveCheckpoint
    ? "Download the checkpoint first (it holds the last finished epoch or pause), then reload " +
      "the page and give it back with “Resume from a checkpoint…”."
    : "Reload the page to start again.";
  return `The GPU device was lost (${detail}); the run cannot go on in this tab. ${keep} ` +
    "If it happens again, close other tabs that use the GPU, or pick a smaller model or batch.";
}

/** The text for an error thrown by loading data, starting, or training. */
export function explain(e: unknown, haveCheckpoint: boolean): string {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err instanceof NoAdapterError) {
    return "No WebGPU adapter was found: this browser has WebGPU but no GPU it can use " +
      "(blocklisted driver, or hardware acceleration turned off in its settings). Turn " +
      "hardware acceleration on, update the GPU driver, or try another browser.";
  }
  if (err instanceof DeviceLostError) return deviceLost(err.reason, haveCheckpoint);
  if (err instanceof GpuError && err.kind === "out-of-memory") {
    return `${err.message}. Pick a smaller model or batch, or fewer images, and start again.`;
  }
  if (err instanceof DeviceError) {
    return /lost/i.test(err.message)
      ? deviceLost(err.message, haveCheckpoint)
      : `The GPU reported an error, so the results are not trustworthy: ${err.message}. ` +
        "Reload the page; if it happens again, please report it with the adapter line above.";
  }
  if (err.name === "RangeError" && /out of memory|allocation/i.test(err.message)) {
    return `${err.message}. Pick a smaller model or batch, or fewer images.`;
  }
  return err.message;
}
