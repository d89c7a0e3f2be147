// Synthetic model inputs, drawn the same way on every run (seeded): what `--verify` feeds the float and the
// quantized model (docs/definitions.md, "Synthetic inputs").
import type { InputDistribution } from './input-distribution.js';

/** The side of the grid cells a smooth field is interpolated over. */
const CELL = 8;

/**
 * A field over h × w of unit variance at every position, smooth over about CELL positions: standard normals
 * on a grid every CELL positions, interpolated bilinearly, each position divided by its weights' norm.
 */
export function smoothField(h: number, w: number, draw: () => number): Float64Array {
  const [gh, gw] = [Math.floor((h - 1) / CELL) + 2, Math.floor((w - 1) / CELL) + 2];
  const grid = Float64Array.from({ length: gh * gw }, draw);
  const field = new Float64Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [gy, gx] = [Math.floor(y / CELL), Math.floor(x / CELL)];
      const [fy, fx] = [(y % CELL) / CELL, (x % CELL) / CELL];
      const g = (dy: number, dx: number) => grid[(gy + dy) * gw + gx + dx]!;
      const v = (1 - fy) * ((1 - fx) * g(0, 0) + fx * g(0, 1)) + fy * ((1 - fx) * g(1, 0) + fx * g(1, 1));
      field[y * w + x] = v / Math.sqrt(((1 - fy) ** 2 + fy ** 2) * ((1 - fx) ** 2 + fx ** 2));
    }
  return field;
}

/**
 * Float input values: N(0, 1) elements, or for the input `inputDistribution` fitted (rank 4, [N, C, H, W])
 * mean_c + √smooth · L + √white · z, L one smooth field per sample shared by its channels.
 */
export function drawInput(
  dims: readonly number[],
  fitted: InputDistribution | undefined,
  draw: () => number,
): Float32Array {
  const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
  if (!fitted || dims.length !== 4 || (fitted.mean.length !== 1 && fitted.mean.length !== dims[1])) {
    for (let i = 0; i < values.length; i++) values[i] = draw();
    return values;
  }
  const [n, c, h, w] = dims as [number, number, number, number];
  const [smooth, white] = [Math.sqrt(fitted.smooth), Math.sqrt(fitted.white)];
  for (let b = 0; b < n; b++) {
    const field = smoothField(h, w, draw);
    for (let ch = 0; ch < c; ch++) {
      const mean = fitted.mean[fitted.mean.length === 1 ? 0 : ch]!;
      const base = (b * c + ch) * h * w;
      for (let i = 0; i < h * w; i++) values[base + i] = mean + smooth * field[i]! + white * draw();
    }
  }
  return values;
}

/** Seeded standard normals (Box–Muller over a 32-bit generator): the same inputs every run. */
export function normals(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}
