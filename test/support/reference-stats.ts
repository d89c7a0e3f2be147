// An independent, obviously-correct per-channel reference in plain JS float64 (two passes, no shifts),
// used to check the Wasm kernels.
import type { ChannelLayout } from '../../src/kernels/channel-stats.js';

export interface ReferenceChannel {
  min: number;
  max: number;
  mean: number;
  std: number;
  nan: number;
  posInf: number;
  negInf: number;
}

export function channelValues(data: Float32Array, l: ChannelLayout, ch: number): number[] {
  const g = Math.floor(ch / l.cg);
  const c = ch % l.cg;
  const values: number[] = [];
  for (let o = 0; o < l.outer; o++) {
    const start = ((g * l.outer + o) * l.cg + c) * l.inner;
    for (let i = 0; i < l.inner; i++) values.push(data[start + i]!);
  }
  return values;
}

export function referenceChannel(values: number[]): ReferenceChannel {
  const finite = values.filter(Number.isFinite);
  const r: ReferenceChannel = {
    min: NaN, max: NaN, mean: NaN, std: NaN,
    nan: values.filter(Number.isNaN).length,
    posInf: values.filter((v) => v === Infinity).length,
    negInf: values.filter((v) => v === -Infinity).length,
  };
  if (finite.length === 0) return r;
  r.min = Math.min(...finite);
  r.max = Math.max(...finite);
  r.mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  r.std = Math.sqrt(finite.reduce((a, b) => a + (b - r.mean) ** 2, 0) / finite.length);
  return r;
}
