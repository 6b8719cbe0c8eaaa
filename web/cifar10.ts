// The browser's cifar10(): finding, downloading and extracting the data set needs a file system.
import type { Cifar10, Cifar10Options } from "../data/cifar10.ts";
import { unavailableAsync } from "./unavailable.ts";

/** Not in a browser: read the official archive's bytes (a file picker, fetch) and parse those. */
export const cifar10: (options?: Cifar10Options) => Promise<Cifar10> = unavailableAsync(
  "cifar10() (a data folder, a download, an extraction on disk)",
  "read cifar-10-binary.tar.gz's bytes in the page (a file picker or fetch) and parse those",
);
