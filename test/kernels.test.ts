import { describe, it, before } from 'node:test';
import { expect } from 'chai';
import {
  Kernels,
  MAX_CHANNELS,
  type ChannelLayout,
  type ChannelQuantizer,
  type ChannelStatsArrays,
  type ErrorSums,
  type StatsVariant,
} from '../src/kernels/kernels.js';
import { randomWeights, seededRandom } from './support/random.js';
import { channelValues, referenceChannel } from './support/reference-stats.js';
import { rejects } from './support/rejects.js';

const size = (l: ChannelLayout) => l.groups * l.outer * l.cg * l.inner;

async function stats(k: Kernels, data: Float32Array, layout: ChannelLayout, variant: StatsVariant = 'simd') {
  const staged = await k.stage(data.length, (dest) => dest.set(data));
  return k.channelStats(staged, layout, variant);
}

/** min/max bit-identical, mean/std within 1e-6 x absmax (docs/definitions.md, "Accuracy"), counts exact. */
function expectMatchesReference(data: Float32Array, layout: ChannelLayout, got: ChannelStatsArrays) {
  for (let ch = 0; ch < layout.groups * layout.cg; ch++) {
    const ref = referenceChannel(channelValues(data, layout, ch));
    const where = `channel ${ch} of ${JSON.stringify(layout)}`;
    if (Number.isNaN(ref.min)) {
      expect(got.min[ch], where).to.be.NaN;
      expect(got.mean[ch], where).to.be.NaN;
    } else {
      expect(got.min[ch], where).to.equal(ref.min);
      expect(got.max[ch], where).to.equal(ref.max);
      const absMax = Math.max(Math.abs(ref.min), Math.abs(ref.max));
      expect(got.absMax[ch], where).to.equal(absMax);
      expect(Math.abs(got.mean[ch]! - ref.mean), `${where} mean`).to.be.at.most(1e-6 * absMax);
      expect(Math.abs(got.std[ch]! - ref.std), `${where} std`).to.be.at.most(1e-6 * absMax);
    }
    expect([got.nan[ch], got.posInf[ch], got.negInf[ch]], where).to.deep.equal([ref.nan, ref.posInf, ref.negInf]);
  }
}

describe('channel statistics kernels', () => {
  let k: Kernels;
  before(async () => {
    k = await Kernels.load();
  });

  const layouts: ChannelLayout[] = [
    { groups: 1, outer: 1, cg: 16, inner: 27 }, // Conv 3x3 over 3 inputs: runs with a SIMD tail
    { groups: 1, outer: 1, cg: 8, inner: 300 }, // long runs: the 32-element blocks
    { groups: 1, outer: 1, cg: 5, inner: 1 }, // a bias-like vector: one element per channel
    { groups: 1, outer: 1, cg: 32, inner: 9 }, // depthwise 3x3
    { groups: 1, outer: 37, cg: 21, inner: 1 }, // Gemm transB=0: 2 column tiles + 5 leftover columns
    { groups: 1, outer: 3, cg: 6, inner: 9 }, // ConvTranspose [Cin=3, Cout=6, 3, 3]
    { groups: 4, outer: 2, cg: 3, inner: 4 }, // grouped ConvTranspose
    { groups: 1, outer: 256, cg: 64, inner: 1 }, // MatMul [256, 64]
  ];

  for (const layout of layouts) {
    for (const variant of ['simd', 'scalar'] as const) {
      it(`${variant} matches a float64 reference for ${JSON.stringify(layout)}`, async () => {
        const data = randomWeights(size(layout), size(layout), 0.01, 0.5);
        expectMatchesReference(data, layout, await stats(k, data, layout, variant));
      });
    }
  }

  it('SIMD and scalar twins agree bit for bit on min/max and closely on mean/std', async () => {
    const layout = { groups: 1, outer: 1, cg: 64, inner: 576 };
    const data = randomWeights(size(layout), 7, -0.02, 0.3);
    const simd = await stats(k, data, layout, 'simd');
    const scalar = await stats(k, data, layout, 'scalar');
    expect(Array.from(simd.min)).to.deep.equal(Array.from(scalar.min));
    expect(Array.from(simd.max)).to.deep.equal(Array.from(scalar.max));
    for (let c = 0; c < 64; c++) {
      expect(Math.abs(simd.mean[c]! - scalar.mean[c]!)).to.be.below(1e-7 * simd.absMax[c]!);
      expect(Math.abs(simd.std[c]! - scalar.std[c]!)).to.be.below(1e-7 * simd.absMax[c]!);
    }
  });

  for (const layout of [
    { groups: 1, outer: 1, cg: 6, inner: 40 },
    { groups: 1, outer: 40, cg: 10, inner: 1 },
  ]) {
    it(`counts NaN/±Inf and keeps them out of the statistics (${layout.inner === 1 ? 'columns' : 'runs'})`, async () => {
      const data = randomWeights(size(layout), 3);
      const at = (ch: number, k: number) => {
        const c = ch % layout.cg;
        return layout.inner === 1 ? k * layout.cg + c : c * layout.inner + k;
      };
      data[at(1, 5)] = NaN;
      data[at(2, 0)] = Infinity; // also the would-be shift value
      data[at(2, 7)] = -Infinity;
      data[at(3, 9)] = NaN;
      data[at(3, 10)] = NaN;
      for (let i = 0; i < 40; i++) data[at(4, i)] = NaN; // a channel with nothing finite
      const got = await stats(k, data, layout);
      expectMatchesReference(data, layout, got);
      expect(Array.from(got.nan)).to.deep.equal([0, 1, 0, 2, 40, 0, 0, 0, 0, 0].slice(0, layout.cg));
      expect(got.posInf[2]).to.equal(1);
      expect(got.negInf[2]).to.equal(1);
    });
  }

  for (const meanOverStd of [0, 1, 3.9, 4.1, 10, 1e4]) {
    it(`keeps mean and std accurate when mean = ${meanOverStd} x std`, async () => {
      // sum of 3 uniforms scaled by `spread` has std = spread / 2
      const layout = { groups: 1, outer: 1, cg: 4, inner: 4099 };
      const data = randomWeights(size(layout), 11, meanOverStd * 0.05, 0.1);
      expectMatchesReference(data, layout, await stats(k, data, layout));
    });
  }

  for (const layout of [
    { groups: 1, outer: 1, cg: 3, inner: 700 },
    { groups: 1, outer: 300, cg: 9, inner: 1 },
  ]) {
    it(`keeps std accurate for tiny weights whose float32 squares underflow (${layout.inner === 1 ? 'columns' : 'runs'})`, async () => {
      const data = randomWeights(size(layout), 13, 1e-24, 1e-23);
      expectMatchesReference(data, layout, await stats(k, data, layout));
    });
  }

  it('gives a constant channel std 0 exactly', async () => {
    const layout = { groups: 1, outer: 1, cg: 2, inner: 300 };
    const data = new Float32Array(600).fill(0.1);
    data.fill(0, 300);
    const got = await stats(k, data, layout);
    expect(Array.from(got.std)).to.deep.equal([0, 0]);
    expect(got.mean[0]).to.equal(Math.fround(0.1));
  });

  it('falls back to the exact path when squares overflow float32', async () => {
    const layout = { groups: 1, outer: 1, cg: 2, inner: 64 };
    const data = randomWeights(size(layout), 5, 0, 1e21);
    const got = await stats(k, data, layout);
    expectMatchesReference(data, layout, got);
    expect(Number.isFinite(got.std[0])).to.equal(true);
  });

  it("reproduces AIMET's CLE scale factors from channel ranges on both axes", async () => {
    // AIMET's own test vectors: W1 = 1..12 and W2 = 2k+1, both [2,2,3,1]; r1 = absmax of W1's output channels,
    // r2 = absmax of W2's input channels (axis 1: outer = Cout, cg = Cin, inner = 3).
    const w1 = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    const w2 = Float32Array.from({ length: 12 }, (_, i) => 2 * i + 1);
    const r1 = (await stats(k, w1, { groups: 1, outer: 1, cg: 2, inner: 6 })).absMax;
    const r2 = (await stats(k, w2, { groups: 1, outer: 2, cg: 2, inner: 3 })).absMax;
    const s = [0, 1].map((i) => Math.sqrt(r1[i]! / r2[i]!));
    expect(s[0]).to.be.closeTo(0.59408853, 1e-8);
    expect(s[1]).to.be.closeTo(0.72231512, 1e-8);
    // Triplet W1 -> W2 (depthwise, output channels) -> W3 = 1..12 (input channels).
    const rDw = (await stats(k, w2, { groups: 1, outer: 1, cg: 2, inner: 6 })).absMax;
    const r3 = (await stats(k, w1, { groups: 1, outer: 2, cg: 2, inner: 3 })).absMax;
    const p = [0, 1].map((i) => Math.cbrt(r1[i]! * rDw[i]! * r3[i]!));
    expect(p.map((pi, i) => r1[i]! / pi)).to.satisfy(
      (v: number[]) => Math.abs(v[0]! - 0.71376586) < 1e-6 && Math.abs(v[1]! - 0.80504064) < 1e-6,
    );
    expect(p.map((pi, i) => pi / r3[i]!)).to.satisfy(
      (v: number[]) => Math.abs(v[0]! - 0.93401311) < 1e-6 && Math.abs(v[1]! - 1.24217332) < 1e-6,
    );
  });
});

describe('histogram kernel', () => {
  let k: Kernels;
  before(async () => {
    k = await Kernels.load();
  });

  it('counts a whole tensor and one channel like a plain loop, with out-of-range and non-finite slots', async () => {
    const layout = { groups: 1, outer: 1, cg: 3, inner: 1000 };
    const data = randomWeights(size(layout), 9, 0, 1);
    data[10] = NaN;
    data[2500] = -Infinity;
    const staged = await k.stage(data.length, (d) => d.set(data));
    const lo = -0.5,
      hi = 0.5,
      bins = 20;
    const expected = (values: ArrayLike<number>) => {
      const counts = new Array<number>(bins).fill(0);
      let below = 0,
        above = 0,
        nonFinite = 0;
      for (const v of Array.from(values)) {
        if (!Number.isFinite(v)) nonFinite++;
        else if (v < lo) below++;
        else if (v > hi) above++;
        else counts[Math.min(bins - 1, Math.floor((v - lo) * (bins / (hi - lo))))]!++;
      }
      return { counts, below, above, nonFinite };
    };
    const whole = k.histogram(staged, layout, -1, lo, hi, bins);
    expect({ ...whole, counts: Array.from(whole.counts) }).to.deep.equal(expected(data));
    const ch2 = k.histogram(staged, layout, 2, lo, hi, bins);
    expect({ ...ch2, counts: Array.from(ch2.counts) }).to.deep.equal(expected(data.subarray(2000, 3000)));
  });

  it('counts like a plain loop when lengths are not multiples of the four count tables, and weights pile in one bin', async () => {
    const layout = { groups: 1, outer: 5, cg: 3, inner: 7 }; // 105 weights; channel c is 5 runs of 7
    const data = randomWeights(size(layout), 4, 0, 1);
    data.fill(0.01, 20, 60); // one bin, many times in a row
    const staged = await k.stage(data.length, (d) => d.set(data));
    const plain = (values: number[], lo: number, hi: number, bins: number) => {
      const counts = new Array<number>(bins).fill(0);
      for (const v of values)
        if (v >= lo && v <= hi) counts[Math.min(bins - 1, Math.floor((v - lo) * (bins / (hi - lo))))]!++;
      return counts;
    };
    expect(Array.from(k.histogram(staged, layout, -1, -1, 1, 9).counts)).to.deep.equal(
      plain(Array.from(data), -1, 1, 9),
    );
    for (const c of [0, 2]) {
      const values = Array.from({ length: 5 }, (_, o) =>
        Array.from(data.subarray((o * 3 + c) * 7, (o * 3 + c + 1) * 7)),
      ).flat();
      expect(Array.from(k.histogram(staged, layout, c, -1, 1, 9).counts), `channel ${c}`).to.deep.equal(
        plain(values, -1, 1, 9),
      );
    }
  });

  it('puts the upper edge in the last bin and a zero-width range in the first', async () => {
    const data = Float32Array.from([0, 0.5, 1, 1]);
    const staged = await k.stage(4, (d) => d.set(data));
    const layout = { groups: 1, outer: 1, cg: 1, inner: 4 };
    expect(Array.from(k.histogram(staged, layout, -1, 0, 1, 2).counts)).to.deep.equal([1, 3]);
    expect(Array.from(k.histogram(staged, layout, -1, 1, 1, 3).counts)).to.deep.equal([2, 0, 0]);
  });
});

describe('quantization error kernel', () => {
  /** q(x) in float32 exactly as docs/definitions.md writes it (x/scale, divided); errors summed in float64. */
  function reference(data: Float32Array, layout: ChannelLayout, quantizers: readonly ChannelQuantizer[]): ErrorSums {
    const f = Math.fround;
    const rne = (x: number) => {
      const r = Math.round(x);
      return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    };
    let signal = 0;
    const noise = quantizers.map(() => 0);
    for (let ch = 0; ch < layout.groups * layout.cg; ch++) {
      for (const x of channelValues(data, layout, ch)) {
        signal += x * x;
        quantizers.forEach(({ scales, zeroPoints, qmin, qmax }, k) => {
          const [s, z] = [scales[ch]!, zeroPoints[ch]!];
          const q = f(f(Math.min(Math.max(f(rne(f(x / s)) + z), qmin), qmax) - z) * s);
          noise[k]! += f(x - q) ** 2;
        });
      }
    }
    return { signal, noise };
  }

  /** INT8 symmetric and INT4 asymmetric with uneven per-channel scales, and an INT8 asymmetric per-tensor one. */
  function quantizersFor(C: number): ChannelQuantizer[] {
    const scales = Float32Array.from({ length: C }, (_, c) => (c % 2 ? 1 : 0.01 + c * 0.003));
    return [
      { scales, zeroPoints: new Float32Array(C), qmin: -127, qmax: 127 },
      { scales, zeroPoints: Float32Array.from({ length: C }, (_, c) => 7 + (c % 3)), qmin: 0, qmax: 15 },
      { scales: new Float32Array(C).fill(0.02), zeroPoints: new Float32Array(C).fill(128), qmin: 0, qmax: 255 },
    ];
  }

  const expectClose = (got: ErrorSums, want: ErrorSums, where: string) => {
    // float32 partial sums over 16 values; x·(1/scale) rounds like x/scale but within an ulp of a half-step
    expect(got.signal, `${where} signal`).to.be.closeTo(want.signal, 1e-6 * want.signal);
    want.noise.forEach((n, k) => expect(got.noise[k], `${where} noise ${k}`).to.be.closeTo(n, 1e-6 * n));
  };

  for (const layout of [
    { groups: 1, outer: 1, cg: 5, inner: 131 },
    { groups: 1, outer: 40, cg: 6, inner: 1 }, // MatMul: the row-by-row columns kernel
    { groups: 1, outer: 37, cg: 35, inner: 1 }, // columns: whole vectors of 16 and a tail of 3
    { groups: 2, outer: 3, cg: 2, inner: 9 },
  ]) {
    it(`matches the definition for several quantizers in one call on ${JSON.stringify(layout)}`, async () => {
      const k = await Kernels.load();
      const data = randomWeights(size(layout), 31, 0, 1);
      data[3] = 0.5; // ties round to even
      data[4] = -1.5;
      const quantizers = quantizersFor(layout.groups * layout.cg);
      const staged = await k.stage(data.length, (d) => d.set(data));
      expectClose(k.quantErrors(staged, layout, quantizers), reference(data, layout, quantizers), 'all');
      // Each quantizer alone gives what it gives among others.
      quantizers.forEach((q, i) =>
        expect(k.quantErrors(staged, layout, [q]).noise[0]).to.equal(
          k.quantErrors(staged, layout, quantizers).noise[i],
        ),
      );
    });
  }

  it('matches the definition on random shapes of both kernels', async () => {
    const k = await Kernels.load();
    const rand = seededRandom(77);
    const int = (n: number) => 1 + Math.floor(rand() * n);
    for (let trial = 0; trial < 40; trial++) {
      const layout =
        trial % 2
          ? { groups: 1, outer: int(50), cg: int(70), inner: 1 }
          : { groups: int(3), outer: int(4), cg: int(9), inner: int(80) };
      const data = randomWeights(size(layout), trial, 0.01, 0.3);
      const quantizers = quantizersFor(layout.groups * layout.cg);
      const staged = await k.stage(data.length, (d) => d.set(data));
      expectClose(
        k.quantErrors(staged, layout, quantizers),
        reference(data, layout, quantizers),
        JSON.stringify(layout),
      );
    }
  });

  it('carries NaN and ±Inf into the noise as the definition does; a scale below 2^-128 keeps zeros exact', async () => {
    const k = await Kernels.load();
    for (const layout of [
      { groups: 1, outer: 1, cg: 3, inner: 40 },
      { groups: 1, outer: 20, cg: 6, inner: 1 },
    ]) {
      const data = randomWeights(size(layout), 3, 0, 1);
      data[17] = NaN;
      const quantizers = quantizersFor(layout.groups * layout.cg);
      for (const value of [NaN, Infinity, -Infinity]) {
        data[17] = value;
        const got = k.quantErrors(await k.stage(data.length, (d) => d.set(data)), layout, quantizers);
        expect(got, `${value} in ${JSON.stringify(layout)}`).to.deep.equal(reference(data, layout, quantizers));
      }
    }
    // Subnormal weights and zeros with their own tiny scale: 1/scale overflows float32.
    const layout = { groups: 1, outer: 1, cg: 1, inner: 40 };
    const data = Float32Array.from({ length: 40 }, (_, i) => (i % 3 ? i * 1e-40 : 0));
    const tiny = {
      scales: Float32Array.of(Math.fround(39e-40 / 127)),
      zeroPoints: Float32Array.of(0),
      qmin: -127,
      qmax: 127,
    };
    const got = k.quantErrors(await k.stage(40, (d) => d.set(data)), layout, [tiny]);
    expect(Number.isFinite(got.noise[0])).to.equal(true);
  });
});

describe('kernel preconditions: typed errors before any kernel touches memory', () => {
  let k: Kernels;
  before(async () => {
    k = await Kernels.load();
  });
  const label = { file: 'm.onnx', tensor: 'w' };

  it('a layout that does not cover the staged tensor is BAD_TENSOR naming file and tensor', async () => {
    const staged = await k.stage(12, (d) => void d.fill(1), label);
    const e = await rejects(
      Promise.resolve().then(() => k.channelStats(staged, { groups: 1, outer: 1, cg: 4, inner: 4 })),
      'BAD_TENSOR',
    );
    expect(e.message).to.equal('m.onnx: tensor "w": its 12 elements do not form 1 groups × 1 × 4 channels × 4');
    expect(e).to.include({ file: 'm.onnx', tensor: 'w' });
  });

  it('more channels than elements (dims claiming channels that hold nothing) is BAD_TENSOR, at any channel count', async () => {
    for (const cg of [4, 2 ** 22, 2 ** 26]) {
      const staged = await k.stage(0, () => {}, label);
      const e = await rejects(
        Promise.resolve().then(() => k.channelStats(staged, { groups: 1, outer: 1, cg, inner: 0 })),
        'BAD_TENSOR',
      );
      expect(e.message).to.equal(
        `m.onnx: tensor "w" has ${cg} output channels but 0 elements: its channels hold no weights`,
      );
      await rejects(
        Promise.resolve().then(() =>
          k.quantErrors(staged, { groups: 1, outer: 1, cg, inner: 0 }, [
            { scales: new Float32Array(0), zeroPoints: new Float32Array(0), qmin: -127, qmax: 127 },
          ]),
        ),
        'BAD_TENSOR',
      );
    }
  });

  it(`more than MAX_CHANNELS (${MAX_CHANNELS}) channels is OUT_OF_MEMORY naming file and tensor; MAX_CHANNELS itself is computed`, async () => {
    const staged = await k.stage(MAX_CHANNELS + 1, (d) => void d.fill(0.5), label);
    const e = await rejects(
      Promise.resolve().then(() => k.channelStats(staged, { groups: 1, outer: 1, cg: MAX_CHANNELS + 1, inner: 1 })),
      'OUT_OF_MEMORY',
    );
    expect(e.message).to.equal(
      `m.onnx: tensor "w" has ${MAX_CHANNELS + 1} output channels, more than the ${MAX_CHANNELS} whose per-channel results weightlens holds`,
    );
    const most = await k.stage(MAX_CHANNELS, (d) => void d.fill(0.5), label);
    expect(k.channelStats(most, { groups: 1, outer: 1, cg: MAX_CHANNELS, inner: 1 }).max.length).to.equal(MAX_CHANNELS);
  });

  it('a tensor beyond wasm32 memory is OUT_OF_MEMORY naming file and tensor, never a trap', async () => {
    const e = await rejects(
      k.stage(2 ** 30, () => {}, label),
      'OUT_OF_MEMORY',
    );
    expect(e.message).to.match(
      /^m\.onnx: tensor "w": its 1073741824 float32 values would need \d+ bytes of WebAssembly memory, more than the \d+ a wasm32 module can address$/,
    );
    await rejects(
      k.stage(-1, () => {}, label),
      'BAD_TENSOR',
    );
  });
});
