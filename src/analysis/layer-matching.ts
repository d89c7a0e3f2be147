// Which weight layer of one model is which layer of another (docs/definitions.md, "Comparing two models"):
// first by weight name, then by node name, then — for what is left, e.g. a model whose tensors were all
// renamed — by position: the longest common subsequence of the two graph orders, two layers matching when
// they have the same op and weight shape. Names include the forms quantizers give them (a QDQ export's
// "_quantized" codes, onnxruntime's "_DequantizeLinear_Output", "_quant", "_Q4", "_Q8"), so a float model
// matches its quantized export. Used by `weightlens diff` and `audit --float`.
import { blockQuantizedComputes } from './block-quantized.js';
import type { WeightLayer, WeightOp } from './layers.js';
import { computedOp, isQOperator } from './qoperator.js';

/** What matching looks at in a layer. */
export interface LayerSignature {
  /** Names its weight goes by: its own first, then the float name a quantizer's names point back to. */
  readonly weights: readonly string[];
  /** Names its node goes by, likewise. */
  readonly names: readonly string[];
  /** The float op it computes (a quantized op's float counterpart): layers of different ops never match. */
  readonly op: string;
  readonly shape: readonly number[];
}

/** The float op a quantized op stands for (QLinearConv and ConvInteger: Conv; MatMulNBits: MatMul…). */
function floatOp(op: WeightOp): string {
  if (isQOperator(op)) return computedOp(op);
  if (op === 'MatMulNBits' || op === 'GatherBlockQuantized') return blockQuantizedComputes(op);
  return op;
}

/** A weight layer's signature, with the names quantizers derive from the float model's. */
export function signatureOf(layer: WeightLayer): LayerSignature {
  const weights = [layer.weight.name, layer.weight.name.replace(/_quantized$/, '')];
  // QDQ exporters have DequantizeLinear write the float weight's own name (or onnxruntime's suffixed one).
  for (const input of layer.node.inputs.slice(1))
    if (input) weights.push(input, input.replace(/_DequantizeLinear_Output$/, ''));
  return {
    weights: [...new Set(weights)],
    names: [...new Set([layer.name, layer.name.replace(/_(quant|Q4|Q8)$/, '')])],
    op: floatOp(layer.op),
    shape: layer.weight.shape,
  };
}

export type MatchMethod = 'weight name' | 'node name' | 'position and shape';

/** A pair: indices into the `before` and `after` lists. */
export interface LayerMatch {
  readonly before: number;
  readonly after: number;
  readonly by: MatchMethod;
}

export interface LayerMatching {
  /** In the order of the `before` list. */
  readonly pairs: LayerMatch[];
  /** Layers of either side no rule matched (indices, in order). */
  readonly onlyBefore: number[];
  readonly onlyAfter: number[];
}

/** Above this many cells the position match aligns greedily instead of by a full LCS table (memory). */
const LCS_CELLS = 16_000_000;

const shapeKey = (s: LayerSignature) => `${s.op}[${s.shape.join(',')}]`;

/** Open layers by each of their names, for names that only one layer goes by. */
function uniqueIndex(
  list: readonly LayerSignature[],
  names: (s: LayerSignature) => readonly string[],
  open: Set<number>,
) {
  const seen = new Map<string, number>();
  const twice = new Set<string>();
  for (const i of open)
    for (const name of names(list[i]!)) {
      if (seen.has(name) && seen.get(name) !== i) twice.add(name);
      seen.set(name, i);
    }
  for (const name of twice) seen.delete(name);
  return seen;
}

/**
 * Pairs `before[i]` with `after[j]` where both lists are in graph order: LCS of their (op, shape) keys, so
 * layers keep their relative order; greedy (each next layer to the first equal one after the last pair)
 * when the table would exceed LCS_CELLS.
 */
function alignByPosition(a: readonly string[], b: readonly string[]): [number, number][] {
  const [n, m] = [a.length, b.length];
  if (n === 0 || m === 0) return [];
  if ((n + 1) * (m + 1) > LCS_CELLS) {
    const pairs: [number, number][] = [];
    let j = 0;
    for (let i = 0; i < n && j < m; i++) {
      const k = b.indexOf(a[i]!, j);
      if (k >= 0) {
        pairs.push([i, k]);
        j = k + 1;
      }
    }
    return pairs;
  }
  // lengths[i][j]: LCS of a[i..] and b[j..], filled from the end.
  const width = m + 1;
  const lengths = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lengths[i * width + j] =
        a[i] === b[j]
          ? lengths[(i + 1) * width + j + 1]! + 1
          : Math.max(lengths[(i + 1) * width + j]!, lengths[i * width + j + 1]!);
  const pairs: [number, number][] = [];
  let [i, j] = [0, 0];
  while (i < n && j < m) {
    if (a[i] === b[j]) pairs.push([i++, j++]);
    else if (lengths[(i + 1) * width + j]! >= lengths[i * width + j + 1]!) i++;
    else j++;
  }
  return pairs;
}

export function matchLayers(before: readonly LayerSignature[], after: readonly LayerSignature[]): LayerMatching {
  const openBefore = new Set(before.keys());
  const openAfter = new Set(after.keys());
  const pairs: LayerMatch[] = [];
  const byName = (by: MatchMethod, names: (s: LayerSignature) => readonly string[]) => {
    const index = uniqueIndex(before, names, openBefore);
    for (const j of [...openAfter]) {
      const i = names(after[j]!)
        .map((name) => index.get(name))
        .find((i) => i !== undefined && openBefore.has(i) && before[i]!.op === after[j]!.op);
      if (i === undefined) continue;
      pairs.push({ before: i, after: j, by });
      openBefore.delete(i);
      openAfter.delete(j);
    }
  };
  byName('weight name', (s) => s.weights);
  byName('node name', (s) => s.names);
  const restBefore = [...openBefore].sort((x, y) => x - y);
  const restAfter = [...openAfter].sort((x, y) => x - y);
  for (const [i, j] of alignByPosition(
    restBefore.map((k) => shapeKey(before[k]!)),
    restAfter.map((k) => shapeKey(after[k]!)),
  )) {
    pairs.push({ before: restBefore[i]!, after: restAfter[j]!, by: 'position and shape' });
    openBefore.delete(restBefore[i]!);
    openAfter.delete(restAfter[j]!);
  }
  pairs.sort((x, y) => x.before - y.before);
  return {
    pairs,
    onlyBefore: [...openBefore].sort((x, y) => x - y),
    onlyAfter: [...openAfter].sort((x, y) => x - y),
  };
}
