// CLE in flat memory (src/cle/plan-cle.ts, src/cle/rows.ts): weights read in blocks of rows give the very
// values a whole read gives, and weights handed to a Spill as they are finished export the same model as
// weights kept in memory.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { planCle, SPILL_MIN_BYTES, type CleResult } from '../src/cle/plan-cle.js';
import { dataFileReader, type Spill } from '../src/onnx/export/data-file.js';
import { memorySource } from './fixtures/onnx-bytes.js';
import { equalizeModel } from '../src/pipeline/equalize-model.js';
import { attr, CleGraph, inMemory, randomInput, relativeDifference, run, type Tensor } from './support/cle-graph.js';

const pads = (k: number) => [attr.ints('pads', [k >> 1, k >> 1, k >> 1, k >> 1])];

/** Conv → BN → Relu → depthwise Conv → BN → Relu → 1×1 Conv → Relu → Conv: folds, a triplet, absorption. */
function convChain(channels: number): CleGraph {
  const g = new CleGraph(11);
  let x = g.node('Conv', 'c0', ['x', g.uneven('c0.w', [channels, 8, 3, 3], 0)], pads(3));
  x = g.node('Relu', 'r0', [g.bn('bn0', x, channels)]);
  x = g.node('Conv', 'dw', [x, g.uneven('dw.w', [channels, 1, 3, 3], 0)], [...pads(3), attr.int('group', channels)]);
  x = g.node('Relu', 'r1', [g.bn('bn1', x, channels)]);
  x = g.node('Relu', 'r2', [g.node('Conv', 'c2', [x, g.uneven('c2.w', [24, channels, 1, 1], 1)])]);
  g.node('Conv', 'c3', [x, g.uneven('c3.w', [8, 24, 3, 3], 1)], pads(3));
  return g;
}

/** MatMul [K, N] layers (rows are inputs) with a bias Add, across Relus. */
function linearChain(): CleGraph {
  const g = new CleGraph(12);
  let x = g.node('MatMul', 'mm0', ['x', g.uneven('mm0.w', [16, 64], 1)]);
  x = g.node('Relu', 'r0', [g.node('Add', 'mm0_bias', [x, g.tensor('mm0.b', [64])])]);
  x = g.node('Relu', 'r1', [g.node('MatMul', 'mm1', [x, g.uneven('mm1.w', [64, 48], 1)])]);
  g.node('MatMul', 'mm2', [x, g.uneven('mm2.w', [48, 8], 0)]);
  return g;
}

/** Everything a plan says and writes, as plain values (a spilled tensor would throw). */
function planned(r: CleResult) {
  const { plan, ...rest } = r;
  return {
    ...rest,
    clipRewrites: rest.clipRewrites.map((n) => n.name),
    tensors: plan.tensors.map((t) => [t.tensor.name, Array.from(inMemory(t.values))]),
    added: plan.addInitializers.map((t) => [t.name, Array.from(t.values)]),
  };
}

describe('CLE reads weights in blocks of rows', () => {
  for (const [name, graph] of [
    ['Conv chain with a depthwise triplet and BatchNorm folds', () => convChain(16)],
    ['MatMul chain with a linear bias', linearChain],
  ] as const) {
    it(`${name}: every block size writes the values a whole read writes`, async () => {
      const model = graph().model();
      const whole = planned(await planCle(model));
      expect(whole.tensors.length).to.be.greaterThan(2);
      // 5: smaller than one row (read whole); 97: odd blocks of rows; 200: a few rows per block.
      for (const chunkElements of [5, 97, 200]) {
        expect(planned(await planCle(model, { chunkElements })), `blocks of ${chunkElements}`).to.deep.equal(whole);
      }
    });
  }
});

describe('CLE spills large rewritten weights', () => {
  /** A Spill in memory that records what it was given. */
  function recordingSpill() {
    const sizes: number[] = [];
    const spill: Spill = async (pieces) => {
      const parts: Uint8Array[] = [];
      for await (const p of pieces) parts.push(p.slice()); // a piece is only valid until the next
      const blob = new Blob(parts as Uint8Array<ArrayBuffer>[]);
      sizes.push(blob.size);
      return blob;
    };
    return { spill, sizes };
  }

  it('exports the same model and data file as weights kept in memory', async () => {
    const g = new CleGraph(13);
    let x = g.node('Conv', 'c0', ['x', g.uneven('c0.w', [192, 8, 3, 3], 0)], pads(3));
    x = g.node('Relu', 'r0', [g.bn('bn0', x, 192)]);
    x = g.node('Relu', 'r1', [g.node('Conv', 'c1', [x, g.uneven('c1.w', [192, 192, 3, 3], 1)], pads(3))]);
    g.node('Conv', 'c2', [x, g.uneven('c2.w', [16, 192, 3, 3], 1)], pads(3));
    const { model, files } = g.externalModel(1024);
    const externalData = memorySource(files);
    // Blocks of rows, so a spill is given several pieces.
    const options = { externalData, relocateExternal: true, chunkElements: 50_000 };
    const kept = await equalizeModel(model, options);
    const { spill, sizes } = recordingSpill();
    const spilled = await equalizeModel(model, { ...options, spill });

    // Only c1's weight (192·192·9 float32, 1.3 MB) is large enough to spill.
    expect(sizes).to.deep.equal([192 * 192 * 9 * 4]);
    expect(sizes[0]).to.be.at.least(SPILL_MIN_BYTES);
    expect(spilled.bytes).to.deep.equal(kept.bytes);
    expect([...spilled.dataFiles.keys()]).to.deep.equal([...kept.dataFiles.keys()]);
    for (const [location, parts] of kept.dataFiles) {
      const [a, b] = [
        dataFileReader(location, parts, externalData),
        dataFileReader(location, spilled.dataFiles.get(location)!, externalData),
      ];
      expect(b.size).to.equal(a.size);
      expect(await b.read(0, b.size)).to.deep.equal(await a.read(0, a.size));
      expect(spilled.dataFiles.get(location)!.some((p) => p instanceof Blob)).to.equal(true);
    }
    expect(spilled.report.layers.map((l) => l.after)).to.deep.equal(kept.report.layers.map((l) => l.after));
  });
});

describe('CLE equalizes a chain too large for its matrices in pieces', () => {
  /** Five Gemms ([K, N] weights) across Relus: three inner [64, 64] matrices of 4,096 entries each. */
  function longChain(): CleGraph {
    const g = new CleGraph(14);
    let x = 'x';
    for (let k = 0; k < 5; k++) {
      const [rows, cols] = [k === 0 ? 8 : 64, k === 4 ? 8 : 64];
      x = g.node('Gemm', `mm${k}`, [x, g.uneven(`mm${k}.w`, [rows, cols], k % 2)]);
      if (k < 4) x = g.node('Relu', `r${k}`, [x]);
    }
    return g;
  }

  it('pieces sharing their end layers keep the function and balance every interface', async () => {
    const model = longChain().model();
    const whole = await planCle(model);
    expect(whole.chains).to.have.length(1);
    expect(whole.chains[0]!.pieces).to.equal(undefined);
    // 4,096 entries a piece: one inner matrix each, so mm0–mm2 and mm2–mm4.
    const pieces = await planCle(model, { chainRanges: 4096 });
    expect(pieces.chains).to.have.length(1);
    expect(pieces.chains[0]!.pieces).to.equal(2);
    expect(pieces.sets.map((s) => s.layers)).to.deep.equal(whole.sets.map((s) => s.layers));

    const input = randomInput([1, 8]);
    const [before, after] = [await run(model, input), await run(model, input, pieces.plan)];
    const output = (m: Map<string, Tensor>) => m.get('mm4')!;
    expect(relativeDifference(output(before), output(after))).to.be.below(1e-5);

    // Every interface is balanced, except the one into the shared layer mm2, which the second piece
    // rescaled after the first balanced it (as sequential pairwise CLE would): that one still improves.
    const original = async (name: string) => {
      const values = new Float32Array(model.main.constants.get(name)!.size);
      await model.main.constants.get(name)!.readFloat32Into(values);
      return values;
    };
    const written = (name: string) => inMemory(pieces.plan.tensors.find((t) => t.tensor.name === name)!.values);
    const spread = (a: Float32Array, b: Float32Array) => {
      const [outRanges, inRanges] = [columnMaxima(a, 64), rowMaxima(b, 64)];
      return Math.max(...outRanges.map((r, i) => Math.abs(Math.log(r / inRanges[i]!))));
    };
    for (let k = 0; k < 4; k++) {
      const [a, b] = [`mm${k}.w`, `mm${k + 1}.w`];
      const after = spread(written(a), written(b));
      if (k === 1) expect(after).to.be.below(spread(await original(a), await original(b)) / 2);
      else expect(after, `interface ${a} → ${b}`).to.be.below(1e-3);
    }
  });
});

/** max |w| of each column of a row-major [rows, cols] matrix. */
function columnMaxima(w: Float32Array, cols: number): number[] {
  const out = new Array<number>(cols).fill(0);
  w.forEach((v, j) => (out[j % cols] = Math.max(out[j % cols]!, Math.abs(v))));
  return out;
}

/** max |w| of each of the first `rows` rows of a row-major matrix. */
function rowMaxima(w: Float32Array, rows: number): number[] {
  const cols = w.length / rows;
  return Array.from({ length: rows }, (_, r) =>
    Math.max(...Array.from(w.subarray(r * cols, (r + 1) * cols), Math.abs)),
  );
}
