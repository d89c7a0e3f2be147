// A node's attribute of one kind, or the ONNX default when absent (or of another kind).
import type { Node } from './model.js';

export function intAttribute(node: Node, name: string, fallback: number): number {
  const a = node.attributes.get(name);
  return a?.kind === 'int' ? a.value : fallback;
}

export function floatAttribute(node: Node, name: string, fallback: number): number {
  const a = node.attributes.get(name);
  return a?.kind === 'float' ? a.value : fallback;
}

export function intsAttribute(node: Node, name: string, fallback: readonly number[]): readonly number[] {
  const a = node.attributes.get(name);
  return a?.kind === 'ints' ? a.value : fallback;
}
