// An independent, obviously-correct per-channel reference in plain JS float64 (two passes, no shifts),
// used to check the Wasm kernels and the stats report.
import { expect } from 'chai';
import type { ChannelLayout } from '../../src/kernels/kernels.js';
import type { LayerReport } from '../../src/report/stats-report.js';

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
    min: NaN,
    max: NaN,
    mean: NaN,
    std: NaN,
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

export interface Reference {
  min: (number | null)[];
  max: (number | null)[];
  mean: (number | null)[];
  std: (number | null)[];
  absMax: (number | null)[];
}

/**
 * Per-channel figures straight from the definition (float64, population std, finite values only), with
 * `channelOf(i)` saying which output channel flat element i belongs to.
 */
export function reference(values: number[], channels: number, channelOf: (i: number) => number): Reference {
  const members = Array.from({ length: channels }, (): number[] => []);
  values.forEach((v, i) => Number.isFinite(v) && members[channelOf(i)]!.push(Math.fround(v)));
  const pick = (f: (xs: number[]) => number) => members.map((xs) => (xs.length ? f(xs) : null));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    min: pick((xs) => Math.min(...xs)),
    max: pick((xs) => Math.max(...xs)),
    mean: pick(mean),
    std: pick((xs) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / xs.length)),
    absMax: pick((xs) => Math.max(...xs.map(Math.abs))),
  };
}

/** min/max/absMax exactly, mean/std within 1e-6 × the channel's absMax. */
export function expectChannels(layer: LayerReport, ref: Reference): void {
  const where = `layer ${layer.name}`;
  expect(layer.channels.min, `${where} min`).to.deep.equal(ref.min);
  expect(layer.channels.max, `${where} max`).to.deep.equal(ref.max);
  expect(layer.channels.absMax, `${where} absMax`).to.deep.equal(ref.absMax);
  for (const key of ['mean', 'std'] as const) {
    expect(layer.channels[key].length, `${where} ${key}`).to.equal(ref[key].length);
    ref[key].forEach((r, c) => {
      const got = layer.channels[key][c];
      if (r === null) expect(got, `${where} ${key}[${c}]`).to.equal(null);
      else expect(got, `${where} ${key}[${c}]`).to.be.closeTo(r, 1e-6 * Math.max(1e-30, ref.absMax[c]!));
    });
  }
}
