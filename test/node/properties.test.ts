// Node-only property tests (fast-check, fixed seeds): the three ways to store a float32 weight give the same
// statistics; float16 and bfloat16 decode bit-exactly for all 65,536 patterns against a decoder written here
// from the formats' definitions; the SIMD and scalar statistics kernels agree on random layouts, empty and
// odd sizes included, and both refuse a layout with more channels than elements.
import { describe, it, before } from 'node:test';
import { expect } from 'chai';
import fc from 'fast-check';
import { WeightlensError } from '../../src/errors.js';
import { Kernels, type ChannelLayout } from '../../src/kernels/kernels.js';
import { resolveConstant } from '../../src/onnx/model.js';
import { openModel } from '../../src/onnx/open.js';
import { computeStats } from '../../src/pipeline/compute-stats.js';
import {
  DataType,
  externalTensor,
  f32Bytes,
  initializersModel,
  memorySource,
  oneNodeModel,
  rawTensor,
  type ITensorProto,
} from '../fixtures/onnx-bytes.js';

const SEED = 20261203;

/** float32 values as the file would hold them: any bit pattern, NaN and ±Inf included. */
const float32Values = (maxLength: number) => fc.float32Array({ minLength: 1, maxLength });

async function layerStats(weight: ITensorProto, files: Record<string, Uint8Array> = {}) {
  const bytes = oneNodeModel('Conv', 'conv', ['x', weight.name!], [weight]);
  const model = await openModel(bytes, { fileName: 'm.onnx', externalData: memorySource(files) });
  return (await computeStats(model, { quant: true })).layers;
}

/** float16 by its definition: 1 sign, 5 exponent (bias 15), 10 fraction bits; subnormals below exponent 1. */
function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 by its definition: 1 sign, 8 exponent (bias 127), 7 fraction bits. */
function bfloat16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 7) & 0xff;
  const fraction = bits & 0x7f;
  if (exponent === 0xff) return fraction ? NaN : sign * Infinity;
  if (exponent === 0) return sign * fraction * 2 ** -133;
  return sign * (1 + fraction / 128) * 2 ** (exponent - 127);
}

const ALL_PATTERNS = Array.from({ length: 65536 }, (_, i) => i);

describe('properties', () => {
  it('a float32 weight in raw_data, float_data or external data gives identical statistics', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), float32Values(120), async (channels, values) => {
        const perChannel = Math.max(1, Math.floor(values.length / channels));
        const data = Array.from(values.subarray(0, channels * perChannel));
        if (data.length < channels) return; // fewer values than channels: nothing to compare
        const dims = [channels, 1, 1, perChannel];
        const raw = await layerStats(rawTensor('w', dims, DataType.FLOAT, f32Bytes(data)));
        const typed = await layerStats({ name: 'w', dims, dataType: DataType.FLOAT, floatData: data });
        const external = await layerStats(externalTensor('w', dims, 'w.bin', 0, data.length * 4), {
          'w.bin': f32Bytes(data),
        });
        expect(typed).to.deep.equal(raw);
        expect(external).to.deep.equal(raw);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  for (const [dtype, dataType, definition] of [
    ['float16', DataType.FLOAT16, float16Value],
    ['bfloat16', DataType.BFLOAT16, bfloat16Value],
  ] as const) {
    for (const field of ['raw_data', 'int32_data'] as const) {
      it(`${dtype} in ${field}: all 65,536 bit patterns decode as the format defines them`, async () => {
        const tensor: ITensorProto =
          field === 'raw_data'
            ? rawTensor('h', [65536], dataType, new Uint8Array(Uint16Array.from(ALL_PATTERNS).buffer))
            : { name: 'h', dims: [65536], dataType, int32Data: ALL_PATTERNS };
        const model = await openModel(initializersModel([tensor]), { fileName: `${dtype}.onnx` });
        const decoded = new Float32Array(65536);
        await resolveConstant(model.main, 'h')!.readFloat32Into(decoded);
        const wrong = ALL_PATTERNS.filter((bits) => !Object.is(decoded[bits], definition(bits)));
        expect(wrong.map((b) => `0x${b.toString(16)}: ${decoded[b]} vs ${definition(b)}`).slice(0, 5)).to.deep.equal(
          [],
        );
      });
    }
  }

  describe('SIMD and scalar statistics kernels', () => {
    let k: Kernels;
    before(async () => {
      k = await Kernels.load();
    });

    const layouts = fc.record({
      groups: fc.integer({ min: 1, max: 4 }),
      outer: fc.integer({ min: 0, max: 40 }),
      cg: fc.integer({ min: 0, max: 40 }),
      inner: fc.integer({ min: 0, max: 70 }),
    });
    const channels = (l: ChannelLayout) => l.groups * l.cg;
    const elements = (l: ChannelLayout) => l.groups * l.outer * l.cg * l.inner;
    /** Mostly ordinary weights, with NaN, ±Inf, zeros, subnormals and huge values mixed in. */
    const weight = fc.oneof(
      { weight: 8, arbitrary: fc.float({ min: -10, max: 10, noNaN: true }) },
      { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-40, 3.4e38, -3.4e38, 1e20) },
    );

    it('agree: min/max bit for bit (up to the sign of zero), NaN/±Inf counts exactly, mean/std within 1e-6 x absmax', async () => {
      await fc.assert(
        fc.asyncProperty(
          layouts.filter((l) => channels(l) <= elements(l)),
          fc.infiniteStream(weight),
          async (layout: ChannelLayout, stream) => {
            const size = elements(layout);
            const data = Float32Array.from(stream.take(size));
            const staged = await k.stage(size, (dest) => dest.set(data));
            const simd = k.channelStats(staged, layout, 'simd');
            const scalar = k.channelStats(staged, layout, 'scalar');
            for (const key of ['nan', 'posInf', 'negInf'] as const)
              expect(Array.from(simd[key]), key).to.deep.equal(Array.from(scalar[key]));
            // Extremes as float32 bits, except the sign of a zero: of a channel holding both 0 and -0 either is
            // its max (pmax/pmin keep whichever came first).
            const bits = (values: ArrayLike<number>) =>
              Array.from(new Uint32Array(Float32Array.from(values, (v) => (v === 0 ? 0 : v)).buffer));
            for (const key of ['min', 'max', 'absMax'] as const)
              expect(bits(simd[key]), key).to.deep.equal(bits(scalar[key]));
            for (let c = 0; c < simd.mean.length; c++) {
              const bound = 1e-6 * (scalar.absMax[c] ?? 0);
              for (const key of ['mean', 'std'] as const) {
                const [a, b] = [simd[key][c]!, scalar[key][c]!];
                if (Number.isNaN(b)) expect(a, `${key} ${c}`).to.be.NaN;
                else expect(Math.abs(a - b), `${key} of channel ${c}: ${a} vs ${b}`).to.be.at.most(bound);
              }
            }
          },
        ),
        { seed: SEED, numRuns: 400 },
      );
    });

    it('refuse a layout with more channels than elements (BAD_TENSOR), both of them', async () => {
      await fc.assert(
        fc.asyncProperty(
          layouts.filter((l) => channels(l) > elements(l)),
          async (layout: ChannelLayout) => {
            const staged = await k.stage(elements(layout), (dest) => void dest.fill(1));
            for (const variant of ['simd', 'scalar'] as const) {
              expect(() => k.channelStats(staged, layout, variant), variant)
                .to.throw(WeightlensError)
                .with.property('code', 'BAD_TENSOR');
            }
          },
        ),
        { seed: SEED, numRuns: 50 },
      );
    });
  });
});
