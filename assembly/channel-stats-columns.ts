// Fused per-channel statistics when the channel is the last axis ([rows, cols], channel = column:
// Gemm transB=0, MatMul, 1x1 ConvTranspose). SIMD across 8 neighbouring columns at a time, walking
// down the rows, so each row read is 32 contiguous bytes and nothing is transposed. f32 partial sums
// over 8 rows are promoted into f64 sums kept in the mean/std slots of the output until the tile ends.
// Rows are taken ROW_BLOCK at a time for every tile: neighbouring tiles then read the same cache lines
// and pages while they are fresh (a whole column walk touches a new page per row, bound by TLB misses).
// Between row blocks a tile's min and max wait in its min/max slots.
// Leftover columns (cols % 8), channels with NaN/±Inf and tiny channels go through channelStatsExact.
import { fastSumsUsable, offAbsMax, offMax, offMean, offMin, offStd, writeChannel } from './layout';
import { channelStatsExact } from './channel-stats-scalar';

const TILE = 8;
const FLUSH_ROWS = 8;

@inline function promoteInto(ptr: usize, v: v128): void {
  const hi = v128.shuffle<f32>(v, v, 2, 3, 0, 1);
  v128.store(ptr, f64x2.add(v128.load(ptr), f64x2.promote_low_f32x4(v)));
  v128.store(ptr, f64x2.add(v128.load(ptr, 16), f64x2.promote_low_f32x4(hi)), 16);
}

const ROW_BLOCK = 32; // a multiple of FLUSH_ROWS: the partial sums are those of a whole column walk

/** Zeroes tile c0's f64 sums and starts its min/max. */
function startTile(cols: i32, c0: i32, out: usize): void {
  memory.fill(out + offMean(cols) + (<usize>c0 << 3), 0, TILE << 3);
  memory.fill(out + offStd(cols) + (<usize>c0 << 3), 0, TILE << 3);
  const minPtr = out + offMin(cols) + (<usize>c0 << 2), maxPtr = out + offMax(cols) + (<usize>c0 << 2);
  v128.store(minPtr, f32x4.splat(Infinity));
  v128.store(minPtr, f32x4.splat(Infinity), 16);
  v128.store(maxPtr, f32x4.splat(-Infinity));
  v128.store(maxPtr, f32x4.splat(-Infinity), 16);
}

/** The shifts of tile c0: each column's first value (0 where that is not finite; the column is then redone exactly). */
@inline function shift(first: usize, offset: usize): v128 {
  const k = v128.load(first + offset);
  return v128.and(k, f32x4.lt(f32x4.abs(k), f32x4.splat(Infinity)));
}

/** Rows [r, end) of tile c0 into its sums and min/max. */
function accumulateTile(src: usize, r: i32, end: i32, cols: i32, c0: i32, out: usize): void {
  const rowBytes = <usize>cols << 2;
  const first = src + (<usize>c0 << 2);
  const k0 = shift(first, 0), k1 = shift(first, 16);
  const minPtr = out + offMin(cols) + (<usize>c0 << 2), maxPtr = out + offMax(cols) + (<usize>c0 << 2);
  let min0 = v128.load(minPtr), min1 = v128.load(minPtr, 16);
  let max0 = v128.load(maxPtr), max1 = v128.load(maxPtr, 16);
  const sPtr = out + offMean(cols) + (<usize>c0 << 3);
  const qPtr = out + offStd(cols) + (<usize>c0 << 3);
  while (r < end) {
    const blockEnd = min(r + FLUSH_ROWS, end);
    let s0 = f32x4.splat(0), s1 = s0, q0 = s0, q1 = s0;
    let p = first + <usize>r * rowBytes;
    for (; r < blockEnd; r++) {
      const a = v128.load(p), b = v128.load(p, 16);
      const da = f32x4.sub(a, k0), db = f32x4.sub(b, k1);
      s0 = f32x4.add(s0, da);
      s1 = f32x4.add(s1, db);
      q0 = f32x4.add(q0, f32x4.mul(da, da));
      q1 = f32x4.add(q1, f32x4.mul(db, db));
      min0 = f32x4.pmin(min0, a);
      max0 = f32x4.pmax(max0, a);
      min1 = f32x4.pmin(min1, b);
      max1 = f32x4.pmax(max1, b);
      p += rowBytes;
    }
    promoteInto(sPtr, s0);
    promoteInto(sPtr + 32, s1);
    promoteInto(qPtr, q0);
    promoteInto(qPtr + 32, q1);
  }
  v128.store(minPtr, min0);
  v128.store(minPtr, min1, 16);
  v128.store(maxPtr, max0);
  v128.store(maxPtr, max1, 16);
}

/** Tile c0's results from its sums and min/max (exactly, where the fast sums cannot be trusted). */
function finishTile(src: usize, rows: i32, cols: i32, c0: i32, out: usize): void {
  const first = src + (<usize>c0 << 2);
  const minPtr = out + offMin(cols) + (<usize>c0 << 2);
  const maxPtr = out + offMax(cols) + (<usize>c0 << 2);
  const kPtr = out + offAbsMax(cols) + (<usize>c0 << 2);
  const sPtr = out + offMean(cols) + (<usize>c0 << 3);
  const qPtr = out + offStd(cols) + (<usize>c0 << 3);
  // Park the shifts in this tile's absMax slots, beside its min/max (lanes cannot be indexed by a
  // variable); writeChannel then overwrites slot j only after reading it.
  v128.store(kPtr, shift(first, 0));
  v128.store(kPtr, shift(first, 16), 16);
  for (let j = 0; j < TILE; j++) {
    const mn = load<f32>(minPtr + (<usize>j << 2));
    const mx = load<f32>(maxPtr + (<usize>j << 2));
    const K = load<f32>(kPtr + (<usize>j << 2));
    const S = load<f64>(sPtr + (<usize>j << 3));
    const Q = load<f64>(qPtr + (<usize>j << 3));
    if (fastSumsUsable(mn, mx, S, Q)) {
      writeChannel(out, cols, c0 + j, mn, mx, K, S, Q, <f64>rows, 0, 0, 0);
    } else {
      channelStatsExact(src, 1, rows, cols, 1, c0 + j, out);
    }
  }
}

export function channelStatsColumnsSimd(src: usize, rows: i32, cols: i32, out: usize): void {
  const tiled = cols - cols % TILE;
  for (let c0 = 0; c0 < tiled; c0 += TILE) startTile(cols, c0, out);
  for (let r = 0; r < rows; r += ROW_BLOCK) {
    const end = min(r + ROW_BLOCK, rows);
    for (let c0 = 0; c0 < tiled; c0 += TILE) accumulateTile(src, r, end, cols, c0, out);
  }
  for (let c0 = 0; c0 < tiled; c0 += TILE) finishTile(src, rows, cols, c0, out);
  for (let c0 = tiled; c0 < cols; c0++) channelStatsExact(src, 1, rows, cols, 1, c0, out);
}
