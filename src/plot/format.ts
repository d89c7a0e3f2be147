// Number formatting shared by the charts' text alternatives, the readouts and the tables.
import { shortNumber } from '../report/short-number.js';

/** Six significant digits, no trailing zeros; '—' for a missing value (a channel without finite values). */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  const text =
    abs >= 1e-4 && abs < 1e6 ? String(Number(value.toPrecision(6))) : value.toExponential(4).replace(/\.?0+e/, 'e');
  return text.replace('-', '−');
}

/** "0–15" style channel span. */
export const formatSpan = ([lo, hi]: readonly [number, number]) => (lo === hi ? `${lo}` : `${lo}–${hi}`);

/** Up to `max` items, then "and N more". */
export function formatList(items: readonly (number | string)[], max = 20): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** Integer ticks for a channel axis: about `count` of them, at 1, 2 or 5 times a power of ten. */
export function channelTicks(lo: number, hi: number, count: number): number[] {
  const raw = Math.max(1, (hi - lo) / Math.max(1, count));
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) ticks.push(t);
  return ticks;
}

/** Axis tick text: at most 4 significant digits (1.3e34 rather than 1.4999999999999999e+34), true minus signs. */
export const tickFormat = (value: number) => shortNumber(value).replace('-', '−');

/** Vertical room one tick label needs at the charts' 12px font. */
export const TICK_GAP_PX = 18;

/**
 * Ticks for a vertical log axis over [lo, hi] (lo > 0) drawn `pixels` tall: powers of ten — every k-th where
 * decades are crowded — and also 2 and 5 times them where a decade has room, so labels never overlap.
 */
export function logTicks(lo: number, hi: number, pixels: number): number[] {
  const first = Math.floor(Math.log10(lo));
  const last = Math.ceil(Math.log10(Math.max(hi, lo)));
  const perDecade = pixels / Math.max(1, last - first);
  // 1 -> 2 spans log10(2) ≈ 0.3 of a decade, the closest pair.
  const multiples = perDecade * Math.log10(2) >= TICK_GAP_PX ? [1, 2, 5] : [1];
  const stride = Math.max(1, Math.ceil(TICK_GAP_PX / perDecade));
  const ticks: number[] = [];
  for (let e = first; e <= last; e += stride) for (const m of multiples) ticks.push(Number(`${m}e${e}`));
  return ticks.filter((t) => t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9));
}
