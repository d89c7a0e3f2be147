// The mean and variance of each channel (axis 1) of the activations in a model's main graph, propagated
// from its inputs without data (docs/definitions.md, "Bias correction"): the expected inputs E[x] that bias
// correction needs where no BatchNorm sits right before a layer (BatchNorms folded into convs at export).
//
// - Model inputs follow `inputDistribution` (input-distribution.ts), as `--verify` draws them.
// - A BatchNormalization's output restarts as N(β, γ²) per channel: its running statistics describe the
//   data it was trained on better than anything propagated to it.
// - Linear ops propagate exactly in the mean; variances assume independent elements (Σ w²·var).
// - Elementwise functions of one tensor (Relu, Clip, Sigmoid, HardSwish spelled out as x·Clip(x + 3, 0, 6)/6,
//   x·Sigmoid(x), …) are composed and integrated against that tensor taken as a normal, so a product
//   of x with a function of x is not mistaken for a product of independent values.
// - Products of two different tensors (a squeeze-excite gate times its features) take them as independent.
// - Averages over positions (GlobalAveragePool, ReduceMean over H, W) keep the mean and drop the variance.
// - Any other op (Transpose, Reshape, MatMul, ConvTranspose, …) makes its outputs unknown until the next
//   BatchNorm, and the reason names it.
import { floatAttribute, intAttribute } from '../onnx/attributes.js';
import { nodeProducing } from '../onnx/lookup.js';
import { resolveConstant, type Graph, type Model, type Node } from '../onnx/model.js';
import { STANDARD_NORMAL, type InputDistribution } from './input-distribution.js';
import { normalExpectations, normalMaxMoments } from './normal.js';

/** Per-channel moments; arrays of length 1 hold every channel alike (the channel count is not known). */
export interface ChannelMoments {
  readonly mean: Float64Array;
  readonly variance: Float64Array;
  /** Where the propagation started: `the model input` or `BatchNormalization "bn3"`. */
  readonly origin: string;
  /** Nodes passed through since the origin (the longest path). */
  readonly nodes: number;
}

type Unary = (x: number) => number;

/** A tensor as the propagation knows it: its moments, or a function of another tensor's values, or why not. */
type State =
  | { kind: 'moments'; moments: ChannelMoments }
  | { kind: 'function'; base: string; f: Unary; nodes: number }
  | { kind: 'unknown'; reason: string };

const at = (a: Float64Array, i: number) => (a.length === 1 ? a[0]! : a[i]!);
const identity: Unary = (x) => x;

/** Ops whose output is their first input's values unchanged (per channel). */
const PASS_THROUGH = new Set(['Identity', 'Dropout', 'Resize', 'Upsample', 'Pad']);

/** Elementwise functions of one input, without constants. */
const ELEMENTWISE: Record<string, (node: Node) => Unary> = {
  Relu: () => (x) => Math.max(x, 0),
  LeakyRelu: (n) => {
    const a = floatAttribute(n, 'alpha', 0.01);
    return (x) => (x < 0 ? a * x : x);
  },
  Sigmoid: () => (x) => 1 / (1 + Math.exp(-x)),
  Tanh: () => Math.tanh,
  Softplus: () => (x) => (x > 30 ? x : Math.log1p(Math.exp(x))),
  HardSigmoid: (n) => {
    const [a, b] = [floatAttribute(n, 'alpha', 0.2), floatAttribute(n, 'beta', 0.5)];
    return (x) => Math.min(Math.max(a * x + b, 0), 1);
  },
  HardSwish: () => (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
};

/** A float constant's values, or undefined when `name` is not a constant of `graph`. */
async function constantValues(graph: Graph, name: string, signal?: AbortSignal): Promise<Float32Array | undefined> {
  const t = name ? resolveConstant(graph, name) : undefined;
  if (!t || t.size > 1 << 20) return undefined;
  const values = new Float32Array(t.size);
  await t.readFloat32Into(values, signal);
  return values;
}

/** Broadcasts a constant of shape [C,1,1] or [1,C,1,1] (or a scalar) over channels; undefined otherwise. */
function perChannel(graph: Graph, name: string, values: Float32Array): Float64Array | undefined {
  if (values.length === 1) return Float64Array.from(values);
  const shape = resolveConstant(graph, name)!.shape;
  const channel = shape.length - 3;
  if (channel < 0 || shape.some((d, i) => i !== channel && d !== 1)) return undefined;
  return Float64Array.from(values);
}

export class InputMoments {
  private readonly states = new Map<string, State>();

  private constructor(private readonly graph: Graph) {}

  /** Propagates through the main graph, reading each Conv's weight, the BatchNorms' γ, β and constants. */
  static async propagate(model: Model, drawn: InputDistribution, signal?: AbortSignal): Promise<InputMoments> {
    const graph = model.main;
    const self = new InputMoments(graph);
    for (const input of graph.inputs) {
      if (graph.constants.has(input)) continue;
      const { mean, smooth, white, source } = input === drawn.input ? drawn : STANDARD_NORMAL(input);
      const variance = new Float64Array(mean.length).fill(smooth + white);
      const origin = `the model input (${source})`;
      self.states.set(input, { kind: 'moments', moments: { mean, variance, origin, nodes: 0 } });
    }
    for (const node of graph.nodes) {
      if (node.opType === 'Constant') continue; // its value is read where it is used
      const state = await self.step(node, signal);
      const outputs = node.opType === 'Dropout' ? node.outputs.slice(0, 1) : node.outputs;
      for (const out of outputs) if (out) self.states.set(out, state);
    }
    return self;
  }

  /** The moments of `value` as the input of a layer with `channels` input channels, or why they are unknown. */
  of(graphPath: string, value: string, channels: number): ChannelMoments | { reason: string } {
    if (graphPath !== this.graph.path) return { reason: 'the layer is in a subgraph, where nothing is propagated' };
    const m = this.momentsOf(value);
    if ('reason' in m) return m;
    if (m.mean.length !== 1 && m.mean.length !== channels)
      return { reason: `"${value}" has ${m.mean.length} channels propagated, the layer ${channels} input channels` };
    return m;
  }

  private momentsOf(value: string): ChannelMoments | { reason: string } {
    const state = this.states.get(value);
    if (!state) return { reason: `"${value}" is not computed from the model's inputs` };
    if (state.kind === 'unknown') return { reason: state.reason };
    if (state.kind === 'moments') return state.moments;
    const base = this.momentsOf(state.base);
    if ('reason' in base) return base;
    const mean = new Float64Array(base.mean.length);
    const variance = new Float64Array(base.mean.length);
    for (let c = 0; c < mean.length; c++) {
      const [m1, m2] = normalExpectations(state.f, base.mean[c]!, Math.sqrt(base.variance[c]!));
      mean[c] = m1;
      variance[c] = Math.max(0, m2 - m1 * m1);
    }
    const moments = { mean, variance, origin: base.origin, nodes: state.nodes };
    this.states.set(value, { kind: 'moments', moments });
    return moments;
  }

  /** `value` as a function of a base tensor: its own function when it has one, else identity of itself. */
  private asFunction(value: string): { base: string; f: Unary; nodes: number } | undefined {
    const state = this.states.get(value);
    if (!state || state.kind === 'unknown') return undefined;
    if (state.kind === 'function') return state;
    return { base: value, f: identity, nodes: state.moments.nodes };
  }

  private unknownIn(node: Node, inputs: readonly string[]): State | undefined {
    for (const input of inputs) {
      const state = this.states.get(input);
      if (!state)
        return {
          kind: 'unknown',
          reason: `"${input}", read by ${node.opType} "${node.name}", is not computed from the model's inputs`,
        };
      if (state.kind === 'unknown') return state;
    }
    return undefined;
  }

  private async step(node: Node, signal?: AbortSignal): Promise<State> {
    const unmodelled: State = {
      kind: 'unknown',
      reason: `its input passes through ${node.opType} "${node.name}", which the propagation does not model`,
    };
    if (node.domain !== '' && node.domain !== 'ai.onnx') return unmodelled;
    const x = node.inputs[0] ?? '';
    const op = node.opType;
    if (PASS_THROUGH.has(op) || (op === 'Cast' && [1, 10, 11, 16].includes(intAttribute(node, 'to', 0)))) {
      return this.unknownIn(node, [x]) ?? this.states.get(x)!;
    }
    const elementwise = ELEMENTWISE[op]?.(node) ?? (op === 'Clip' ? await this.clip(node, signal) : undefined);
    if (elementwise) return this.unknownIn(node, [x]) ?? this.compose(x, elementwise);
    switch (op) {
      case 'BatchNormalization':
        return this.batchNorm(node, signal);
      case 'Conv':
        return this.conv(node, signal);
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
        return this.arithmetic(node, signal);
      case 'GlobalAveragePool':
        return this.averaged(node);
      case 'ReduceMean':
        return this.reduceMean(node);
      case 'AveragePool':
        return this.unknownIn(node, [x]) ?? this.states.get(x)!;
      case 'MaxPool':
        return this.maxPool(node);
      case 'Concat':
        return this.concat(node);
      case 'Flatten':
        return this.flattened(node);
      default:
        return unmodelled;
    }
  }

  private compose(x: string, g: Unary): State {
    const inner = this.asFunction(x)!;
    const f = inner.f;
    return { kind: 'function', base: inner.base, f: f === identity ? g : (v) => g(f(v)), nodes: inner.nodes + 1 };
  }

  private async clip(node: Node, signal?: AbortSignal): Promise<Unary | undefined> {
    const bound = async (index: number, attribute: string, fallback: number) => {
      const name = node.inputs[index];
      if (!name) return floatAttribute(node, attribute, fallback);
      const v = await constantValues(this.graph, name, signal);
      return v?.length === 1 ? v[0]! : undefined;
    };
    const [lo, hi] = [await bound(1, 'min', -Infinity), await bound(2, 'max', Infinity)];
    if (lo === undefined || hi === undefined) return undefined;
    return (v) => Math.min(Math.max(v, lo), hi);
  }

  private async batchNorm(node: Node, signal?: AbortSignal): Promise<State> {
    const [gamma, beta] = [
      await constantValues(this.graph, node.inputs[1] ?? '', signal),
      await constantValues(this.graph, node.inputs[2] ?? '', signal),
    ];
    if (!gamma || !beta || gamma.length !== beta.length || node.outputs.filter(Boolean).length > 1)
      return {
        kind: 'unknown',
        reason: `BatchNormalization "${node.name}" has parameters that are not constant, or is in training mode`,
      };
    return {
      kind: 'moments',
      moments: {
        mean: Float64Array.from(beta),
        variance: Float64Array.from(gamma, (g) => g * g),
        origin: `BatchNormalization "${node.name}"`,
        nodes: 0,
      },
    };
  }

  private async conv(node: Node, signal?: AbortSignal): Promise<State> {
    const unknown = this.unknownIn(node, [node.inputs[0] ?? '']);
    if (unknown) return unknown;
    const wRef = resolveConstant(this.graph, node.inputs[1] ?? '');
    if (!wRef || wRef.shape.length < 3)
      return { kind: 'unknown', reason: `Conv "${node.name}" has a weight that is not a constant` };
    const input = this.momentsOf(node.inputs[0]!);
    if ('reason' in input) return { kind: 'unknown', reason: input.reason };
    const group = intAttribute(node, 'group', 1);
    const [cout, cinGroup] = [wRef.shape[0]!, wRef.shape[1]!];
    const k = wRef.size / (cout * cinGroup);
    if (input.mean.length !== 1 && input.mean.length !== cinGroup * group)
      return {
        kind: 'unknown',
        reason: `Conv "${node.name}" reads ${cinGroup * group} channels, ${input.mean.length} were propagated`,
      };
    const w = new Float32Array(wRef.size);
    await wRef.readFloat32Into(w, signal);
    const bias = node.inputs[2] ? await constantValues(this.graph, node.inputs[2], signal) : undefined;
    if (node.inputs[2] && bias?.length !== cout)
      return { kind: 'unknown', reason: `Conv "${node.name}" has a bias that is not a constant` };
    const mean = new Float64Array(cout);
    const variance = new Float64Array(cout);
    const coutGroup = cout / group;
    for (let o = 0; o < cout; o++) {
      const first = Math.floor(o / coutGroup) * cinGroup;
      let m = bias ? bias[o]! : 0,
        v = 0;
      for (let i = 0; i < cinGroup; i++) {
        let s = 0,
          s2 = 0;
        for (let j = (o * cinGroup + i) * k, end = j + k; j < end; j++) {
          s += w[j]!;
          s2 += w[j]! * w[j]!;
        }
        m += s * at(input.mean, first + i);
        v += s2 * at(input.variance, first + i);
      }
      mean[o] = m;
      variance[o] = v;
    }
    return { kind: 'moments', moments: { mean, variance, origin: input.origin, nodes: input.nodes + 1 } };
  }

  private async arithmetic(node: Node, signal?: AbortSignal): Promise<State> {
    const [a, b] = [node.inputs[0] ?? '', node.inputs[1] ?? ''];
    const op = node.opType;
    const [ca, cb] = [await constantValues(this.graph, a, signal), await constantValues(this.graph, b, signal)];
    // One operand constant: a scalar is an elementwise function; one value per channel scales or shifts.
    if (ca || cb) {
      const [tensor, values, name] = ca ? [b, ca, a] : [a, cb!, b];
      const unknown = this.unknownIn(node, [tensor]);
      if (unknown) return unknown;
      const constantFirst = !!ca;
      if (values.length === 1) {
        const c = values[0]!;
        const f: Unary =
          op === 'Add'
            ? (v) => v + c
            : op === 'Mul'
              ? (v) => v * c
              : op === 'Sub'
                ? constantFirst
                  ? (v) => c - v
                  : (v) => v - c
                : constantFirst
                  ? (v) => c / v
                  : (v) => v / c;
        return this.compose(tensor, f);
      }
      const vector = perChannel(this.graph, name, values);
      const input = this.momentsOf(tensor);
      if (!vector || 'reason' in input || (op === 'Div' && constantFirst))
        return { kind: 'unknown', reason: `${op} "${node.name}" has a constant the propagation does not model` };
      return this.affine(input, vector, op, constantFirst);
    }
    const unknown = this.unknownIn(node, [a, b]);
    if (unknown) return unknown;
    // Both operands functions of one tensor (x·Sigmoid(x), x·Clip(x + 3, 0, 6)): still elementwise.
    const [fa, fb] = [this.asFunction(a)!, this.asFunction(b)!];
    if (fa.base === fb.base) {
      const combine: (p: number, q: number) => number =
        op === 'Add'
          ? (p, q) => p + q
          : op === 'Sub'
            ? (p, q) => p - q
            : op === 'Mul'
              ? (p, q) => p * q
              : (p, q) => p / q;
      return {
        kind: 'function',
        base: fa.base,
        f: (v) => combine(fa.f(v), fb.f(v)),
        nodes: Math.max(fa.nodes, fb.nodes) + 1,
      };
    }
    if (op === 'Div') return { kind: 'unknown', reason: `Div "${node.name}" divides two tensors` };
    const [ma, mb] = [this.momentsOf(a), this.momentsOf(b)];
    if ('reason' in ma) return { kind: 'unknown', reason: ma.reason };
    if ('reason' in mb) return { kind: 'unknown', reason: mb.reason };
    const n = Math.max(ma.mean.length, mb.mean.length);
    if (ma.mean.length !== 1 && mb.mean.length !== 1 && ma.mean.length !== mb.mean.length)
      return { kind: 'unknown', reason: `${op} "${node.name}" joins ${ma.mean.length} and ${mb.mean.length} channels` };
    const mean = new Float64Array(n);
    const variance = new Float64Array(n);
    for (let c = 0; c < n; c++) {
      const [m1, v1, m2, v2] = [at(ma.mean, c), at(ma.variance, c), at(mb.mean, c), at(mb.variance, c)];
      if (op === 'Mul') {
        mean[c] = m1 * m2;
        variance[c] = (v1 + m1 * m1) * (v2 + m2 * m2) - m1 * m1 * m2 * m2;
      } else {
        mean[c] = op === 'Add' ? m1 + m2 : m1 - m2;
        variance[c] = v1 + v2;
      }
    }
    const origin = ma.nodes >= mb.nodes ? ma.origin : mb.origin;
    return { kind: 'moments', moments: { mean, variance, origin, nodes: Math.max(ma.nodes, mb.nodes) + 1 } };
  }

  /** x op c with one constant c per channel. */
  private affine(input: ChannelMoments, c: Float64Array, op: string, constantFirst: boolean): State {
    const n = Math.max(input.mean.length, c.length);
    const mean = new Float64Array(n);
    const variance = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const [m, v, k] = [at(input.mean, i), at(input.variance, i), at(c, i)];
      const scale = op === 'Mul' ? k : op === 'Div' ? 1 / k : op === 'Sub' && constantFirst ? -1 : 1;
      const shift = op === 'Add' ? k : op === 'Sub' ? (constantFirst ? k : -k) : 0;
      mean[i] = m * scale + shift;
      variance[i] = v * scale * scale;
    }
    return { kind: 'moments', moments: { mean, variance, origin: input.origin, nodes: input.nodes + 1 } };
  }

  /** An average over many positions: the mean stays, the variance (of the average) is taken as 0. */
  private averaged(node: Node): State {
    const input = this.momentsOf(node.inputs[0] ?? '');
    if ('reason' in input) return { kind: 'unknown', reason: input.reason };
    return {
      kind: 'moments',
      moments: { ...input, variance: new Float64Array(input.mean.length), nodes: input.nodes + 1 },
    };
  }

  private reduceMean(node: Node): State {
    const axes = node.attributes.get('axes');
    const spatial = axes?.kind === 'ints' && axes.value.length > 0 && axes.value.every((a) => a >= 2);
    return spatial
      ? this.averaged(node)
      : { kind: 'unknown', reason: `ReduceMean "${node.name}" does not average over positions only` };
  }

  /** Flatten from axis 1 of a global average ([N, C, 1, 1] → [N, C]) keeps the channels on axis 1. */
  private flattened(node: Node): State {
    const x = node.inputs[0] ?? '';
    const pooled = nodeProducing(this.graph, x)?.opType === 'GlobalAveragePool';
    if (!pooled || intAttribute(node, 'axis', 1) !== 1)
      return { kind: 'unknown', reason: `Flatten "${node.name}" is not the flattening of a GlobalAveragePool` };
    return this.unknownIn(node, [x]) ?? this.states.get(x)!;
  }

  /** The largest of kh·kw independent normals of each channel. */
  private maxPool(node: Node): State {
    const input = this.momentsOf(node.inputs[0] ?? '');
    if ('reason' in input) return { kind: 'unknown', reason: input.reason };
    const kernel = node.attributes.get('kernel_shape');
    const k = kernel?.kind === 'ints' ? kernel.value.reduce((p, d) => p * d, 1) : 0;
    if (k < 1 || k > 1024) return { kind: 'unknown', reason: `MaxPool "${node.name}" has no usable kernel_shape` };
    const [e, v] = normalMaxMoments(k);
    const sd = Float64Array.from(input.variance, Math.sqrt);
    return {
      kind: 'moments',
      moments: {
        mean: input.mean.map((m, c) => m + e * sd[c]!),
        variance: input.variance.map((s2) => s2 * v),
        origin: input.origin,
        nodes: input.nodes + 1,
      },
    };
  }

  private concat(node: Node): State {
    if (intAttribute(node, 'axis', 0) !== 1)
      return { kind: 'unknown', reason: `Concat "${node.name}" joins along an axis other than channels` };
    const parts: ChannelMoments[] = [];
    for (const input of node.inputs) {
      const m = this.momentsOf(input);
      if ('reason' in m) return { kind: 'unknown', reason: m.reason };
      if (m.mean.length === 1)
        return { kind: 'unknown', reason: `Concat "${node.name}" joins a tensor whose channel count is not known` };
      parts.push(m);
    }
    const join = (pick: (m: ChannelMoments) => Float64Array) => {
      const out = new Float64Array(parts.reduce((s, m) => s + m.mean.length, 0));
      let offset = 0;
      for (const m of parts) {
        out.set(pick(m), offset);
        offset += m.mean.length;
      }
      return out;
    };
    const deepest = parts.reduce((p, m) => (m.nodes > p.nodes ? m : p));
    return {
      kind: 'moments',
      moments: {
        mean: join((m) => m.mean),
        variance: join((m) => m.variance),
        origin: deepest.origin,
        nodes: deepest.nodes + 1,
      },
    };
  }
}
