/**
 * The browser build's entry (`deno task build:web` bundles it into dist/web/mod.js): mod.ts's
 * exports, where those that need a file system are replaced by browser counterparts that throw
 * {@linkcode NotInBrowserError} saying what to do instead. The bundler also swaps the modules in
 * tasks/build_web.ts's WEB_SWAPS for their web/ counterparts.
 * @module
 */
export * from "../mod.ts";
export { cifar10 } from "./cifar10.ts";
export { NotInBrowserError } from "./unavailable.ts";
/** A checkpoint's bytes (what saveCheckpoint writes): a page offers them as a download. */
export { encodeCheckpoint } from "../models/checkpoint.ts";
