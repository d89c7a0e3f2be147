// Graph lookups the analyses repeat once per layer. Scanning the graph for each one is quadratic in the node
// count (a 2.5 MB file of 40,000 Convs took minutes), so each index is built once per graph or model and kept
// beside it. Models and graphs are never mutated after decoding, which is what makes the caches sound.
import type { Graph, Model, Node } from './model.js';

const readersOf = new WeakMap<Graph, Map<string, Node[]>>();
const producersOf = new WeakMap<Graph, Map<string, Node>>();
const graphsOf = new WeakMap<Model, Map<string, Graph>>();
const usesOf = new WeakMap<Model, Map<string, number>>();
const namesOf = new WeakMap<Model, Set<string>>();

/** The nodes of `graph` itself (not its subgraphs) that read `value`, each once, in graph order. */
export function nodesReading(graph: Graph, value: string): readonly Node[] {
  let readers = readersOf.get(graph);
  if (!readers) {
    readers = new Map();
    for (const node of graph.nodes) {
      for (const input of new Set(node.inputs)) {
        if (!input) continue;
        const list = readers.get(input);
        if (list) list.push(node);
        else readers.set(input, [node]);
      }
    }
    readersOf.set(graph, readers);
  }
  return readers.get(value) ?? [];
}

/** The first node of `graph` itself that outputs `value` (ONNX allows one; a broken file may have more). */
export function nodeProducing(graph: Graph, value: string): Node | undefined {
  let producers = producersOf.get(graph);
  if (!producers) {
    producers = new Map();
    for (const node of graph.nodes)
      for (const output of node.outputs) if (output && !producers.has(output)) producers.set(output, node);
    producersOf.set(graph, producers);
  }
  return producers.get(value);
}

/** The graph at `path` ('main', 'main/If_3.then_branch', …); paths come from the model's own graphs. */
export function graphAt(model: Model, path: string): Graph | undefined {
  let graphs = graphsOf.get(model);
  if (!graphs) {
    graphs = new Map(model.graphs.map((g) => [g.path, g]));
    graphsOf.set(model, graphs);
  }
  return graphs.get(path);
}

/**
 * How many times `value` is read anywhere in the model: every node input in every graph (subgraphs may read
 * outer values; a node reading it twice counts twice) and every graph output.
 */
export function useCount(model: Model, value: string): number {
  let uses = usesOf.get(model);
  if (!uses) {
    uses = new Map();
    const add = (name: string) => name && uses!.set(name, (uses!.get(name) ?? 0) + 1);
    for (const g of model.graphs) {
      for (const node of g.nodes) node.inputs.forEach(add);
      g.outputs.forEach(add);
    }
    usesOf.set(model, uses);
  }
  return uses.get(value) ?? 0;
}

/** Is `name` already a value of the model: a constant, a graph input, or a node input or output in any graph? */
export function isNameTaken(model: Model, name: string): boolean {
  let names = namesOf.get(model);
  if (!names) {
    names = new Set();
    for (const g of model.graphs) {
      for (const c of g.constants.keys()) names.add(c);
      for (const i of g.inputs) names.add(i);
      for (const n of g.nodes) for (const v of [...n.inputs, ...n.outputs]) names.add(v);
    }
    namesOf.set(model, names);
  }
  return names.has(name);
}

/**
 * Names for new values: unused in the model, distinct from each other and from `taken` (two layers, or two
 * plans merged into one export, may want the same name): `wanted`, else `wanted_2`, `wanted_3`, …
 */
export function newNames(model: Model, taken: Iterable<string> = []): (wanted: string) => string {
  const chosen = new Set<string>(taken);
  return (wanted) => {
    let name = wanted;
    for (let i = 2; chosen.has(name) || isNameTaken(model, name); i++) name = `${wanted}_${i}`;
    chosen.add(name);
    return name;
  };
}
