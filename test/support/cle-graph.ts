// Small graphs for the CLE tests, and a tiny direct interpreter (float64, batch 1) that runs a model as
// written or as an ExportPlan would leave it, without the exporter: so a test proves that CLE preserves
// the function (and that it got every layout's axes right) on its own.
import { decodeModel } from '../../src/onnx/decode.js';
import { concat } from '../../src/onnx/export/wire.js';
import type { ExportPlan, StoredValues } from '../../src/onnx/export/plan.js';
import type { Model, Node } from '../../src/onnx/model.js';
import {
  attr,
  DataType,
  externalTensor,
  f32Tensor,
  memorySource,
  modelBytes,
  node,
  valueInfo,
  type IAttributeProto,
  type INodeProto,
  type ITensorProto,
} from '../fixtures/onnx-bytes.js';
import { seededRandom } from './random.js';

export { attr };

/** Builds a graph node by node; every node gets a name and one output named after it. */
export class CleGraph {
  private readonly nodes: INodeProto[] = [];
  private readonly initializer: ITensorProto[] = [];
  private readonly outputs: string[] = [];
  private readonly inputs: string[] = ['x'];
  private readonly rand: () => number;

  constructor(seed = 1) {
    this.rand = seededRandom(seed);
  }

  tensor(name: string, dims: number[], values?: number[] | ((i: number) => number)): string {
    const n = dims.reduce((a, b) => a * b, 1);
    const v = Array.isArray(values)
      ? values
      : Array.from({ length: n }, (_, i) => (values ? values(i) : this.rand() - 0.5));
    if (v.length !== n) throw new Error(`${name}: ${v.length} values for [${dims}]`);
    this.initializer.push(f32Tensor(name, dims, v));
    return name;
  }

  /** Random weights whose slices along axis `axis` get factors log-uniform in [1/spread, spread]. */
  uneven(name: string, dims: number[], axis: number, spread = 30): string {
    const factors = Array.from({ length: dims[axis]! }, () => spread ** (2 * this.rand() - 1));
    const stride = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    return this.tensor(name, dims, (i) => (this.rand() - 0.5) * factors[Math.floor(i / stride) % dims[axis]!]!);
  }

  node(op: string, name: string, inputs: string[], attributes: IAttributeProto[] = []): string {
    this.nodes.push(node(op, inputs, [name], name, attributes));
    return name;
  }

  bn(name: string, x: string, channels: number, eps = 1e-3): string {
    const r = () => this.rand();
    const t = (k: string, f: () => number) => this.tensor(`${name}.${k}`, [channels], () => f());
    return this.node(
      'BatchNormalization',
      name,
      [
        x,
        t('scale', () => 0.2 + 2 * r()),
        t('bias', () => 2 * r() - 1),
        t('mean', () => r() - 0.5),
        t('var', () => 0.1 + r()),
      ],
      [attr.float('epsilon', eps)],
    );
  }

  graphInput(name: string): this {
    this.inputs.push(name);
    return this;
  }

  output(name: string): this {
    this.outputs.push(name);
    return this;
  }

  /**
   * The model as an ONNX file's bytes. onnxruntime needs typed inputs and outputs: `inputShape` types the
   * input x as float32 of that shape, and the outputs as float32.
   */
  bytes(opset = 17, inputShape?: number[], initializer = this.initializer): Uint8Array<ArrayBuffer> {
    const outputs = this.outputs.length ? this.outputs : [this.nodes.at(-1)!.output![0]!];
    const float = (name: string, dims?: number[]) =>
      inputShape
        ? {
            name,
            type: {
              tensorType: {
                elemType: DataType.FLOAT,
                ...(dims ? { shape: { dim: dims.map((d) => ({ dimValue: d })) } } : {}),
              },
            },
          }
        : valueInfo(name);
    const input = this.inputs.map((name) => float(name, name === 'x' ? inputShape : undefined));
    return modelBytes({ input, output: outputs.map((name) => float(name)), initializer, node: this.nodes }, opset);
  }

  model(opset = 17, fileName = 'cle-graph.onnx'): Model {
    return decodeModel(this.bytes(opset), { fileName });
  }

  /** The model with each initializer of `minBytes` or more stored in one external-data file, weights.bin. */
  externalModel(minBytes: number, fileName = 'cle-graph.onnx'): { model: Model; files: Record<string, Uint8Array> } {
    const pieces: Uint8Array[] = [];
    let offset = 0;
    const initializer = this.initializer.map((t) => {
      const raw = t.rawData!;
      if (raw.byteLength < minBytes) return t;
      const stored = externalTensor(t.name!, t.dims as number[], 'weights.bin', offset, raw.byteLength);
      pieces.push(raw);
      offset += raw.byteLength;
      return stored;
    });
    const files = { 'weights.bin': concat(pieces) };
    const model = decodeModel(this.bytes(17, undefined, initializer), { fileName, externalData: memorySource(files) });
    return { model, files };
  }
}

export interface Tensor {
  shape: number[];
  data: Float64Array;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const ints = (n: Node, name: string, fallback: number[]) => {
  const a = n.attributes.get(name);
  return a?.kind === 'ints' ? a.value : fallback;
};
const int = (n: Node, name: string, fallback: number) => {
  const a = n.attributes.get(name);
  return a?.kind === 'int' ? a.value : fallback;
};
const float = (n: Node, name: string, fallback: number) => {
  const a = n.attributes.get(name);
  return a?.kind === 'float' ? a.value : fallback;
};

/** x [1, C, H, W] conv w [Cout, Cin/g, kh, kw]; symmetric pads, strides, group. */
function conv(x: Tensor, w: Tensor, b: Tensor | undefined, n: Node): Tensor {
  const [, cin, h, wd] = x.shape as [number, number, number, number];
  const [cout, cpg, kh, kw] = w.shape as [number, number, number, number];
  const g = int(n, 'group', 1);
  const [sh, sw] = ints(n, 'strides', [1, 1]) as [number, number];
  const [ph, pw] = ints(n, 'pads', [0, 0, 0, 0]) as [number, number];
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1,
    ow = Math.floor((wd + 2 * pw - kw) / sw) + 1;
  const y = new Float64Array(cout * oh * ow);
  const opg = cout / g;
  if (cpg * g !== cin) throw new Error(`${n.name}: weight reads ${cpg * g} channels, input has ${cin}`);
  for (let o = 0; o < cout; o++) {
    const group = Math.floor(o / opg);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let acc = b ? b.data[o]! : 0;
        for (let c = 0; c < cpg; c++) {
          const ci = group * cpg + c;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - ph + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pw + kx;
              if (ix < 0 || ix >= wd) continue;
              acc += x.data[(ci * h + iy) * wd + ix]! * w.data[((o * cpg + c) * kh + ky) * kw + kx]!;
            }
          }
        }
        y[(o * oh + oy) * ow + ox] = acc;
      }
    }
  }
  return { shape: [1, cout, oh, ow], data: y };
}

/** x [1, Cin, H, W] transposed conv w [Cin, Cout/g, kh, kw]: output channel g·(Cout/g) + j. */
function convTranspose(x: Tensor, w: Tensor, b: Tensor | undefined, n: Node): Tensor {
  const [, cin, h, wd] = x.shape as [number, number, number, number];
  const [win, opg, kh, kw] = w.shape as [number, number, number, number];
  const g = int(n, 'group', 1);
  const [sh, sw] = ints(n, 'strides', [1, 1]) as [number, number];
  const [ph, pw] = ints(n, 'pads', [0, 0, 0, 0]) as [number, number];
  if (win !== cin) throw new Error(`${n.name}: weight reads ${win} channels, input has ${cin}`);
  const cout = opg * g,
    ipg = cin / g;
  const oh = (h - 1) * sh - 2 * ph + kh,
    ow = (wd - 1) * sw - 2 * pw + kw;
  const y = new Float64Array(cout * oh * ow);
  for (let o = 0; o < cout; o++) if (b) y.fill(b.data[o]!, o * oh * ow, (o + 1) * oh * ow);
  for (let ci = 0; ci < cin; ci++) {
    const group = Math.floor(ci / ipg);
    for (let j = 0; j < opg; j++) {
      const o = group * opg + j;
      for (let iy = 0; iy < h; iy++) {
        for (let ix = 0; ix < wd; ix++) {
          const v = x.data[(ci * h + iy) * wd + ix]!;
          for (let ky = 0; ky < kh; ky++) {
            const oy = iy * sh - ph + ky;
            if (oy < 0 || oy >= oh) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ox = ix * sw - pw + kx;
              if (ox < 0 || ox >= ow) continue;
              const at = (o * oh + oy) * ow + ox;
              y[at] = y[at]! + v * w.data[((ci * opg + j) * kh + ky) * kw + kx]!;
            }
          }
        }
      }
    }
  }
  return { shape: [1, cout, oh, ow], data: y };
}

/** x [M, K] · B (+ C), B = w [K, N] or wᵀ with transB. */
function gemm(x: Tensor, w: Tensor, b: Tensor | undefined, n: Node): Tensor {
  const [m, k] = x.shape as [number, number];
  const transB = int(n, 'transB', 0) === 1;
  const nOut = transB ? w.shape[0]! : w.shape[1]!;
  const alpha = float(n, 'alpha', 1),
    beta = float(n, 'beta', 1);
  const y = new Float64Array(m * nOut);
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < nOut; j++) {
      let acc = 0;
      for (let i = 0; i < k; i++) acc += x.data[r * k + i]! * w.data[transB ? j * k + i : i * nOut + j]!;
      y[r * nOut + j] = alpha * acc + (b ? beta * b.data[b.data.length === 1 ? 0 : j]! : 0);
    }
  }
  return { shape: [m, nOut], data: y };
}

/** Applies f(value, channel) elementwise; channel = axis 1. */
function perChannel(x: Tensor, f: (v: number, c: number) => number): Tensor {
  const inner = size(x.shape.slice(2));
  const c = x.shape[1] ?? 1;
  return { shape: x.shape, data: x.data.map((v, i) => f(v, Math.floor(i / inner) % c)) };
}

/**
 * Runs the main graph on `input` (float64). With `plan`, runs it as the plan would leave it: edited and
 * new tensors, removed nodes, renamed outputs, appended inputs, rewritten nodes.
 */
export async function run(model: Model, input: Tensor, plan?: ExportPlan): Promise<Map<string, Tensor>> {
  const graph = model.main;
  const values = new Map<string, Tensor>([['x', input]]);
  for (const [name, t] of graph.constants) {
    const f = new Float32Array(t.size);
    await t.readFloat32Into(f);
    values.set(name, { shape: [...t.shape], data: Float64Array.from(f) });
  }
  const removed = new Set(plan?.removeNodes ?? []);
  for (const e of plan?.tensors ?? [])
    values.set(e.tensor.name, { shape: [...e.tensor.shape], data: Float64Array.from(inMemory(e.values)) });
  for (const t of plan?.addInitializers ?? [])
    values.set(t.name, { shape: [...t.dims], data: Float64Array.from(t.values) });
  for (const n of graph.nodes) {
    if (removed.has(n)) continue;
    const rewrite = plan?.rewriteNodes?.find((r) => r.node === n);
    const op = rewrite?.opType ?? n.opType;
    const inputs = [
      ...(rewrite?.inputs ?? n.inputs),
      ...(plan?.appendInputs ?? []).filter((a) => a.node === n).map((a) => a.name),
    ];
    const outputs = n.outputs.map((o, i) => plan?.renameOutputs.find((r) => r.node === n && r.index === i)?.name ?? o);
    const get = (i: number) => {
      const name = inputs[i];
      if (!name) return undefined;
      const v = values.get(name);
      if (!v) throw new Error(`${n.name}: no value "${name}"`);
      return v;
    };
    const x = get(0)!;
    let y: Tensor;
    switch (op) {
      case 'Conv':
        y = conv(x, get(1)!, get(2), n);
        break;
      case 'ConvTranspose':
        y = convTranspose(x, get(1)!, get(2), n);
        break;
      case 'Gemm':
        y = gemm(x, get(1)!, get(2), n);
        break;
      case 'Relu':
        y = perChannel(x, (v) => Math.max(v, 0));
        break;
      case 'Identity':
        y = x;
        break;
      case 'LeakyRelu': {
        const a = float(n, 'alpha', 0.01);
        y = perChannel(x, (v) => (v >= 0 ? v : a * v));
        break;
      }
      case 'PRelu': {
        const slope = get(1)!;
        y = perChannel(x, (v, c) => (v >= 0 ? v : v * slope.data[slope.data.length === 1 ? 0 : c]!));
        break;
      }
      case 'Clip': {
        const lo = get(1)?.data[0] ?? float(n, 'min', -Infinity),
          hi = get(2)?.data[0] ?? float(n, 'max', Infinity);
        y = perChannel(x, (v) => Math.min(Math.max(v, lo), hi));
        break;
      }
      case 'BatchNormalization': {
        const [s, b, m, v] = [get(1)!, get(2)!, get(3)!, get(4)!];
        const eps = float(n, 'epsilon', 1e-5);
        y = perChannel(x, (val, c) => (s.data[c]! * (val - m.data[c]!)) / Math.sqrt(v.data[c]! + eps) + b.data[c]!);
        break;
      }
      default:
        throw new Error(`the test interpreter has no ${op}`);
    }
    values.set(outputs[0]!, y);
  }
  return values;
}

export function randomInput(shape: number[], seed = 7): Tensor {
  const r = seededRandom(seed);
  return { shape, data: Float64Array.from({ length: size(shape) }, () => 2 * r() - 1) };
}

/** max |a − b| / max |a|. */
export function relativeDifference(a: Tensor, b: Tensor): number {
  if (a.data.length !== b.data.length) throw new Error(`outputs have ${a.data.length} and ${b.data.length} elements`);
  let diff = 0,
    scale = 0;
  for (let i = 0; i < a.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i]! - b.data[i]!));
    scale = Math.max(scale, Math.abs(a.data[i]!));
  }
  return diff / scale;
}

/**
 * Per-channel max |w| of a weight as a layer's outputs and inputs see it (docs/definitions.md), computed
 * directly from the definition of each op: Conv [Cout, Cin/g, k…]; ConvTranspose [Cin, Cout/g, k…]
 * (output g·(Cout/g)+j); Gemm [K, N] (transB 0) or [N, K].
 */
export function channelRanges(
  op: 'Conv' | 'ConvTranspose' | 'Gemm',
  shape: number[],
  w: Float32Array,
  group = 1,
  transB = 0,
): { out: number[]; in: number[] } {
  const k = size(shape.slice(2));
  const [d0, d1] = [shape[0]!, shape[1]!];
  let cout: number, cin: number;
  const pairs: [number, number, number][] = []; // (out, in, element)
  if (op === 'Conv') {
    [cout, cin] = [d0, d1 * group];
    const opg = d0 / group;
    for (let o = 0; o < d0; o++)
      for (let c = 0; c < d1; c++)
        for (let e = 0; e < k; e++) pairs.push([o, Math.floor(o / opg) * d1 + c, (o * d1 + c) * k + e]);
  } else if (op === 'ConvTranspose') {
    [cout, cin] = [d1 * group, d0];
    const ipg = d0 / group;
    for (let i = 0; i < d0; i++)
      for (let j = 0; j < d1; j++)
        for (let e = 0; e < k; e++) pairs.push([Math.floor(i / ipg) * d1 + j, i, (i * d1 + j) * k + e]);
  } else {
    [cout, cin] = transB ? [d0, d1] : [d1, d0];
    for (let a = 0; a < d0; a++)
      for (let b = 0; b < d1; b++) pairs.push(transB ? [a, b, a * d1 + b] : [b, a, a * d1 + b]);
  }
  const out = new Array<number>(cout).fill(0),
    inn = new Array<number>(cin).fill(0);
  for (const [o, i, e] of pairs) {
    const v = Math.abs(w[e]!);
    out[o] = Math.max(out[o]!, v);
    inn[i] = Math.max(inn[i]!, v);
  }
  return { out, in: inn };
}

/** A plan's new values, which stay in memory when planCle is given no spill (as in these tests). */
export function inMemory(values: Float32Array | StoredValues): Float32Array {
  if (!(values instanceof Float32Array)) throw new Error('expected values in memory, got spilled ones');
  return values;
}
