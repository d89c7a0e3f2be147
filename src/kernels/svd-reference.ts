// The plain-JS reference of the singular-value kernels (assembly/gram.ts, symmetric-eigen.ts,
// singular-vectors.ts): the same algorithm one value at a time in float64 — Gram matrix on the smaller
// side, Householder tridiagonalization, implicit QL, reflectors applied back, sort — so the results agree
// with the kernels' up to the order of additions (the kernels sum in SIMD lanes). The tests check the
// kernels against it and the bench times it against them.
import { WeightlensError } from '../errors.js';
import { resolvedCut, singularFromEigen, type SingularVectors } from './svd-kernels.js';

/** X [s, len] as float64 (X = A when rows ≤ cols, else Aᵀ) and G = X·Xᵀ [s, s]. */
function gram(
  a: Float32Array,
  rows: number,
  cols: number,
): { x: Float64Array; g: Float64Array; s: number; len: number } {
  if (a.length !== rows * cols) throw new Error(`${a.length} values do not form [${rows}, ${cols}]`);
  if (!a.every(Number.isFinite)) throw new WeightlensError('BAD_TENSOR', 'a matrix holds NaN or ±Inf');
  const [s, len] = rows > cols ? [cols, rows] : [rows, cols];
  const x = new Float64Array(s * len);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) x[rows > cols ? c * rows + r : r * cols + c] = a[r * cols + c]!;
  const g = new Float64Array(s * s);
  for (let i = 0; i < s; i++) {
    for (let j = i; j < s; j++) {
      let sum = 0;
      for (let k = 0; k < len; k++) sum += x[i * len + k]! * x[j * len + k]!;
      g[i * s + j] = g[j * s + i] = sum;
    }
  }
  return { x, g, s, len };
}

function pythag(a: number, b: number): number {
  const [x, y] = [Math.abs(a), Math.abs(b)];
  if (x > y) return x * Math.sqrt(1 + (y / x) * (y / x));
  return y === 0 ? 0 : y * Math.sqrt(1 + (x / y) * (x / y));
}

/**
 * G [n, n] to tridiagonal (d, e) from its lower triangle, as the kernel: reflector k in G's row k past the
 * diagonal, τ_k in tau.
 */
function tridiagonalize(g: Float64Array, n: number, d: Float64Array, e: Float64Array, tau: Float64Array): void {
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const [r, v] = [n - k - 1, k * n + k + 1];
    for (let i = 0; i < r; i++) g[v + i] = g[(k + 1 + i) * n + k]!;
    let sq = 0;
    for (let i = 0; i < r; i++) sq += g[v + i]! ** 2;
    const x0 = g[v]!;
    const tail = sq - x0 * x0;
    d[k] = g[k * n + k]!;
    if (tail === 0) {
      [e[k], tau[k]] = [x0, 0];
      continue;
    }
    const norm = Math.sqrt(sq);
    const alpha = x0 > 0 ? -norm : norm;
    const v0 = x0 - alpha;
    g[v] = v0;
    const t = 2 / (tail + v0 * v0);
    [e[k], tau[k]] = [alpha, t];
    // p = B·v from B's lower triangle: row i gives p_i its prefix and p_j (j < i) the mirror images.
    p.fill(0);
    for (let i = 0; i < r; i++) {
      const [row, vi] = [(k + 1 + i) * n + k + 1, g[v + i]!];
      let below = 0;
      for (let j = 0; j < i; j++) {
        below += g[row + j]! * g[v + j]!;
        p[j] = p[j]! + vi * g[row + j]!;
      }
      p[i] = p[i]! + below + g[row + i]! * vi;
    }
    for (let i = 0; i < r; i++) p[i] = t * p[i]!;
    let pv = 0;
    for (let i = 0; i < r; i++) pv += p[i]! * g[v + i]!;
    const half = 0.5 * t * pv;
    for (let i = 0; i < r; i++) p[i] = p[i]! - half * g[v + i]!;
    for (let i = 0; i < r; i++) {
      const row = (k + 1 + i) * n + k + 1;
      const [vi, wi] = [g[v + i]!, p[i]!];
      for (let j = 0; j <= i; j++) g[row + j] = g[row + j]! - vi * p[j]! - wi * g[v + j]!;
    }
  }
  if (n >= 2) [d[n - 2], e[n - 2]] = [g[(n - 2) * n + n - 2]!, g[(n - 1) * n + n - 2]!];
  if (n >= 1) [d[n - 1], e[n - 1]] = [g[n * n - 1]!, 0];
}

/** Implicit QL (tqli) on (d, e); rotations into W's rows when given. Returns the steps, −1 past 30·n. */
function tridiagonalQl(d: Float64Array, e: Float64Array, n: number, w: Float64Array | null): number {
  let iterations = 0;
  for (let l = 0; l < n; l++) {
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) if (Math.abs(e[m]!) <= Number.EPSILON * (Math.abs(d[m]!) + Math.abs(d[m + 1]!))) break;
      if (m === l) break;
      if (++iterations > 30 * n) return -1;
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = pythag(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
      let [s, c, p] = [1, 1, 0];
      let i = m - 1;
      for (; i >= l; i--) {
        const [f, b] = [s * e[i]!, c * e[i]!];
        e[i + 1] = r = pythag(f, g);
        if (r === 0) {
          d[i + 1] = d[i + 1]! - p;
          e[m] = 0;
          break;
        }
        [s, c] = [f / r, g / r];
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (w) {
          for (let k = 0; k < n; k++) {
            const [za, zb] = [w[i * n + k]!, w[(i + 1) * n + k]!];
            w[(i + 1) * n + k] = s * za + c * zb;
            w[i * n + k] = c * za - s * zb;
          }
        }
      }
      if (r === 0 && i >= l) continue;
      d[l] = d[l]! - p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return iterations;
}

/** Eigenvalues of symmetric G [n, n] (its lower triangle; overwritten), descending, and unit eigenvectors by row when asked. */
export function symmetricEigenReference(
  g: Float64Array,
  n: number,
  vectors: boolean,
): { values: Float64Array; vectors: Float64Array | null } {
  const [d, e, tau] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  tridiagonalize(g, n, d, e, tau);
  const w = vectors ? new Float64Array(n * n) : null;
  for (let i = 0; w && i < n; i++) w[i * n + i] = 1;
  if (tridiagonalQl(d, e, n, w) < 0)
    throw new WeightlensError('INTERNAL', `the eigenvalues of a ${n} × ${n} matrix did not converge`);
  for (let k = n - 3; w && k >= 0; k--) {
    const [t, v, r] = [tau[k]!, k * n + k + 1, n - k - 1];
    if (t === 0) continue;
    for (let j = 0; j < n; j++) {
      const row = j * n + k + 1;
      let sum = 0;
      for (let i = 0; i < r; i++) sum += g[v + i]! * w[row + i]!;
      for (let i = 0; i < r; i++) w[row + i] = w[row + i]! - t * sum * g[v + i]!;
    }
  }
  const order = Array.from(d.keys()).sort((a, b) => d[b]! - d[a]!);
  const sorted = w && new Float64Array(n * n);
  order.forEach((from, to) => sorted?.set(w!.subarray(from * n, from * n + n), to * n));
  return { values: Float64Array.from(order, (i) => d[i]!), vectors: sorted };
}

/** The singular values of A [rows, cols] (row-major), descending. */
export function singularValuesReference(a: Float32Array, rows: number, cols: number): Float64Array {
  const { g, s } = gram(a, rows, cols);
  return singularFromEigen(symmetricEigenReference(g, s, false).values);
}

/** The singular values and vectors of A [rows, cols], as SvdKernels.singularVectors gives them. */
export function singularVectorsReference(a: Float32Array, rows: number, cols: number): SingularVectors {
  const { x, g, s, len } = gram(a, rows, cols);
  const eigen = symmetricEigenReference(g, s, true);
  const values = singularFromEigen(eigen.values);
  const w = eigen.vectors!;
  const y = new Float64Array(s * len);
  const cut = resolvedCut(values[0] ?? 0, s);
  for (let j = 0; j < s; j++) {
    if (!(values[j]! > cut)) continue;
    for (let i = 0; i < s; i++) {
      const f = w[j * s + i]! / values[j]!;
      for (let k = 0; k < len; k++) y[j * len + k] = y[j * len + k]! + f * x[i * len + k]!;
    }
  }
  return rows > cols ? { values, left: y, right: w } : { values, left: w, right: y };
}
