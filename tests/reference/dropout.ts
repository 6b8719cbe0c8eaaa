// CPU twin of the dropout kernel's counter-based RNG (u32 arithmetic as in WGSL).

function pcg(v: number): number {
  const s = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** The keep mask (1 kept, 0 dropped) of n elements for the kernel's uniform parameters. */
export function dropoutMaskRef(
  n: number,
  params: { seedLo: number; seedHi: number; threshold: number },
): Uint8Array {
  const key = pcg((params.seedLo ^ pcg((params.seedHi + 0x9e3779b9) >>> 0)) >>> 0);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = pcg((pcg(i) ^ key) >>> 0) >= params.threshold ? 1 : 0;
  return mask;
}
