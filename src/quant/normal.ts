// The standard normal density φ, its distribution function Φ (through erfc, to about 1e-15 relative), and
// the mean of a normal variable clipped to [lo, hi] — what an activation makes of a BatchNorm's output
// (docs/definitions.md, "Bias correction"). No library: plain float64 arithmetic.

const SQRT_PI = Math.sqrt(Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/**
 * erfc(x) = 1 − erf(x). For 0 ≤ x < 1, 1 − erf(x) with erf from its series of positive terms,
 * erf(x) = 2/√π · e^(−x²) · Σ (2x²)^n · x / (1·3·…·(2n+1)), which does not cancel; from 1 on, the
 * continued fraction e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) (modified Lentz, under 200
 * terms from x = 1 on), which keeps full relative precision far into the tail. Negative x: erfc(x) = 2 − erfc(−x).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 1) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return 1 - (2 / SQRT_PI) * Math.exp(-x2) * sum;
  }
  if (x > 27) return 0; // e^(−x²) underflows
  // f = x + K(a_n / x), a_n = n/2, by the modified Lentz method.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (SQRT_PI * f);
}

/** The standard normal density φ(x) = e^(−x²/2) / √(2π); 0 at ±∞. */
export const normalPdf = (x: number): number => Math.exp(-0.5 * x * x) / SQRT_2PI;

/** The standard normal distribution function Φ(x) = erfc(−x/√2) / 2 (accurate in both tails). */
export const normalCdf = (x: number): number => erfc(-x / Math.SQRT2) / 2;

/**
 * E[clip(X, lo, hi)] for X ~ N(mu, sigma²), lo ≤ hi (either may be infinite; |sigma| is the deviation):
 *   lo·Φ(α) + hi·Φ(−β) + mu·(Φ(β) − Φ(α)) + σ·(φ(α) − φ(β)),  α = (lo − mu)/σ, β = (hi − mu)/σ,
 * each term of an infinite bound dropped (its limit is 0). σ = 0 gives clip(mu, lo, hi); lo > hi gives hi,
 * as ONNX Clip does.
 */
export function clippedNormalMean(mu: number, sigma: number, lo = -Infinity, hi = Infinity): number {
  if (lo > hi) return hi;
  const s = Math.abs(sigma);
  if (!(s > 0) || !Number.isFinite(s)) return Math.min(Math.max(mu, lo), hi);
  const a = (lo - mu) / s;
  const b = (hi - mu) / s;
  const below = lo === -Infinity ? 0 : normalCdf(a);
  const above = hi === Infinity ? 0 : normalCdf(-b);
  // Φ(β) − Φ(α), from the tail where both are small when the interval lies in one tail.
  const inside = a > 0 ? normalCdf(-a) - normalCdf(-b) : normalCdf(b) - normalCdf(a);
  const density = (lo === -Infinity ? 0 : normalPdf(a)) - (hi === Infinity ? 0 : normalPdf(b));
  return (below ? lo * below : 0) + (above ? hi * above : 0) + mu * inside + s * density;
}

/**
 * E[hardswish(X)] for X ~ N(mu, sigma²), hardswish(x) = x·clip(x + 3, 0, 6)/6 = 0 below −3, x above 3:
 *   (E[X²; −3 < X < 3] + 3·E[X; −3 < X < 3])/6 + E[X; X ≥ 3], with, over [a, b] (α, β standardized),
 *   E[X; ·] = mu·P + σ(φ(α) − φ(β)) and E[X²; ·] = (mu² + σ²)·P + σ((mu + a)φ(α) − (mu + b)φ(β)), P = Φ(β) − Φ(α).
 * σ = 0 gives hardswish(mu).
 */
export function hardSwishNormalMean(mu: number, sigma: number): number {
  const s = Math.abs(sigma);
  if (!(s > 0) || !Number.isFinite(s)) return (mu * Math.min(Math.max(mu + 3, 0), 6)) / 6;
  const [a, b] = [(-3 - mu) / s, (3 - mu) / s];
  const inside = a > 0 ? normalCdf(-a) - normalCdf(-b) : normalCdf(b) - normalCdf(a);
  const [pa, pb] = [normalPdf(a), normalPdf(b)];
  const m1 = mu * inside + s * (pa - pb);
  const m2 = (mu * mu + s * s) * inside + s * ((mu - 3) * pa - (mu + 3) * pb);
  const tail = mu * normalCdf(-b) + s * pb; // E[X; X ≥ 3]
  return (m2 + 3 * m1) / 6 + tail;
}

/**
 * E[f(X)] and E[f(X)²] for X ~ N(mu, sigma²) and any f, by composite Simpson over mu ± 10σ (800 intervals):
 * about 1e-6 relative for smooth f, a little less where f has a kink (Relu, Clip). σ = 0 gives f(mu).
 */
export function normalExpectations(f: (x: number) => number, mu: number, sigma: number): [number, number] {
  const s = Math.abs(sigma);
  if (!(s > 0) || !Number.isFinite(s)) {
    const y = f(mu);
    return [y, y * y];
  }
  const n = 800;
  const h = 20 / n;
  let m1 = 0,
    m2 = 0;
  for (let j = 0; j <= n; j++) {
    const z = -10 + j * h;
    const w = (j === 0 || j === n ? 1 : j % 2 ? 4 : 2) * normalPdf(z);
    const y = f(mu + s * z);
    m1 += w * y;
    m2 += w * y * y;
  }
  return [(m1 * h) / 3, (m2 * h) / 3];
}

/** Mean and variance of the largest of k independent standard normals (density k·φ(x)·Φ(x)^(k−1)). */
export function normalMaxMoments(k: number): [number, number] {
  const n = 800;
  const h = 20 / n;
  let m1 = 0,
    m2 = 0;
  for (let j = 0; j <= n; j++) {
    const z = -10 + j * h;
    const w = (j === 0 || j === n ? 1 : j % 2 ? 4 : 2) * k * normalPdf(z) * normalCdf(z) ** (k - 1);
    m1 += w * z;
    m2 += w * z * z;
  }
  const [mean, second] = [(m1 * h) / 3, (m2 * h) / 3];
  return [mean, Math.max(0, second - mean * mean)];
}
