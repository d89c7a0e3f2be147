// Eigenvalues (and optionally eigenvectors) of a symmetric float64 matrix G [n, n] (row-major, its lower
// triangle read), for the singular values of a weight (docs/definitions.md, "Singular values"):
//   1. Householder tridiagonalization: G = Q·T·Qᵀ, T tridiagonal (diagonal d, off-diagonal e);
//   2. implicit QL with Wilkinson shifts on T (Numerical Recipes' tqli), Givens rotations accumulated into
//      the rows of W when vectors are asked for;
//   3. eigenvectors of G = Q·(those of T): the reflectors applied back to W's rows;
//   4. eigenvalues sorted descending, W's rows with them.
// Every step works on contiguous rows, SIMD over them: the Householder step reads and updates row prefixes
// of the trailing block's lower triangle, the rotations and reflections combine rows of W.
//
// G is overwritten (its row k past the diagonal keeps reflector k). Writes d f64[n] (eigenvalues,
// descending); e f64[n] and work f64[2n] are scratch; w = 0 skips vectors, else W f64[n, n] receives them,
// row j the unit eigenvector of d[j]. Returns the QL iterations taken, or −1 when they pass 30·n (no
// convergence: only non-finite input does that in practice, and JS checks for it first).
import { axpy, dot, rank2, symmetricRow } from './f64-rows';

const EPS: f64 = 2.220446049250313e-16;

@inline function at(g: usize, n: i32, i: i32, j: i32): usize {
  return g + ((<usize>i * <usize>n + <usize>j) << 3);
}

@inline function f64At(p: usize, i: i32): usize {
  return p + (<usize>i << 3);
}

/** √(a² + b²) without overflow or underflow of the squares (the JS reference computes it the same way). */
@inline function pythag(a: f64, b: f64): f64 {
  const x = Math.abs(a), y = Math.abs(b);
  if (x > y) return x * Math.sqrt(1 + (y / x) * (y / x));
  return y == 0 ? 0 : y * Math.sqrt(1 + (x / y) * (x / y));
}

/**
 * Reduces G to tridiagonal T: step k reflects column k below the diagonal onto e[k]·unit with
 * H = I − τ·v·vᵀ, and updates the trailing block B ← H·B·H = B − v·wᵀ − w·vᵀ, w = p − (τ/2)(pᵀv)·v,
 * p = τ·B·v. Only B's lower triangle is kept up to date (row prefixes: contiguous, half the work); v is
 * stored in row k past the diagonal (upper triangle, free by then), τ in tau[k] (0: no reflection needed).
 */
function tridiagonalize(g: usize, n: i32, d: usize, e: usize, tau: usize, p: usize): void {
  for (let k = 0; k < n - 2; k++) {
    const r = n - k - 1;
    const x = at(g, n, k, k + 1);
    for (let i = 0; i < r; i++) store<f64>(f64At(x, i), load<f64>(at(g, n, k + 1 + i, k)));
    const sq = dot(x, x, r);
    const x0 = load<f64>(x);
    const tail = sq - x0 * x0;
    store<f64>(f64At(d, k), load<f64>(at(g, n, k, k)));
    if (tail == 0) {
      store<f64>(f64At(e, k), x0);
      store<f64>(f64At(tau, k), 0);
      continue;
    }
    // alpha opposite in sign to x0, so v0 = x0 − alpha adds magnitudes and nothing cancels.
    const norm = Math.sqrt(sq);
    const alpha = x0 > 0 ? -norm : norm;
    const v0 = x0 - alpha;
    store<f64>(x, v0);
    const t = 2 / (tail + v0 * v0);
    store<f64>(f64At(e, k), alpha);
    store<f64>(f64At(tau, k), t);
    memory.fill(p, 0, <usize>r << 3);
    for (let i = 0; i < r; i++) {
      const row = at(g, n, k + 1 + i, k + 1), vi = load<f64>(f64At(x, i));
      const below = symmetricRow(row, x, vi, p, i);
      store<f64>(f64At(p, i), load<f64>(f64At(p, i)) + below + load<f64>(f64At(row, i)) * vi);
    }
    for (let i = 0; i < r; i++) store<f64>(f64At(p, i), t * load<f64>(f64At(p, i)));
    const half = 0.5 * t * dot(p, x, r);
    axpy(-half, x, p, r);
    for (let i = 0; i < r; i++)
      rank2(load<f64>(f64At(x, i)), p, load<f64>(f64At(p, i)), x, at(g, n, k + 1 + i, k + 1), i + 1);
  }
  if (n >= 2) {
    store<f64>(f64At(d, n - 2), load<f64>(at(g, n, n - 2, n - 2)));
    store<f64>(f64At(e, n - 2), load<f64>(at(g, n, n - 1, n - 2)));
  }
  if (n >= 1) {
    store<f64>(f64At(d, n - 1), load<f64>(at(g, n, n - 1, n - 1)));
    store<f64>(f64At(e, n - 1), 0);
  }
}

/** Rows i, i+1 of W (columns of Z = Wᵀ) turned by the rotation (c, s), as tqli turns Z's columns. */
function rotateRows(w: usize, n: i32, i: i32, c: f64, s: f64): void {
  const a = at(w, n, i, 0), b = at(w, n, i + 1, 0);
  const vc = f64x2.splat(c), vs = f64x2.splat(s);
  let k = 0;
  for (; k + 2 <= n; k += 2) {
    const o = <usize>k << 3;
    const za = v128.load(a + o), zb = v128.load(b + o);
    v128.store(b + o, f64x2.add(f64x2.mul(vs, za), f64x2.mul(vc, zb)));
    v128.store(a + o, f64x2.sub(f64x2.mul(vc, za), f64x2.mul(vs, zb)));
  }
  if (k < n) {
    const o = <usize>k << 3;
    const za = load<f64>(a + o), zb = load<f64>(b + o);
    store<f64>(b + o, s * za + c * zb);
    store<f64>(a + o, c * za - s * zb);
  }
}

/** Implicit QL on (d, e), e[k] coupling k and k + 1; rotations into W's rows when w ≠ 0. */
function tridiagonalQl(d: usize, e: usize, n: i32, w: usize): i32 {
  const cap = 30 * n;
  let iterations = 0;
  for (let l = 0; l < n; l++) {
    while (true) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(load<f64>(f64At(d, m))) + Math.abs(load<f64>(f64At(d, m + 1)));
        if (Math.abs(load<f64>(f64At(e, m))) <= EPS * dd) break;
      }
      if (m == l) break;
      if (++iterations > cap) return -1;
      const dl = load<f64>(f64At(d, l)), el = load<f64>(f64At(e, l));
      let g = (load<f64>(f64At(d, l + 1)) - dl) / (2 * el);
      let r = pythag(g, 1);
      g = load<f64>(f64At(d, m)) - dl + el / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
      let s: f64 = 1, c: f64 = 1, p: f64 = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const ei = load<f64>(f64At(e, i));
        const f = s * ei, b = c * ei;
        r = pythag(f, g);
        store<f64>(f64At(e, i + 1), r);
        if (r == 0) {
          // Split: T decouples at i; restart the search for the block containing l.
          store<f64>(f64At(d, i + 1), load<f64>(f64At(d, i + 1)) - p);
          store<f64>(f64At(e, m), 0);
          break;
        }
        s = f / r;
        c = g / r;
        g = load<f64>(f64At(d, i + 1)) - p;
        r = (load<f64>(f64At(d, i)) - g) * s + 2 * c * b;
        p = s * r;
        store<f64>(f64At(d, i + 1), g + p);
        g = c * r - b;
        if (w != 0) rotateRows(w, n, i, c, s);
      }
      if (r == 0 && i >= l) continue;
      store<f64>(f64At(d, l), load<f64>(f64At(d, l)) - p);
      store<f64>(f64At(e, l), g);
      store<f64>(f64At(e, m), 0);
    }
  }
  return iterations;
}

/** W's rows ← Q·row: reflectors n−3 … 0 (stored in G's rows) applied to each eigenvector. */
function backTransform(g: usize, n: i32, tau: usize, w: usize): void {
  for (let k = n - 3; k >= 0; k--) {
    const t = load<f64>(f64At(tau, k));
    if (t == 0) continue;
    const v = at(g, n, k, k + 1), r = n - k - 1;
    for (let j = 0; j < n; j++) {
      const row = at(w, n, j, k + 1);
      axpy(-t * dot(v, row, r), v, row, r);
    }
  }
}

/** Selection sort, descending; W's rows move with their eigenvalues (at most n − 1 row swaps). */
function sortDescending(d: usize, n: i32, w: usize): void {
  for (let i = 0; i < n - 1; i++) {
    let best = i;
    for (let j = i + 1; j < n; j++) if (load<f64>(f64At(d, j)) > load<f64>(f64At(d, best))) best = j;
    if (best == i) continue;
    const t = load<f64>(f64At(d, i));
    store<f64>(f64At(d, i), load<f64>(f64At(d, best)));
    store<f64>(f64At(d, best), t);
    if (w == 0) continue;
    const a = at(w, n, i, 0), b = at(w, n, best, 0);
    for (let k = 0; k < n; k++) {
      const o = <usize>k << 3;
      const x = load<f64>(a + o);
      store<f64>(a + o, load<f64>(b + o));
      store<f64>(b + o, x);
    }
  }
}

export function symmetricEigen(g: usize, n: i32, d: usize, e: usize, work: usize, w: usize): i32 {
  const tau = work, p = work + (<usize>n << 3);
  tridiagonalize(g, n, d, e, tau, p);
  if (w != 0) {
    memory.fill(w, 0, (<usize>n * <usize>n) << 3);
    for (let i = 0; i < n; i++) store<f64>(at(w, n, i, i), 1);
  }
  const iterations = tridiagonalQl(d, e, n, w);
  if (iterations < 0) return -1;
  if (w != 0) backTransform(g, n, tau, w);
  sortDescending(d, n, w);
  return iterations;
}
