// Weights too large to stage whole are read and reduced chunk by chunk (src/kernels/tensor-chunks.ts,
// src/pipeline/staged-parts.ts). The chunks cover every element once, and every figure computed from
// chunks equals the whole tensor's: statistics (min/max/counts exactly, mean/std to float64 rounding),
// SQNR and histograms — for every kind of layout and every way a tensor is stored.
import { describe, it, before } from 'node:test';
import { expect } from 'chai';
import { findWeightLayers } from '../src/analysis/layers.js';
import { Kernels, channelCount, elementCount, type ChannelLayout } from '../src/kernels/kernels.js';
import { blockChunks, ChannelStatsMerger, tensorChunks } from '../src/kernels/tensor-chunks.js';
import { openModel } from '../src/onnx/open.js';
import { computeStats } from '../src/pipeline/compute-stats.js';
import { layerHistogram } from '../src/pipeline/weight-histogram.js';
import type { LayerReport } from '../src/report/stats-report.js';
import {
  DataType,
  externalTensor,
  f32Bytes,
  memorySource,
  oneNodeModel,
  rawTensor,
  type IAttributeProto,
  type ITensorProto,
} from './fixtures/onnx-bytes.js';
import { seededRandom } from './support/random.js';

const LAYOUTS: ChannelLayout[] = [
  { groups: 1, outer: 1, cg: 5, inner: 37 }, // Conv
  { groups: 1, outer: 23, cg: 7, inner: 1 }, // MatMul
  { groups: 3, outer: 4, cg: 2, inner: 9 }, // ConvTranspose, grouped
  { groups: 1, outer: 1, cg: 1, inner: 101 }, // one channel
  { groups: 2, outer: 1, cg: 3, inner: 1 },
];

describe('tensor chunks', () => {
  it('cover every element once, in order, each a layout of at most the budget', () => {
    for (const layout of LAYOUTS) {
      for (const max of [1, 2, 5, 9, 36, 37, 38, 100, 10_000]) {
        let next = 0;
        for (const chunk of tensorChunks(layout, max)) {
          expect(chunk.first, `${JSON.stringify(layout)} max ${max}`).to.equal(next);
          expect(chunk.count).to.equal(elementCount(chunk.layout));
          expect(chunk.count).to.be.within(1, Math.max(max, 1));
          expect(chunk.channel + channelCount(chunk.layout)).to.be.at.most(channelCount(layout));
          next += chunk.count;
        }
        expect(next).to.equal(elementCount(layout));
      }
    }
  });

  it('for per-group blocks: cover every element once, in order, cut only between whole strips of blocks', () => {
    for (const layout of [
      { mats: 1, rows: 70, cols: 13 }, // MatMul
      { mats: 5, rows: 45, cols: 9 }, // Conv
      { mats: 7, rows: 100, cols: 1 }, // Gemm transB=1
    ]) {
      for (const block of [1, 4, 32]) {
        for (const max of [1, 9, 100, 500, 10_000]) {
          const where = `${JSON.stringify(layout)} block ${block} max ${max}`;
          let next = 0;
          for (const chunk of blockChunks(layout, block, max)) {
            const { mats, rows, cols } = chunk.layout;
            expect(chunk.first, where).to.equal(next);
            expect(chunk.count, where).to.equal(mats * rows * cols);
            expect(cols, where).to.equal(layout.cols);
            // A chunk starts at a block boundary of its mat and holds whole mats or a run of strips.
            const row = (chunk.first / cols) % layout.rows;
            expect(row % block, where).to.equal(0);
            expect(mats === 1 || rows === layout.rows, where).to.equal(true);
            expect(chunk.count <= max || rows <= block, `${where}: over the budget only for one strip`).to.equal(true);
            next += chunk.count;
          }
          expect(next, where).to.equal(layout.mats * layout.rows * layout.cols);
        }
      }
    }
  });
});

describe('statistics merged over chunks', () => {
  let kernels: Kernels;
  before(async () => {
    kernels = await Kernels.load();
  });

  it('equal the whole tensor statistics, non-finite values included', async () => {
    const random = seededRandom(7);
    for (const layout of LAYOUTS) {
      const values = Float32Array.from({ length: elementCount(layout) }, () => (random() - 0.3) * 8 + 100);
      values[3] = NaN;
      values[values.length - 1] = -Infinity;
      const whole = kernels.channelStats(await kernels.stage(values.length, (d) => d.set(values)), layout);
      for (const max of [1, 4, 11, 40]) {
        const merger = new ChannelStatsMerger(channelCount(layout));
        for (const chunk of tensorChunks(layout, max)) {
          const part = values.subarray(chunk.first, chunk.first + chunk.count);
          merger.add(chunk, kernels.channelStats(await kernels.stage(chunk.count, (d) => d.set(part)), chunk.layout));
        }
        const merged = merger.result();
        const what = `${JSON.stringify(layout)} in chunks of ${max}`;
        for (const key of ['min', 'max', 'absMax', 'nan', 'posInf', 'negInf'] as const)
          expect(Array.from(merged[key]), `${what}: ${key}`).to.deep.equal(Array.from(whole[key]));
        // The bar the kernels hold (docs/definitions.md): within 1e-6 × the channel's absMax of float64.
        for (const key of ['mean', 'std'] as const)
          whole[key].forEach((v, c) => {
            if (Number.isNaN(v)) expect(merged[key][c], `${what}: ${key} ${c}`).to.be.NaN;
            else expect(merged[key][c], `${what}: ${key} ${c}`).to.be.closeTo(v, 1e-6 * whole.absMax[c]!);
          });
      }
    }
  });
});

/**
 * Every layer figure but mean/std and SQNR is exact. Mean/std: within the kernels' bar, 1e-6 × absMax (the
 * SIMD kernel sums a whole tensor in float32 lanes). SQNR: the same float64 sums in another order.
 */
function expectSameLayers(chunked: LayerReport[], whole: LayerReport[], what: string): void {
  expect(chunked.length).to.equal(whole.length);
  chunked.forEach((c, i) => {
    const w = whole[i]!;
    const exact = (r: LayerReport) => ({ ...r, channels: { ...r.channels, mean: null, std: null }, quant: null });
    expect(exact(c), `${what}: ${w.name}`).to.deep.equal(exact(w));
    const close = (a: readonly (number | null)[], b: readonly (number | null)[], name: string) =>
      b.forEach((v, k) =>
        expect(a[k], `${what}: ${w.name} ${name}[${k}]`).to.be.closeTo(v!, 1e-6 * w.channels.absMax[k]!),
      );
    close(c.channels.mean, w.channels.mean, 'mean');
    close(c.channels.std, w.channels.std, 'std');
    const figures = (r: LayerReport) => JSON.stringify(r.quant).match(/-?[\d.]+(e-?\d+)?|null/g)!;
    const [a, b] = [figures(c), figures(w)];
    expect(a.length, `${what}: ${w.name} SQNR figures`).to.equal(b.length);
    b.forEach((v, k) => {
      if (v === 'null') expect(a[k]).to.equal('null');
      else expect(Number(a[k]), `${what}: ${w.name} SQNR ${k}`).to.be.closeTo(Number(v), 1e-6);
    });
  });
}

describe('computeStats and histograms in chunks', () => {
  const random = seededRandom(11);
  const weights = (n: number) => Array.from({ length: n }, () => random() * 2 - 1);
  const cases: { what: string; op: string; dims: number[]; attributes?: IAttributeProto[] }[] = [
    { what: 'Conv', op: 'Conv', dims: [6, 4, 3, 3] },
    { what: 'grouped Conv', op: 'Conv', dims: [6, 2, 3, 3], attributes: [{ name: 'group', i: 3, type: 2 }] },
    { what: 'MatMul', op: 'MatMul', dims: [40, 12] },
    { what: 'MatMul, K of 70 (per-group strips of 32, 32 and 6)', op: 'MatMul', dims: [70, 5] },
  ];
  const storages = ['raw', 'external', 'float_data'] as const;

  for (const { what, op, dims, attributes } of cases) {
    for (const storage of storages) {
      it(`${what}, ${storage}: the same report and histograms as staged whole`, async () => {
        const values = weights(dims.reduce((a, b) => a * b, 1));
        const files: Record<string, Uint8Array> = {};
        let tensor: ITensorProto;
        if (storage === 'raw') tensor = rawTensor('w', dims, DataType.FLOAT, f32Bytes(values));
        else if (storage === 'float_data') tensor = { name: 'w', dims, dataType: DataType.FLOAT, floatData: values };
        else {
          files['w.bin'] = f32Bytes([0, ...values]); // offset 4: reads must add the tensor's own offset
          tensor = externalTensor('w', dims, 'w.bin', 4, values.length * 4);
        }
        const bytes = oneNodeModel(op, 'layer', ['x', 'w'], [tensor], attributes);
        const model = await openModel(bytes, { fileName: 'm.onnx', externalData: memorySource(files) });
        const kernels = await Kernels.load();
        const whole = await computeStats(model, { kernels, quant: true });
        for (const chunkElements of [1, 7, 50]) {
          const chunked = await computeStats(model, { kernels, quant: true, chunkElements });
          expectSameLayers(chunked.layers, whole.layers, `${what} ${storage} chunks of ${chunkElements}`);
          const layers = findWeightLayers(model);
          for (const channel of [null, 0, 3]) {
            const request = { layer: 'layer', channel, bins: 16 };
            const one = await layerHistogram(model, layers, request, { kernels });
            const many = await layerHistogram(model, layers, request, { kernels, chunkElements });
            expect(many, `${what} ${storage} histogram of channel ${channel}`).to.deep.equal(one);
          }
        }
      });
    }
  }
});

describe('per-group figures of a chunked weight', () => {
  it('are the same whether all block sizes share each read or each size is read alone', async () => {
    const random = seededRandom(5);
    const values = Array.from({ length: 40 * 12 }, () => random() * 2 - 1);
    const bytes = oneNodeModel(
      'MatMul',
      'mm',
      ['x', 'w'],
      [rawTensor('w', [40, 12], DataType.FLOAT, f32Bytes(values))],
    );
    const model = await openModel(bytes, { fileName: 'm.onnx' });
    const kernels = await Kernels.load();
    const blocks = [2, 4, 8];
    const whole = await computeStats(model, { kernels, quant: true, blocks });
    // Strips of lcm(2, 4, 8) = 8 rows × 12 columns = 96 elements: 100 shares each read, 50 reads per size.
    for (const chunkElements of [100, 50]) {
      const chunked = await computeStats(model, { kernels, quant: true, blocks, chunkElements });
      expectSameLayers(chunked.layers, whole.layers, `chunks of ${chunkElements}`);
    }
  });
});

describe('progress within a weight read in chunks', () => {
  it('moves strictly forward through both passes of one large layer', async () => {
    const values = Array.from({ length: 64 * 9 }, (_, i) => Math.sin(i));
    const bytes = oneNodeModel(
      'Conv',
      'conv',
      ['x', 'w'],
      [rawTensor('w', [64, 1, 3, 3], DataType.FLOAT, f32Bytes(values))],
    );
    const model = await openModel(bytes, { fileName: 'm.onnx' });
    const fractions: number[] = [];
    await computeStats(model, { quant: true, chunkElements: 72, onProgress: (p) => fractions.push(p.fraction) });
    expect(fractions.length, 'start, each chunk of both passes but the last, end').to.equal(1 + (2 * 8 - 1) + 1);
    fractions.slice(1).forEach((f, k) => expect(f, `event ${k + 1}`).to.be.above(fractions[k]!));
    expect(fractions.at(-1)).to.equal(1);
  });
});
