// The browser's engine/host.ts: a page has no environment variables and no Mesa to quieten.

/** Always undefined in a browser. */
export function env(_name: string): string | undefined {
  return undefined;
}

/** Nothing to do in a browser. */
export function quietLavapipe(): void {}

/** Unknown in a browser (a page is not told the machine's memory). */
export function availableMemory(): number | null {
  return null;
}
