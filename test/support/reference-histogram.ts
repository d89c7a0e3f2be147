// A plain-JS histogram with the kernel's bin rule (numpy.histogram's: equal widths, hi in the last bin),
// to check the Wasm kernel's counts against.
export function referenceHistogram(values: ArrayLike<number>, lo: number, hi: number, bins: number) {
  const counts = new Array<number>(bins).fill(0);
  let nonFinite = 0;
  const scale = hi > lo ? bins / (hi - lo) : 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) nonFinite++;
    else if (v >= lo && v <= hi) counts[Math.min(bins - 1, Math.floor((v - lo) * scale))]!++;
  }
  return { counts, nonFinite };
}
