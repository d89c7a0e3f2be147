// The attributes of Conv, ConvTranspose and Gemm that decide how a weight is read, checked against the
// weight where they are read. A value no valid model has (group 0, a group that does not divide the
// channels, transB=7, a kernel_shape of another rank) is BAD_GRAPH: stats, cle, report and the elements all
// read layers through here, so they all refuse the same file the same way, before any allocation that
// an attribute could size.
import type { WeightlensError } from '../errors.js';
import type { Node, TensorRef } from '../onnx/model.js';

/** Makes the error for attribute `name` (= `value`, when it has one) of the node being read: "<file>: Conv "c1" attribute group=0 <problem>". */
export type BadAttribute = (name: string, value: string | undefined, problem: string) => WeightlensError;

function intAttribute(node: Node, name: string, fallback: number, bad: BadAttribute): number {
  const a = node.attributes.get(name);
  if (!a) return fallback;
  if (a.kind !== 'int') throw bad(name, undefined, `is of type ${a.kind}, not int`);
  return a.value;
}

function intsAttribute(node: Node, name: string, bad: BadAttribute): number[] | undefined {
  const a = node.attributes.get(name);
  if (!a) return undefined;
  if (a.kind !== 'ints') throw bad(name, undefined, `is of type ${a.kind}, not ints`);
  return a.value;
}

/**
 * Conv's and ConvTranspose's `group`: at least 1 and dividing axis 0 of the weight (Conv: output channels
 * [Cout, Cin/group, k…]; ConvTranspose: input channels [Cin, Cout/group, k…]).
 */
export function convGroups(node: Node, weight: TensorRef, bad: BadAttribute): number {
  const groups = intAttribute(node, 'group', 1, bad);
  const channels = weight.shape[0]!;
  const what = node.opType === 'ConvTranspose' ? 'input' : 'output';
  if (groups < 1) throw bad('group', `${groups}`, 'must be at least 1');
  if (channels % groups !== 0)
    throw bad(
      'group',
      `${groups}`,
      `does not divide the ${channels} ${what} channels of weight "${weight.name}" [${weight.shape}]`,
    );
  return groups;
}

/** kernel_shape, strides, dilations and pads, where present, fit the weight's spatial rank (and kernel). */
export function checkConvWindow(node: Node, weight: TensorRef, bad: BadAttribute): void {
  const kernel = weight.shape.slice(2);
  const rank = kernel.length;
  const list = (name: string) => {
    const values = intsAttribute(node, name, bad);
    const length = name === 'pads' ? 2 * rank : rank;
    if (values && values.length !== length) {
      throw bad(
        name,
        `[${values}]`,
        `has ${values.length} values, weight "${weight.name}" [${weight.shape}] needs ${length}`,
      );
    }
    return values;
  };
  const kernelShape = list('kernel_shape');
  if (kernelShape && kernelShape.some((k, i) => k !== kernel[i])) {
    throw bad('kernel_shape', `[${kernelShape}]`, `does not match weight "${weight.name}" [${weight.shape}]`);
  }
  for (const name of ['strides', 'dilations']) {
    const values = list(name);
    if (values?.some((v) => v < 1)) throw bad(name, `[${values}]`, 'must all be at least 1');
  }
  const pads = list('pads');
  if (pads?.some((p) => p < 0)) throw bad('pads', `[${pads}]`, 'must all be at least 0');
}

/** Gemm's transA or transB: 0 or 1 (absent: 0). */
export function gemmTranspose(node: Node, name: 'transA' | 'transB', bad: BadAttribute): boolean {
  const value = intAttribute(node, name, 0, bad);
  if (value !== 0 && value !== 1) throw bad(name, `${value}`, 'must be 0 or 1');
  return value === 1;
}
