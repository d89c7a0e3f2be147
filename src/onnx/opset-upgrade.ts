// Raising a model's default-domain opset (e.g. so DequantizeLinear may take `axis` or 4-bit codes): every
// op whose form changed on the way is rewritten into its new form, or the raise is refused naming the node.
// Only changes that break a node written for the old opset are listed; every other change between
// versions (new types, new attributes or inputs whose defaults keep the old behaviour) needs nothing.
// Sources: the ONNX operator changelog (Changelog.md) for each op and version named here.
import { DT } from './dtypes.js';
import type { ExportPlan, NewEncodedInitializer, NewInitializer, NewNode, NodeRewrite } from './export/plan.js';
import { newNames } from './lookup.js';
import type { Graph, Model, Node } from './model.js';

/** How a node written for an older opset becomes valid at the newer one. */
type Change =
  /** Attributes that became inputs: [attribute, input position, ONNX type of the new input]. */
  | { kind: 'inputs'; moved: readonly (readonly [string, number, 'int64' | 'float'])[] }
  /** Inference-time identity (Dropout): becomes Identity. */
  | { kind: 'identity' }
  /** Softmax-like ops lost their flatten-to-2D semantics (opset 13). */
  | { kind: 'flattened-axis' }
  | { kind: 'refuse'; why: string };

const axesInput = { kind: 'inputs', moved: [['axes', 1, 'int64']] } as const;
const REDUCE_18 = ['ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin'];

/** op -> version at which its form changed -> what an older node needs. */
const CHANGES: Readonly<Record<string, Readonly<Record<number, Change>>>> = {
  Clip: {
    11: {
      kind: 'inputs',
      moved: [
        ['min', 1, 'float'],
        ['max', 2, 'float'],
      ],
    },
  },
  Pad: {
    11: {
      kind: 'inputs',
      moved: [
        ['pads', 1, 'int64'],
        ['value', 2, 'float'],
      ],
    },
  },
  Slice: {
    10: {
      kind: 'inputs',
      moved: [
        ['starts', 1, 'int64'],
        ['ends', 2, 'int64'],
        ['axes', 3, 'int64'],
      ],
    },
  },
  TopK: { 10: { kind: 'inputs', moved: [['k', 1, 'int64']] } },
  Squeeze: { 13: axesInput },
  Unsqueeze: { 13: axesInput },
  ReduceSum: { 13: axesInput },
  ...Object.fromEntries([...REDUCE_18, 'ReduceProd', 'ReduceSumSquare'].map((op) => [op, { 18: axesInput }])),
  Split: { 13: { kind: 'inputs', moved: [['split', 1, 'int64']] } },
  Dropout: { 10: { kind: 'identity' }, 12: { kind: 'identity' } },
  Softmax: { 13: { kind: 'flattened-axis' } },
  LogSoftmax: { 13: { kind: 'flattened-axis' } },
  Hardmax: { 13: { kind: 'flattened-axis' } },
  Upsample: { 10: { kind: 'refuse', why: 'Upsample is deprecated from opset 10 (Resize replaces it)' } },
  Scatter: { 11: { kind: 'refuse', why: 'Scatter is deprecated from opset 11 (ScatterElements replaces it)' } },
  Resize: {
    11: {
      kind: 'refuse',
      why: "Resize changed its coordinate mapping at opset 11 (Resize-10's is not expressible exactly)",
    },
  },
  RoiAlign: { 16: { kind: 'refuse', why: 'RoiAlign changed its default coordinate_transformation_mode at opset 16' } },
  GridSample: { 20: { kind: 'refuse', why: 'GridSample renamed its modes at opset 20' } },
  DFT: { 20: { kind: 'refuse', why: 'DFT moved its axis from an attribute to an input at opset 20' } },
  GroupNormalization: {
    21: { kind: 'refuse', why: 'GroupNormalization changed its scale and bias to per-channel at opset 21' },
  },
};

/** The least IR version a file importing this default-domain opset must declare (onnx's version table). */
export function irVersionFor(opset: number): number {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 15) return 8;
  if (opset >= 13) return 7;
  if (opset >= 11) return 6;
  return 5;
}

/** The parts of an export plan that raise `model` to opset `target`, or the nodes that cannot follow. */
export interface OpsetUpgrade {
  readonly plan: Pick<
    ExportPlan,
    'rewriteNodes' | 'replaceNodes' | 'addInitializers' | 'addEncodedInitializers' | 'opsets' | 'irVersion'
  >;
  /** "node "X" (Op): why", one per node that has no rewrite; the raise is only valid when empty. */
  readonly refused: string[];
}

const int64Raw = (values: readonly number[]) => {
  const out = new BigInt64Array(values.length);
  values.forEach((v, i) => (out[i] = BigInt(v)));
  return new Uint8Array(out.buffer);
};

/** The one float type of the model's stored float weights, which an op's moved float attributes then take. */
function storedFloatType(model: Model): number | undefined {
  const types = new Set<number>();
  for (const g of model.graphs)
    for (const t of g.constants.values())
      if ([DT.FLOAT, DT.FLOAT16, DT.BFLOAT16, DT.DOUBLE].includes(t.dataType as 1)) types.add(t.dataType);
  return types.size === 1 ? [...types][0] : types.size === 0 ? DT.FLOAT : undefined;
}

export function opsetUpgrade(
  model: Model,
  target: number,
  fresh: (wanted: string) => string = newNames(model),
): OpsetUpgrade {
  const from = model.opsets[''] ?? 0;
  const refused: string[] = [];
  const rewriteNodes: NodeRewrite[] = [];
  const replaceNodes: { node: Node; nodes: NewNode[] }[] = [];
  const addInitializers: NewInitializer[] = [];
  const addEncodedInitializers: NewEncodedInitializer[] = [];
  const floatType = storedFloatType(model);
  for (const graph of model.graphs) {
    for (const node of graph.nodes) {
      if (node.domain !== '' && node.domain !== 'ai.onnx') continue;
      const changes = Object.entries(CHANGES[node.opType] ?? {}).filter(([v]) => +v > from && +v <= target);
      if (changes.length === 0) continue;
      const change = changes[0]![1];
      const refuse = (why: string) => refused.push(`node "${node.name}" (${node.opType}): ${why}`);
      switch (change.kind) {
        case 'refuse':
          refuse(change.why);
          break;
        case 'identity': {
          if (node.outputs.slice(1).some((o) => o !== '')) refuse('its mask output is used');
          else
            rewriteNodes.push({
              node,
              opType: 'Identity',
              inputs: [node.inputs[0]!],
              removeAttributes: [...node.attributes.keys()],
            });
          break;
        }
        case 'flattened-axis':
          replaceNodes.push({ node, nodes: flattenedAxis(graph, node, fresh) });
          break;
        case 'inputs': {
          const inputs = [...node.inputs];
          let problem: string | undefined;
          for (const [attribute, position, type] of change.moved) {
            const value = node.attributes.get(attribute);
            if (!value) continue;
            if (inputs.length > position && inputs[position] !== '')
              problem = `it has both attribute ${attribute} and input ${position}`;
            const numbers =
              value.kind === 'ints' || value.kind === 'floats'
                ? value.value
                : value.kind === 'int' || value.kind === 'float'
                  ? [value.value]
                  : undefined;
            if (!numbers) problem = `its attribute ${attribute} is not numeric`;
            if (type === 'float' && floatType === undefined)
              problem = `its ${attribute} must take the input's float type, and the model mixes float types`;
            if (problem) break;
            while (inputs.length < position) inputs.push('');
            const name = fresh(`${node.name}_${attribute}`);
            // A scalar attribute becomes a scalar input (Clip's bounds, Pad's value); TopK's k stays a 1-D tensor.
            const dims = value.kind === 'ints' || value.kind === 'floats' || attribute === 'k' ? [numbers!.length] : [];
            if (type === 'int64')
              addEncodedInitializers.push({ graph, name, dims, dataType: DT.INT64, raw: int64Raw(numbers!) });
            else addInitializers.push({ graph, name, dims, dataType: floatType!, values: Float32Array.from(numbers!) });
            inputs[position] = name;
          }
          if (problem) refuse(problem);
          else rewriteNodes.push({ node, inputs, removeAttributes: change.moved.map(([a]) => a) });
          break;
        }
      }
    }
  }
  return {
    plan: {
      rewriteNodes,
      replaceNodes,
      addInitializers,
      addEncodedInitializers,
      opsets: { '': target },
      irVersion: Math.max(model.irVersion, irVersionFor(target)),
    },
    refused,
  };
}

/**
 * Softmax(x, axis = a) before opset 13 flattened x to 2-D at `a` and normalized each row; from 13 it
 * normalizes along `a` alone. The same function at 13: Reshape(Softmax(Flatten(x, a), axis −1), Shape(x)).
 */
function flattenedAxis(graph: Graph, node: Node, fresh: (wanted: string) => string): NewNode[] {
  const axis = node.attributes.get('axis');
  const a = axis?.kind === 'int' ? axis.value : 1;
  const x = node.inputs[0]!;
  const [shape, flat, normalized] = [fresh(`${node.name}_shape`), fresh(`${node.name}_2d`), fresh(`${node.name}_rows`)];
  return [
    { graph, name: fresh(`${node.name}_Shape`), opType: 'Shape', inputs: [x], outputs: [shape] },
    {
      graph,
      name: fresh(`${node.name}_Flatten`),
      opType: 'Flatten',
      inputs: [x],
      outputs: [flat],
      intAttributes: { axis: a },
    },
    { graph, name: node.name, opType: node.opType, inputs: [flat], outputs: [normalized], intAttributes: { axis: -1 } },
    {
      graph,
      name: fresh(`${node.name}_Reshape`),
      opType: 'Reshape',
      inputs: [normalized, shape],
      outputs: [node.outputs[0]!],
    },
  ];
}
