/**
 * Weights a model builds at run time from constants with data-movement ops: an export without constant
 * folding (PyTorch's LSTM gates reordered by Slice/Concat/Unsqueeze, as in Silero VAD v5). For analysis
 * they are constants: a TensorRef whose read gathers the elements of its sources. Shapes are worked out
 * from the sources' real shapes, so a node claiming a shape its inputs do not have is a BAD_GRAPH error,
 * never an allocation.
 */
import { intAttribute } from './attributes.js';
import { WeightlensError, throwIfAborted } from '../errors.js';
import { dtypeName, isFloatingPoint, isNumericReadable } from './dtypes.js';
import { resolveConstant, type Computation, type DTypeName, type Graph, type Node, type TensorRef } from './model.js';
import { OnnxTensor } from './tensor.js';

const COMPUTED_OPS = new Set(['Slice', 'Concat', 'Unsqueeze', 'Squeeze', 'Reshape', 'Transpose']);

export const isComputedOp = (opType: string) => COMPUTED_OPS.has(opType);

/** Index inputs with more values, and results of higher rank, are refused before anything is read. */
const MAX_RANK = 64;

/** Where each output element comes from, in row-major order. */
type Placement =
  /** Unsqueeze, Squeeze, Reshape: the elements keep their order. */
  | { kind: 'same-order' }
  /** Slice, Transpose: output index (i_0, …) reads input element base + Σ i_k·strides[k]. */
  | { kind: 'strided'; base: number; strides: number[] }
  /** Concat: for each of `outer` slabs, each input's block of blocks[j] elements in turn. */
  | { kind: 'concat'; outer: number; blocks: number[] };

interface Shaped {
  shape: number[];
  placement: Placement;
}

/**
 * The output of `producer` (one of the computed ops) as a constant, when its data inputs are constants
 * (`input` resolves them, recursively if it likes) holding real values (float, dequantized or computed)
 * and its index inputs are integer constants in the file. Undefined otherwise, or when a Concat repeats
 * its sources into more elements than they hold. Inconsistent shapes and indices throw BAD_GRAPH naming
 * the file, the node and the problem.
 */
export function computedWeight(
  graph: Graph,
  producer: Node,
  input: (name: string) => TensorRef | undefined,
  fileName: string,
): TensorRef | undefined {
  if (!isComputedOp(producer.opType)) return undefined;
  const dataCount = producer.opType === 'Concat' ? producer.inputs.length : 1;
  const names = producer.inputs.slice(0, dataCount);
  if (names.length === 0 || names.some((n) => !n)) return undefined;
  const sources: TensorRef[] = [];
  for (const name of names) {
    const t = input(name);
    if (!t || !holdsRealValues(t)) return undefined;
    sources.push(t);
  }
  const output = producer.outputs[0];
  if (!output) return undefined;
  const bad = (field: string, problem: string): never => {
    throw new WeightlensError('BAD_GRAPH', `${fileName}: ${producer.opType} "${producer.name}": ${problem}`, {
      file: fileName,
      tensor: output,
      field,
    });
  };
  const indices = (position: number, field: string) => integerInput(graph, producer.inputs[position], field, bad);
  const shaped = shapeOf(producer, sources, indices, bad);
  if (!shaped) return undefined;
  const size = shaped.shape.reduce((a, b) => a * b, 1);
  if (size > distinctSourceElements(sources)) return undefined;
  const computation: Computation = { op: producer.opType, node: producer.name, inputs: sources };
  return new ComputedTensor(
    output,
    graph.path,
    sources[0]!.dataType,
    shaped.shape,
    size,
    computation,
    shaped.placement,
    fileName,
  );
}

/** Float weights, or weights that read as floats (dequantized, computed from such). */
function holdsRealValues(t: TensorRef): boolean {
  if (t.origin === 'dequantized' || t.origin === 'computed') return true;
  return isFloatingPoint(t.dtype) && isNumericReadable(t.dataType);
}

/** The tensors a weight is read from, each once: itself, unless it is computed from others. */
export function storedSources(t: TensorRef): TensorRef[] {
  const found = new Map<string, TensorRef>();
  const visit = (u: TensorRef) => {
    if (u.computation) u.computation.inputs.forEach(visit);
    else found.set(`${u.graph}\0${u.name}`, u);
  };
  visit(t);
  return [...found.values()];
}

/** The ops that compute a weight, outermost first, each named once (e.g. Unsqueeze, Concat, Slice). */
export function computingOps(t: TensorRef): string[] {
  const ops = new Set<string>();
  const visit = (u: TensorRef) => {
    if (!u.computation) return;
    ops.add(u.computation.op);
    u.computation.inputs.forEach(visit);
  };
  visit(t);
  return [...ops];
}

/** Elements of the stored tensors under `tensors`, each counted once: what data movement can spread out. */
function distinctSourceElements(tensors: readonly TensorRef[]): number {
  const sources = new Set(tensors.flatMap(storedSources));
  return [...sources].reduce((a, t) => a + t.size, 0);
}

type Bad = (field: string, problem: string) => never;
/** The integers of an index input; undefined when it is absent ('' or beyond the inputs). */
type Indices = (position: number, field: string) => number[] | undefined | 'not constant';

/** An index input read from the file: a missing optional input is undefined, a computed one 'not constant'. */
function integerInput(
  graph: Graph,
  name: string | undefined,
  field: string,
  bad: Bad,
): number[] | undefined | 'not constant' {
  if (!name) return undefined;
  const t = resolveConstant(graph, name);
  if (!(t instanceof OnnxTensor)) return 'not constant';
  if (t.size > MAX_RANK)
    bad(field, `${field} "${name}" has ${t.size} values, more than the ${MAX_RANK} dimensions weightlens reads`);
  return t.integersInFile() ?? 'not constant';
}

function intsAttribute(node: Node, name: string): number[] | undefined {
  const a = node.attributes.get(name);
  return a?.kind === 'ints' ? a.value : undefined;
}

/** Axis `a` of a rank-`rank` tensor, negative counting from the end; out of range throws. */
function normalizeAxis(a: number, rank: number, field: string, bad: Bad): number {
  if (!Number.isInteger(a) || a < -rank || a >= rank) bad(field, `${field} ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
}

function uniqueAxes(axes: number[], rank: number, field: string, bad: Bad): number[] {
  const normalized = axes.map((a) => normalizeAxis(a, rank, field, bad));
  if (new Set(normalized).size !== normalized.length) bad(field, `${field} [${axes}] name an axis twice`);
  return normalized;
}

/** Row-major strides of `shape`. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let k = shape.length - 1, s = 1; k >= 0; k--) {
    strides[k] = s;
    s *= shape[k]!;
  }
  return strides;
}

function shapeOf(node: Node, sources: TensorRef[], indices: Indices, bad: Bad): Shaped | undefined {
  const x = sources[0]!;
  const rank = x.shape.length;
  const inputOrAttribute = (position: number, attribute: string) => {
    const fromInput = indices(position, attribute);
    return fromInput === undefined ? intsAttribute(node, attribute) : fromInput;
  };
  switch (node.opType) {
    case 'Slice': {
      // opset ≥ 10: starts, ends, axes, steps are inputs; opset 1–9: attributes (steps 1).
      const fromInputs = node.inputs.length > 1;
      const starts = fromInputs ? indices(1, 'starts') : intsAttribute(node, 'starts');
      const ends = fromInputs ? indices(2, 'ends') : intsAttribute(node, 'ends');
      const axes = fromInputs ? indices(3, 'axes') : intsAttribute(node, 'axes');
      const steps = fromInputs ? indices(4, 'steps') : undefined;
      if ([starts, ends, axes, steps].includes('not constant')) return undefined;
      return slice(
        x,
        starts as number[] | undefined,
        ends as number[] | undefined,
        axes as number[] | undefined,
        steps as number[] | undefined,
        bad,
      );
    }
    case 'Concat': {
      const axis = normalizeAxis(intAttribute(node, 'axis', 0), rank, 'axis', bad);
      const shape = [...x.shape];
      for (const t of sources.slice(1)) {
        if (t.dataType !== x.dataType) bad('inputs', `input "${t.name}" is ${t.dtype}, but "${x.name}" is ${x.dtype}`);
        const fits = t.shape.length === rank && t.shape.every((d, k) => k === axis || d === x.shape[k]);
        if (!fits)
          bad('inputs', `input "${t.name}" [${t.shape}] does not fit "${x.name}" [${x.shape}] along axis ${axis}`);
        shape[axis]! += t.shape[axis]!;
      }
      const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      return {
        shape,
        placement: {
          kind: 'concat',
          outer: x.shape.slice(0, axis).reduce((a, b) => a * b, 1),
          blocks: sources.map((t) => t.shape[axis]! * inner),
        },
      };
    }
    case 'Unsqueeze': {
      const axes = inputOrAttribute(1, 'axes');
      if (axes === 'not constant') return undefined;
      if (!axes) bad('axes', 'has no axes');
      const outRank = rank + axes!.length;
      if (outRank > MAX_RANK) return undefined;
      const inserted = new Set(uniqueAxes(axes!, outRank, 'axes', bad));
      const shape: number[] = [];
      for (let k = 0, from = 0; k < outRank; k++) shape.push(inserted.has(k) ? 1 : x.shape[from++]!);
      return { shape, placement: { kind: 'same-order' } };
    }
    case 'Squeeze': {
      const axes = inputOrAttribute(1, 'axes');
      if (axes === 'not constant') return undefined;
      const removed = new Set(
        axes ? uniqueAxes(axes, rank, 'axes', bad) : x.shape.flatMap((d, k) => (d === 1 ? [k] : [])),
      );
      for (const k of removed)
        if (x.shape[k] !== 1) bad('axes', `axis ${k} of "${x.name}" [${x.shape}] is ${x.shape[k]}, not 1`);
      return { shape: x.shape.filter((_, k) => !removed.has(k)), placement: { kind: 'same-order' } };
    }
    case 'Reshape': {
      const target = indices(1, 'shape');
      if (target === 'not constant') return undefined;
      if (!target) bad('shape', 'has no shape input');
      return {
        shape: reshape(x, target!, intAttribute(node, 'allowzero', 0) === 1, bad),
        placement: { kind: 'same-order' },
      };
    }
    case 'Transpose': {
      const perm = intsAttribute(node, 'perm') ?? x.shape.map((_, k) => rank - 1 - k);
      const isPermutation = perm.length === rank && [...perm].sort((a, b) => a - b).every((p, k) => p === k);
      if (!isPermutation) bad('perm', `perm [${perm}] is not a permutation of the ${rank} axes of "${x.name}"`);
      const strides = stridesOf(x.shape);
      return {
        shape: perm.map((p) => x.shape[p]!),
        placement: { kind: 'strided', base: 0, strides: perm.map((p) => strides[p]!) },
      };
    }
    default:
      return undefined;
  }
}

/** ONNX Slice: negative indices count from the end, out-of-range ones clamp; steps may be negative, never 0. */
function slice(
  x: TensorRef,
  starts: number[] | undefined,
  ends: number[] | undefined,
  axes: number[] | undefined,
  steps: number[] | undefined,
  bad: Bad,
): Shaped {
  const rank = x.shape.length;
  if (!starts || !ends) bad('starts', 'needs starts and ends');
  const n = starts!.length;
  if (ends!.length !== n) bad('ends', `has ${n} starts but ${ends!.length} ends`);
  if (axes && axes.length !== n) bad('axes', `has ${n} starts but ${axes.length} axes`);
  if (steps && steps.length !== n) bad('steps', `has ${n} starts but ${steps.length} steps`);
  const sliced = uniqueAxes(axes ?? starts!.map((_, k) => k), rank, 'axes', bad);
  const inStrides = stridesOf(x.shape);
  const shape = [...x.shape];
  const strides = [...inStrides];
  let base = 0;
  sliced.forEach((axis, k) => {
    const dim = x.shape[axis]!;
    const step = steps?.[k] ?? 1;
    if (step === 0 || !Number.isInteger(step)) bad('steps', `step ${step} on axis ${axis}`);
    const wrap = (i: number) => (i < 0 ? i + dim : i);
    const clamp = (i: number, lo: number, hi: number) => Math.min(Math.max(i, lo), hi);
    const start = step > 0 ? clamp(wrap(starts![k]!), 0, dim) : clamp(wrap(starts![k]!), 0, dim - 1);
    const end = step > 0 ? clamp(wrap(ends![k]!), 0, dim) : clamp(wrap(ends![k]!), -1, dim - 1);
    shape[axis] = Math.max(0, Math.ceil((end - start) / step));
    strides[axis] = inStrides[axis]! * step;
    base += start * inStrides[axis]!;
  });
  return { shape, placement: { kind: 'strided', base, strides } };
}

/** ONNX Reshape: 0 copies the input's dimension (unless allowzero), one -1 takes what is left. */
function reshape(x: TensorRef, target: number[], allowZero: boolean, bad: Bad): number[] {
  const shape = target.map((d, k) => {
    if (d === 0 && !allowZero) {
      if (k >= x.shape.length)
        bad('shape', `shape [${target}] copies dimension ${k} (0), but "${x.name}" has rank ${x.shape.length}`);
      return x.shape[k]!;
    }
    if (d < -1 || !Number.isInteger(d)) bad('shape', `shape [${target}] holds ${d}`);
    return d;
  });
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) bad('shape', `shape [${target}] has more than one -1`);
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  if (unknown === 1) {
    if (known === 0 || x.size % known !== 0)
      bad('shape', `shape [${target}] does not divide the ${x.size} elements of "${x.name}" [${x.shape}]`);
    shape[shape.indexOf(-1)] = x.size / known;
  } else if (known !== x.size) {
    bad('shape', `shape [${target}] claims ${known} elements, "${x.name}" [${x.shape}] has ${x.size}`);
  }
  return shape;
}

class ComputedTensor implements TensorRef {
  readonly origin = 'computed' as const;
  readonly dtype: DTypeName;

  constructor(
    readonly name: string,
    readonly graph: string,
    readonly dataType: number,
    readonly shape: readonly number[],
    readonly size: number,
    readonly computation: Computation,
    private readonly placement: Placement,
    private readonly fileName: string,
  ) {
    this.dtype = dtypeName(dataType);
  }

  async readFloat32Into(dest: Float32Array, signal?: AbortSignal): Promise<void> {
    if (dest.length < this.size) {
      throw new WeightlensError(
        'USAGE',
        `${this.fileName}: tensor "${this.name}" has ${this.size} elements, the destination only ${dest.length}`,
        {
          file: this.fileName,
          tensor: this.name,
        },
      );
    }
    await this.writeInto(dest.subarray(0, this.size), new Map(), signal);
  }

  /** Fills `out` (exactly `size` elements); `reads` keeps each stored source read once per top-level read. */
  async writeInto(out: Float32Array, reads: Map<TensorRef, Float32Array>, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal, this.fileName);
    const { placement } = this;
    const inputs = this.computation.inputs;
    if (placement.kind === 'same-order') return valuesInto(inputs[0]!, out, reads, signal);
    const values: Float32Array[] = [];
    for (const t of inputs) values.push(await valuesOf(t, reads, signal));
    if (placement.kind === 'strided') gatherStrided(values[0]!, out, this.shape, placement.base, placement.strides);
    else concatInto(values, out, placement.outer, placement.blocks);
  }
}

/** Writes `t`'s values into `out`, reading a stored tensor at most once per top-level read. */
async function valuesInto(
  t: TensorRef,
  out: Float32Array,
  reads: Map<TensorRef, Float32Array>,
  signal?: AbortSignal,
): Promise<void> {
  if (t instanceof ComputedTensor) return t.writeInto(out, reads, signal);
  const read = reads.get(t);
  if (read) {
    out.set(read);
    return;
  }
  await t.readFloat32Into(out, signal);
  // `out` is written once and only read afterwards, so later readers of `t` may copy from it.
  reads.set(t, out);
}

async function valuesOf(
  t: TensorRef,
  reads: Map<TensorRef, Float32Array>,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const read = reads.get(t);
  if (read) return read;
  const values = new Float32Array(t.size);
  await valuesInto(t, values, reads, signal);
  return values;
}

function gatherStrided(
  src: Float32Array,
  out: Float32Array,
  shape: readonly number[],
  base: number,
  strides: readonly number[],
): void {
  if (out.length === 0) return;
  const rank = shape.length;
  if (rank === 0) {
    out[0] = src[base]!;
    return;
  }
  const last = rank - 1;
  const lastDim = shape[last]!;
  const lastStride = strides[last]!;
  const index = new Array<number>(rank).fill(0);
  let offset = base;
  for (let o = 0; o < out.length; o += lastDim) {
    for (let i = 0, s = offset; i < lastDim; i++, s += lastStride) out[o + i] = src[s]!;
    // Odometer over the leading axes.
    for (let k = last - 1; k >= 0; k--) {
      offset += strides[k]!;
      if (++index[k]! < shape[k]!) break;
      offset -= strides[k]! * shape[k]!;
      index[k] = 0;
    }
  }
}

function concatInto(values: Float32Array[], out: Float32Array, outer: number, blocks: readonly number[]): void {
  let o = 0;
  for (let slab = 0; slab < outer; slab++) {
    values.forEach((v, j) => {
      const block = blocks[j]!;
      out.set(v.subarray(slab * block, (slab + 1) * block), o);
      o += block;
    });
  }
}
