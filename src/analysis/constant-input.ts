// Which node inputs are constants for analysis: stored tensors, directly or through Identity, a
// DequantizeLinear of constants, or a data-movement op (Slice, Concat, Unsqueeze, …) over constants.
import { computedWeight, isComputedOp } from '../onnx/computed.js';
import { dequantizedWeight } from '../onnx/dequantize.js';
import type { Graph, Node, TensorRef } from '../onnx/model.js';

/** How many producing nodes one input may be traced through: bounds cycles, depth and fan-out alike. */
const MAX_PRODUCERS = 256;

type Found = { kind: 'constant'; tensor: TensorRef } | { kind: 'produced'; node: Node; graph: Graph } | undefined;

export class ConstantInputs {
  private readonly producers = new Map<Graph, Map<string, Node>>();

  constructor(private readonly fileName: string) {}

  /** The constant behind input `name` of a node in `graph`, or undefined when it is computed from run-time values. */
  resolve(graph: Graph, name: string | undefined): TensorRef | undefined {
    let budget = MAX_PRODUCERS;
    const trace = (g: Graph, value: string): TensorRef | undefined => {
      const found = this.find(g, value);
      if (found?.kind !== 'produced') return found?.tensor;
      if (--budget < 0) return undefined;
      const { node, graph: home } = found;
      if (node.opType === 'Identity') return node.inputs[0] ? trace(home, node.inputs[0]) : undefined;
      if (node.opType === 'DequantizeLinear') return dequantizedWeight(home, node, this.fileName);
      if (isComputedOp(node.opType)) return computedWeight(home, node, (input) => trace(home, input), this.fileName);
      return undefined;
    };
    return name ? trace(graph, name) : undefined;
  }

  /** What `value` is as `graph` sees it: the nearest scope that defines it wins (ONNX scoping). */
  private find(graph: Graph, value: string): Found {
    for (let g: Graph | undefined = graph; g; g = g.parent) {
      const tensor = g.constants.get(value);
      if (tensor) return { kind: 'constant', tensor };
      const node = this.producersOf(g).get(value);
      if (node)
        return node.domain === '' || node.domain === 'ai.onnx' ? { kind: 'produced', node, graph: g } : undefined;
      if (g.inputs.includes(value)) return undefined;
    }
    return undefined;
  }

  private producersOf(graph: Graph): Map<string, Node> {
    let map = this.producers.get(graph);
    if (!map) {
      map = new Map();
      for (const node of graph.nodes) for (const out of node.outputs) if (out) map.set(out, node);
      this.producers.set(graph, map);
    }
    return map;
  }
}
