// What the browser build does where the Deno build needs a file system, a process or the network.

/** Thrown in a browser by what needs a file system or processes (files, checkpoints on disk). */
export class NotInBrowserError extends Error {
  constructor(what: string, instead?: string) {
    super(`${what} is not available in a browser${instead ? `: ${instead}` : ""}`);
    this.name = "NotInBrowserError";
  }
}

/** A function that throws {@linkcode NotInBrowserError} naming `what` (and what to do instead). */
export function unavailable(what: string, instead?: string): (...args: unknown[]) => never {
  return () => {
    throw new NotInBrowserError(what, instead);
  };
}

/** The async counterpart of {@linkcode unavailable}: a promise rejected with the same error. */
export function unavailableAsync(
  what: string,
  instead?: string,
): (...args: unknown[]) => Promise<never> {
  return () => Promise.reject(new NotInBrowserError(what, instead));
}
