// The hostile-file corpus: files an attacker or an unlucky user could hand to weightlens, each with what it
// tests and the outcome it must get — a result ('ok') or a typed error code (a list, should the kit ever be
// free to choose). A BatchNorm CLE cannot fold into finite float32 values is a result: CLE leaves it in
// place and names it in `skipped`, never writing a non-finite weight.
// Built from the test fixtures at run time; nothing here is a committed binary.
import type { WeightlensErrorCode } from '../../src/errors.js';
import {
  DataType,
  PNG_HEADER,
  attr,
  convBatchNormModel,
  convModel,
  externalTensor,
  f32Bytes,
  f32Tensor,
  modelBytes,
  node,
  oneNodeModel,
  pseudoRandomBytes,
  qdqModel,
  rawTensor,
  subgraphModel,
  u16Bytes,
  valueInfo,
  type IAttributeProto,
  type ITensorProto,
} from '../fixtures/onnx-bytes.js';
import { gatherBlockQuantizedModel, matMulNBitsModel } from '../fixtures/block-quantized.js';
import { bytesField, concat, joinBytes, lyingField, stringField, tag, varint, varintField } from './wire.js';

export type Outcome = 'ok' | WeightlensErrorCode;

/** A file to place beside the model: bytes, or a symlink (target relative to the entry's folder). */
export type Beside = Uint8Array | { symlinkTo: string };

export interface CorpusEntry {
  /** File name (each entry gets its own folder). */
  name: string;
  /** What the file tests. */
  tests: string;
  bytes: () => Uint8Array;
  /** Files beside the model (external data), by path relative to the entry's folder ('../x' reaches out). */
  beside?: Record<string, Beside>;
  /** Accepted outcomes of `stats`. */
  stats: readonly Outcome[];
  /** Accepted outcomes of `cle` (default: those of stats). */
  cle?: readonly Outcome[];
  /** Accepted outcomes of `report` (default: stats' error, else cle's unless USAGE, which only drops the CLE section). */
  report?: readonly Outcome[];
  /** An error's message must match this. */
  mentions?: RegExp;
  /** Also run through the elements in Chromium. */
  browser?: boolean;
}

// ---- building blocks -------------------------------------------------------------------------------------

const filled = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

/** x -> Conv "c1" (w1 [cout,cin,1,1], b1) [-> BN "bn"] -> Relu -> Conv "c2" (w2 [2,cout,1,1]) -> y. */
function pairModel(
  o: {
    w1?: number[];
    b1?: number[];
    w2?: number[];
    cout?: number;
    cin?: number;
    c1Attributes?: IAttributeProto[];
    cin2?: number;
    bn?: { gamma: number[]; beta: number[]; mean: number[]; variance: number[]; epsilon?: number };
    /** Initializers no node reads. */
    extra?: ITensorProto[];
  } = {},
): Uint8Array<ArrayBuffer> {
  const cout = o.cout ?? 4;
  const cin = o.cin ?? 2;
  const cin2 = o.cin2 ?? cout;
  const w1 = o.w1 ?? filled(cout * cin, (i) => ((i % 7) - 3) * 0.25 * (1 + (i % cout)));
  const w2 = o.w2 ?? filled(2 * cin2, (i) => ((i % 5) - 2) * 0.5);
  const initializer: ITensorProto[] = [
    f32Tensor('w1', [cout, cin, 1, 1], w1),
    f32Tensor('b1', [cout], o.b1 ?? filled(cout, (i) => i * 0.1)),
    f32Tensor('w2', [2, cin2, 1, 1], w2),
    ...(o.extra ?? []),
  ];
  const nodes = [node('Conv', ['x', 'w1', 'b1'], ['h1'], 'c1', o.c1Attributes ?? [])];
  let toRelu = 'h1';
  if (o.bn) {
    const { gamma, beta, mean, variance, epsilon } = o.bn;
    initializer.push(
      f32Tensor('bn.g', [gamma.length], gamma),
      f32Tensor('bn.b', [beta.length], beta),
      f32Tensor('bn.m', [mean.length], mean),
      f32Tensor('bn.v', [variance.length], variance),
    );
    nodes.push(
      node(
        'BatchNormalization',
        ['h1', 'bn.g', 'bn.b', 'bn.m', 'bn.v'],
        ['h2'],
        'bn',
        epsilon === undefined ? [] : [attr.float('epsilon', epsilon)],
      ),
    );
    toRelu = 'h2';
  }
  nodes.push(node('Relu', [toRelu], ['r'], 'relu'), node('Conv', ['r', 'w2'], ['y'], 'c2'));
  return modelBytes({ input: [valueInfo('x')], output: [valueInfo('y')], initializer, node: nodes });
}

const bn = (n: number, variance = 1, epsilon?: number) => ({
  gamma: filled(n, (i) => 1 + i * 0.1),
  beta: filled(n, (i) => i * 0.05),
  mean: filled(n, (i) => -i * 0.02),
  variance: filled(n, () => variance),
  ...(epsilon === undefined ? {} : { epsilon }),
});

/** ModelProto { ir_version 8, graph (given as bytes), opset_import { version 13 } } written by hand. */
const handModel = (graph: Uint8Array) =>
  concat(varintField(1, 8), bytesField(7, graph), bytesField(8, varintField(2, 13)));
/** A TensorProto by hand: dims, data_type, name, then any further fields. */
const handTensor = (name: string, dims: (number | bigint)[], dataType: number, ...rest: Uint8Array[]) =>
  concat(...dims.map((d) => varintField(1, d)), varintField(2, dataType), stringField(8, name), ...rest);
/** A graph holding one initializer tensor (bytes) and a Conv reading it, so it is a weight layer. */
const convOverTensor = (tensor: Uint8Array, weight: string) =>
  concat(
    bytesField(
      1,
      concat(
        stringField(1, 'x'),
        stringField(1, weight),
        stringField(2, 'y'),
        stringField(3, 'conv'),
        stringField(4, 'Conv'),
      ),
    ),
    stringField(2, 'g'),
    bytesField(5, tensor),
    bytesField(11, stringField(1, 'x')),
    bytesField(12, stringField(1, 'y')),
  );

/** One Conv whose weight is `weight` (attributes optional). */
const convWith = (weight: ITensorProto, attributes: IAttributeProto[] = []) =>
  oneNodeModel('Conv', 'conv', ['x', weight.name!], [weight], attributes);

/** If nodes nested `depth` deep (each then-branch holds the next If; the innermost a Conv), built by hand. */
function nestedIfs(depth: number): Uint8Array {
  const weight = handTensor('w', [1, 1, 1, 1], DataType.FLOAT, bytesField(9, f32Bytes([2])));
  let graph = concat(
    bytesField(
      1,
      concat(
        stringField(1, 'x'),
        stringField(1, 'w'),
        stringField(2, 'y0'),
        stringField(3, 'conv'),
        stringField(4, 'Conv'),
      ),
    ),
    stringField(2, 'g0'),
    bytesField(5, weight),
    bytesField(12, stringField(1, 'y0')),
  );
  for (let level = 1; level <= depth; level++) {
    const branch = (name: string, g: Uint8Array) => concat(stringField(1, name), bytesField(6, g), varintField(20, 5));
    const ifNode = concat(
      stringField(1, 'cond'),
      stringField(2, `y${level}`),
      stringField(3, `If_${level}`),
      stringField(4, 'If'),
      bytesField(5, branch('then_branch', graph)),
      bytesField(5, branch('else_branch', new Uint8Array(0))),
    );
    graph = concat(bytesField(1, ifNode), stringField(2, `g${level}`), bytesField(12, stringField(1, `y${level}`)));
  }
  return handModel(concat(graph, bytesField(11, stringField(1, 'x')), bytesField(11, stringField(1, 'cond'))));
}

/** A value_info whose type is sequence(sequence(… tensor)) `depth` deep: deep messages without subgraphs. */
function nestedTypes(depth: number): Uint8Array {
  // Each level only prefixes bytes (sequence_type { elem_type { … } }): collect the prefixes inside out.
  const inner = bytesField(1, varintField(1, DataType.FLOAT)); // TypeProto { tensor_type { elem_type } }
  const prefixes: Uint8Array[] = [];
  let length = inner.byteLength;
  for (let i = 0; i < depth; i++) {
    const elem = concat(tag(1, 2), varint(length));
    length += elem.byteLength;
    const sequence = concat(tag(4, 2), varint(length));
    length += sequence.byteLength;
    prefixes.push(elem, sequence);
  }
  const type = joinBytes([...prefixes.reverse(), inner]);
  const graph = concat(
    stringField(2, 'g'),
    bytesField(13, concat(stringField(1, 'deep'), bytesField(2, type))),
    bytesField(12, stringField(1, 'y')),
  );
  return handModel(graph);
}

/** A Relu chain of `n` nodes after a Conv: a big graph from a small file. */
function longChain(n: number): Uint8Array {
  const nodes = [node('Conv', ['x', 'w'], ['r0'], 'conv')];
  for (let i = 0; i < n; i++) nodes.push(node('Relu', [`r${i}`], [i === n - 1 ? 'y' : `r${i + 1}`]));
  return modelBytes({
    input: [valueInfo('x')],
    output: [valueInfo('y')],
    initializer: [f32Tensor('w', [2, 1, 1, 1], [1, -1])],
    node: nodes,
  });
}

/**
 * `n` chained Convs with tiny weights (1×1 kernels, `channels` wide), a Relu after each when `relu`: a
 * graph of tens of thousands of layers from a file of 2 MB, every adjacent pair a CLE candidate.
 */
function tinyConvChain(n: number, channels: number, relu: boolean): Uint8Array {
  const nodes = [];
  const initializer = [];
  for (let i = 0; i < n; i++) {
    const output = i === n - 1 ? 'y' : `a${i + 1}`;
    const cin = i === 0 ? 1 : channels;
    nodes.push(node('Conv', [i === 0 ? 'x' : `a${i}`, `w${i}`], [relu ? `c${i}` : output], `conv${i}`));
    if (relu) nodes.push(node('Relu', [`c${i}`], [output]));
    const values = Array.from({ length: channels * cin }, (_, k) => 0.5 + ((i + k) % 7));
    initializer.push(f32Tensor(`w${i}`, [channels, cin, 1, 1], values));
  }
  return modelBytes({ input: [valueInfo('x')], output: [valueInfo('y')], initializer, node: nodes });
}

/** The real PP-OCR cls model's bytes (Node reads it from node_modules; the browser subset does not use it). */
let realModelBytes: (() => Uint8Array) | undefined;
export function setRealModelReader(read: () => Uint8Array): void {
  realModelBytes = read;
}
const real = () => {
  if (!realModelBytes) throw new Error('corpus: no reader for the real model (setRealModelReader)');
  return realModelBytes();
};

/** A 22-byte zip "end of central directory" record: an empty zip archive. */
const ZIP = Uint8Array.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);
const text = (s: string) => () => new TextEncoder().encode(s);
const F32_MAX = 3.4028234663852886e38;

// ---- the corpus ------------------------------------------------------------------------------------------

const notOnnx: CorpusEntry[] = [
  {
    name: 'zero-bytes.onnx',
    tests: 'an empty file',
    bytes: () => new Uint8Array(0),
    stats: ['NOT_ONNX'],
    browser: true,
  },
  { name: 'png.onnx', tests: 'a PNG image named .onnx', bytes: () => PNG_HEADER, stats: ['NOT_ONNX'], browser: true },
  {
    name: 'zip.onnx',
    tests: 'a zip archive named .onnx (e.g. a PyTorch checkpoint)',
    bytes: () => ZIP,
    stats: ['NOT_ONNX'],
  },
  {
    name: 'text.onnx',
    tests: 'a text file named .onnx',
    bytes: text('this is not a model\n'),
    stats: ['NOT_ONNX'],
    browser: true,
  },
  {
    name: 'html-404.onnx',
    tests: 'an HTML error page saved as the model',
    bytes: text('<!DOCTYPE html><title>404 Not Found</title>'),
    stats: ['NOT_ONNX'],
  },
  {
    name: 'lfs-pointer.onnx',
    tests: 'a Git LFS pointer instead of the model',
    bytes: text('version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 123\n'),
    stats: ['NOT_ONNX'],
  },
  {
    name: 'random.onnx',
    tests: '4 KB of pseudo-random bytes',
    bytes: () => pseudoRandomBytes(4096),
    stats: ['NOT_ONNX'],
  },
  {
    name: 'no-graph.onnx',
    tests: 'a ModelProto with an ir_version and no graph',
    bytes: () => varintField(1, 8),
    stats: ['NOT_ONNX'],
    mentions: /no graph/,
  },
];

/** Cuts of the real model inside its graph field (it starts at byte < 40 and ends near the file's end). */
const truncations: CorpusEntry[] = [3, 17, 64, 511, 4096, 65_537, 0.25, 0.5, 0.75, 0.9, 0.999].map((at) => ({
  name: `truncated-${at < 1 ? `${at * 100}pct` : at}.onnx`,
  tests: `the real PP-OCR cls model cut at ${at < 1 ? `${at * 100} % of its length` : `byte ${at}`} (inside the graph)`,
  bytes: () => {
    const whole = real();
    return whole.subarray(0, at < 1 ? Math.floor(whole.byteLength * at) : at);
  },
  stats: ['TRUNCATED'],
  mentions: /ends inside field graph/,
}));

const wire: CorpusEntry[] = [
  {
    name: 'graph-as-varint.onnx',
    tests: 'field 7 (graph) with wire type 0 instead of 2',
    bytes: () => concat(varintField(1, 8), varintField(7, 5)),
    stats: ['NOT_ONNX'],
  },
  {
    name: 'wire-type-group.onnx',
    tests: 'a deprecated group wire type (3) inside the graph',
    bytes: () => handModel(concat(tag(5, 3), varint(0))),
    stats: ['ok'],
  },
  {
    name: 'tensor-dims-as-bytes.onnx',
    tests: 'TensorProto.dims written with wire type 5 (fixed32)',
    bytes: () =>
      handModel(
        convOverTensor(concat(tag(1, 5), Uint8Array.of(1, 0, 0, 0), varintField(2, 1), stringField(8, 'w')), 'w'),
      ),
    stats: ['ok'],
  },
  {
    name: 'overlong-varint.onnx',
    tests: 'an 11-byte varint at the top level',
    bytes: () => concat(tag(1, 0), new Uint8Array(10).fill(0xff), Uint8Array.of(1)),
    stats: ['NOT_ONNX'],
  },
  {
    name: 'initializer-past-graph.onnx',
    tests: 'an initializer whose length runs past the end of the graph',
    bytes: () => handModel(concat(stringField(2, 'g'), lyingField(5, 1000, handTensor('w', [1], 1)))),
    stats: ['NOT_ONNX'],
  },
  {
    name: 'raw-data-past-end.onnx',
    tests: 'raw_data claims 2^31 bytes inside a small tensor',
    bytes: () =>
      handModel(convOverTensor(handTensor('w', [1, 1, 1, 1], 1, lyingField(9, 2 ** 31, f32Bytes([1]))), 'w')),
    stats: ['NOT_ONNX'],
  },
  {
    name: 'length-2-63.onnx',
    tests: 'a graph length of 2^63 (past any buffer)',
    bytes: () => concat(varintField(1, 8), lyingField(7, 2n ** 63n, new Uint8Array(4))),
    stats: ['TRUNCATED'],
  },
  {
    name: 'tensor-name-bad-utf8.onnx',
    tests: 'a weight name that is not UTF-8',
    bytes: () =>
      handModel(
        convOverTensor(
          concat(
            ...[1, 1, 1, 1].map((d) => varintField(1, d)),
            varintField(2, 1),
            bytesField(8, Uint8Array.of(0xff, 0xfe)),
            bytesField(9, f32Bytes([1])),
          ),
          '\ufffd\ufffd',
        ),
      ),
    stats: ['ok'],
  },
];

const dims: CorpusEntry[] = [
  {
    name: 'dims-negative.onnx',
    tests: 'a weight dim of -1',
    bytes: () => handModel(convOverTensor(handTensor('w', [2, -1, 1, 1], 1, bytesField(9, f32Bytes([1, 2]))), 'w')),
    stats: ['BAD_TENSOR'],
    mentions: /dims/,
  },
  {
    name: 'dims-overflow.onnx',
    tests: 'dims 2^40 x 2^40 (more elements than a double counts)',
    bytes: () =>
      handModel(convOverTensor(handTensor('w', [2 ** 40, 2 ** 40, 1, 1], 1, bytesField(9, f32Bytes([1]))), 'w')),
    stats: ['BAD_TENSOR'],
    browser: true,
  },
  {
    name: 'dims-int64-max.onnx',
    tests: 'a dim of 2^63-1',
    bytes: () =>
      handModel(convOverTensor(handTensor('w', [2n ** 63n - 1n, 1, 1, 1], 1, bytesField(9, f32Bytes([1]))), 'w')),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'dims-huge-no-payload.onnx',
    tests: '2^30 elements claimed with an empty payload',
    bytes: () => handModel(convOverTensor(handTensor('w', [2 ** 30, 1, 1, 1], 1), 'w')),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'dims-zero.onnx',
    tests: 'a weight with a zero dim (no elements)',
    bytes: () => convWith(f32Tensor('w', [0, 1, 1, 1], [])),
    stats: ['ok'],
  },
  {
    name: 'conv-2-26-channels.onnx',
    tests: 'a Conv weight [2^26, 0, 1, 1]: 2^26 channels and no elements (per-channel arrays would be GBs)',
    bytes: () => convWith(f32Tensor('w', [2 ** 26, 0, 1, 1], [])),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'scalar-weight.onnx',
    tests: 'a rank-0 Conv weight',
    bytes: () => convWith(f32Tensor('w', [], [3])),
    stats: ['BAD_GRAPH'],
  },
];

const payloads: CorpusEntry[] = [
  {
    name: 'raw-data-short.onnx',
    tests: 'raw_data 4 bytes short of its shape',
    bytes: () => convWith(rawTensor('w', [2, 1, 1, 2], DataType.FLOAT, f32Bytes([1, 2, 3]))),
    stats: ['BAD_TENSOR'],
    mentions: /raw_data/,
    browser: true,
  },
  {
    name: 'raw-data-long.onnx',
    tests: 'raw_data longer than its shape',
    bytes: () => convWith(rawTensor('w', [1, 1, 1, 1], DataType.FLOAT, f32Bytes([1, 2]))),
    stats: ['BAD_TENSOR'],
    mentions: /raw_data/,
  },
  {
    name: 'raw-data-odd.onnx',
    tests: 'float32 raw_data of 7 bytes',
    bytes: () => convWith(rawTensor('w', [2, 1, 1, 1], DataType.FLOAT, new Uint8Array(7))),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'float-data-short.onnx',
    tests: 'float_data with fewer values than the shape',
    bytes: () => convWith({ name: 'w', dims: [2, 1, 1, 2], dataType: DataType.FLOAT, floatData: [1, 2, 3] }),
    stats: ['BAD_TENSOR'],
    mentions: /float_data/,
  },
  {
    name: 'float-data-long.onnx',
    tests: 'float_data with more values than the shape',
    bytes: () => convWith({ name: 'w', dims: [1, 1, 1, 1], dataType: DataType.FLOAT, floatData: [1, 2] }),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'no-payload.onnx',
    tests: 'a float32 weight with no payload at all',
    bytes: () => convWith({ name: 'w', dims: [2, 1, 1, 1], dataType: DataType.FLOAT }),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'float16-int32-data-short.onnx',
    tests: 'float16 weight in int32_data, one value short',
    bytes: () =>
      convWith({ name: 'w', dims: [2, 1, 1, 2], dataType: DataType.FLOAT16, int32Data: [0x3c00, 0x4000, 0x4200] }),
    stats: ['BAD_TENSOR'],
    mentions: /int32_data/,
  },
  {
    name: 'bfloat16-raw-short.onnx',
    tests: 'bfloat16 raw_data one element short',
    bytes: () => convWith(rawTensor('w', [2, 1, 1, 1], DataType.BFLOAT16, u16Bytes([0x3f80]))),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'double-data-short.onnx',
    tests: 'float64 weight in double_data, one value short',
    bytes: () => convWith({ name: 'w', dims: [2, 1, 1, 1], dataType: DataType.DOUBLE, doubleData: [1] }),
    stats: ['BAD_TENSOR'],
    mentions: /double_data/,
  },
  {
    name: 'int8-int32-data-short.onnx',
    tests: 'a DequantizeLinear int8 weight in int32_data, one value short',
    bytes: () =>
      qdqModel(
        { name: 'q', dims: [2, 1, 1, 2], dataType: DataType.INT8, int32Data: [1, 2, 3] },
        f32Tensor('s', [], [0.5]),
        undefined,
      ),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'qdq-scale-zero.onnx',
    tests: 'a dequantization scale of 0 (every weight reads as 0)',
    bytes: () =>
      qdqModel(
        rawTensor('q', [2, 1, 1, 1], DataType.INT8, new Uint8Array([1, 255])),
        f32Tensor('s', [], [0]),
        undefined,
      ),
    stats: ['ok'],
    cle: ['USAGE'],
  },
  {
    name: 'qdq-scale-nan.onnx',
    tests: 'a NaN dequantization scale (every weight reads as NaN, counted)',
    bytes: () =>
      qdqModel(
        rawTensor('q', [2, 1, 1, 1], DataType.INT8, new Uint8Array([1, 255])),
        f32Tensor('s', [], [NaN]),
        undefined,
      ),
    stats: ['ok'],
    cle: ['USAGE'],
  },
  {
    name: 'qdq-zero-point-length.onnx',
    tests: 'per-axis scales [2] with a zero point of length 3',
    bytes: () =>
      qdqModel(
        rawTensor('q', [2, 1, 1, 1], DataType.INT8, new Uint8Array([1, 255])),
        f32Tensor('s', [2], [0.5, 0.25]),
        rawTensor('zp', [3], DataType.INT8, new Uint8Array(3)),
        [attr.int('axis', 0)],
      ),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'raw-and-float-data.onnx',
    tests: 'one tensor with both raw_data and float_data (which one is the weight?)',
    bytes: () =>
      convWith({
        name: 'w',
        dims: [2, 1, 1, 1],
        dataType: DataType.FLOAT,
        rawData: f32Bytes([1, 2]),
        floatData: [3, 4],
      }),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'string-weight.onnx',
    tests: 'a string tensor as a Conv weight',
    bytes: () => convWith({ name: 'w', dims: [1, 1, 1, 1], dataType: 8, stringData: [new Uint8Array([65])] }),
    stats: ['UNSUPPORTED_DTYPE'],
  },
];

const dtypes: CorpusEntry[] = [17, 18, 19, 20, 21, 22, 23, 99].map((dataType) => ({
  name: `dtype-${dataType}.onnx`,
  tests: `a Conv weight of data type ${dataType} (${{ 17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4', 23: 'float4e2m1', 99: 'unknown' }[dataType]}), no DequantizeLinear`,
  bytes: () =>
    convWith(rawTensor('w', [2, 1, 1, 2], dataType, new Uint8Array(dataType >= 21 && dataType <= 23 ? 2 : 4))),
  // int4/uint4 are integers: read as their values (as a DequantizeLinear input would be); the rest cannot be read.
  stats: dataType === 21 || dataType === 22 ? ['ok'] : ['UNSUPPORTED_DTYPE'],
  ...(dataType === 99 ? { browser: true } : {}),
}));

const graphs: CorpusEntry[] = [
  {
    name: 'empty-graph.onnx',
    tests: 'a graph with no nodes and no initializers',
    bytes: () => modelBytes({}),
    stats: ['ok'],
    browser: true,
  },
  {
    name: 'nodes-200000.onnx',
    tests: '200,000 Relu nodes after one Conv',
    bytes: () => longChain(200_000),
    stats: ['ok'],
  },
  {
    name: 'conv-chain-30000.onnx',
    tests: '30,000 chained one-channel Convs in 2 MB: one CLE chain of 30,000 layers',
    bytes: () => tinyConvChain(30_000, 1, false),
    stats: ['ok'],
  },
  {
    name: 'conv-relu-chain-18000.onnx',
    tests: '18,000 Conv→Relu pairs of two channels in 2 MB: 18,000 layers CLE rescales and re-biases',
    bytes: () => tinyConvChain(18_000, 2, true),
    stats: ['ok'],
  },
  {
    name: 'self-loop.onnx',
    tests: 'a Relu consuming its own output between two Convs',
    bytes: () =>
      modelBytes({
        input: [valueInfo('x')],
        output: [valueInfo('y')],
        initializer: [f32Tensor('w1', [2, 1, 1, 1], [1, 4]), f32Tensor('w2', [1, 2, 1, 1], [2, 0.5])],
        node: [
          node('Conv', ['x', 'w1'], ['h'], 'c1'),
          node('Relu', ['h2'], ['h2'], 'loop'),
          node('Conv', ['h2', 'w2'], ['y'], 'c2'),
        ],
      }),
    stats: ['ok'],
  },
  {
    name: 'cycle.onnx',
    tests: 'Conv -> Relu -> Conv whose output feeds the first Conv (a cycle)',
    bytes: () =>
      modelBytes({
        input: [valueInfo('x')],
        output: [valueInfo('y')],
        initializer: [f32Tensor('w1', [1, 1, 1, 1], [2]), f32Tensor('w2', [1, 1, 1, 1], [3])],
        node: [
          node('Conv', ['y', 'w1'], ['h'], 'c1'),
          node('Relu', ['h'], ['r'], 'relu'),
          node('Conv', ['r', 'w2'], ['y'], 'c2'),
        ],
      }),
    stats: ['ok'],
  },
  {
    name: 'duplicate-initializers.onnx',
    tests: 'two initializers named "w1" with different values (which one would CLE patch?)',
    bytes: () =>
      pairModel({
        extra: [
          f32Tensor(
            'w1',
            [4, 2, 1, 1],
            filled(8, (i) => -i),
          ),
        ],
      }),
    stats: ['BAD_GRAPH'],
    mentions: /w1/,
  },
  {
    name: 'node-missing-weight.onnx',
    tests: 'a Conv whose weight name is neither an initializer nor produced',
    bytes: () => oneNodeModel('Conv', 'conv', ['x', 'nowhere'], []),
    stats: ['ok'],
  },
  {
    name: 'if-nested-20.onnx',
    tests: 'If subgraphs nested 20 deep, a Conv at the bottom',
    bytes: () => nestedIfs(20),
    stats: ['ok'],
  },
  {
    name: 'if-nested-1000.onnx',
    tests:
      'If subgraphs nested 1,000 deep, beyond what onnxruntime reads: a typed error saying the depth, not a stack overflow',
    bytes: () => nestedIfs(1000),
    stats: ['BAD_GRAPH'],
    mentions: /dep|nest/i,
    browser: true,
  },
  {
    name: 'if-nested-3000.onnx',
    tests: 'If subgraphs nested 3,000 deep: the depth, never "corrupt" (NOT_ONNX)',
    bytes: () => nestedIfs(3000),
    stats: ['BAD_GRAPH'],
    mentions: /dep|nest/i,
  },
  {
    name: 'type-nested-100000.onnx',
    tests: 'a value_info type nested 100,000 deep (sequence of sequence …)',
    bytes: () => nestedTypes(100_000),
    stats: ['BAD_GRAPH'],
    mentions: /dep|nest/i,
  },
  {
    name: 'subgraph-model.onnx',
    tests: 'the If/Loop fixture, a valid control: weights in nested subgraphs',
    bytes: subgraphModel,
    stats: ['ok'],
  },
];

const attributes: CorpusEntry[] = [
  {
    name: 'group-0.onnx',
    tests: 'Conv group = 0',
    bytes: () => pairModel({ c1Attributes: [attr.int('group', 0)] }),
    stats: ['BAD_GRAPH'],
    mentions: /group/,
    browser: true,
  },
  {
    name: 'group-negative.onnx',
    tests: 'Conv group = -3',
    bytes: () => pairModel({ c1Attributes: [attr.int('group', -3)] }),
    stats: ['BAD_GRAPH'],
    mentions: /group/,
  },
  {
    name: 'group-2-28.onnx',
    tests: 'Conv group = 2^28 on a small weight (memory must not follow the claim)',
    bytes: () => pairModel({ c1Attributes: [attr.int('group', 2 ** 28)] }),
    stats: ['BAD_GRAPH'],
    mentions: /group/,
  },
  {
    name: 'group-2-31.onnx',
    tests: 'Conv group = 2^31',
    bytes: () => pairModel({ c1Attributes: [attr.int('group', 2 ** 31)] }),
    stats: ['BAD_GRAPH'],
    mentions: /group/,
  },
  {
    name: 'group-not-dividing.onnx',
    tests: 'Conv group = 3 with 4 output channels',
    bytes: () => pairModel({ c1Attributes: [attr.int('group', 3)] }),
    stats: ['BAD_GRAPH'],
    mentions: /group/,
  },
  {
    name: 'group-as-float.onnx',
    tests: 'Conv group given as a FLOAT attribute',
    bytes: () => pairModel({ c1Attributes: [attr.float('group', 2.5)] }),
    stats: ['BAD_GRAPH'],
  },
  {
    name: 'kernel-shape-rank.onnx',
    tests: 'kernel_shape [1, 1, 1] on a 2-D kernel',
    bytes: () => pairModel({ c1Attributes: [attr.ints('kernel_shape', [1, 1, 1])] }),
    stats: ['BAD_GRAPH'],
    mentions: /kernel_shape/,
  },
  {
    name: 'strides-zero.onnx',
    tests: 'Conv strides [0, 1]',
    bytes: () => pairModel({ c1Attributes: [attr.ints('strides', [0, 1])] }),
    stats: ['BAD_GRAPH'],
    mentions: /strides/,
  },
  {
    name: 'pads-negative.onnx',
    tests: 'Conv pads [-1, 0, 0, 0]',
    bytes: () => pairModel({ c1Attributes: [attr.ints('pads', [-1, 0, 0, 0])] }),
    stats: ['BAD_GRAPH'],
    mentions: /pads/,
  },
  {
    name: 'gemm-transb-2.onnx',
    tests: 'Gemm transB = 2',
    bytes: () =>
      oneNodeModel('Gemm', 'gemm', ['x', 'w'], [f32Tensor('w', [3, 2], [1, 2, 3, 4, 5, 6])], [attr.int('transB', 2)]),
    stats: ['BAD_GRAPH'],
    mentions: /transB/,
  },
  {
    name: 'gemm-transb-negative.onnx',
    tests: 'Gemm transB = -1',
    bytes: () =>
      oneNodeModel('Gemm', 'gemm', ['x', 'w'], [f32Tensor('w', [3, 2], [1, 2, 3, 4, 5, 6])], [attr.int('transB', -1)]),
    stats: ['BAD_GRAPH'],
    mentions: /transB/,
  },
  {
    name: 'lstm-hidden-size-mismatch.onnx',
    tests: 'an LSTM whose W dim 1 is not 4·hidden_size',
    bytes: () =>
      oneNodeModel(
        'LSTM',
        'lstm',
        ['x', 'W', 'R'],
        [
          f32Tensor(
            'W',
            [1, 12, 2],
            filled(24, (i) => i),
          ),
          f32Tensor(
            'R',
            [1, 12, 3],
            filled(36, (i) => -i),
          ),
        ],
        [attr.int('hidden_size', 4)],
      ),
    stats: ['BAD_GRAPH'],
  },
  {
    name: 'bn-fewer-channels.onnx',
    tests: 'a BatchNormalization with 3 parameters per tensor after a 4-channel Conv',
    bytes: () => pairModel({ bn: bn(3) }),
    stats: ['ok'],
  },
  {
    name: 'bn-more-channels.onnx',
    tests: 'a BatchNormalization with 9 parameters per tensor after a 4-channel Conv',
    bytes: () => pairModel({ bn: bn(9) }),
    stats: ['ok'],
  },
  {
    name: 'bn-variance-zero-eps-zero.onnx',
    tests: 'BatchNormalization variance 0 with epsilon 0 (sigma 0)',
    bytes: () => pairModel({ bn: bn(4, 0, 0) }),
    stats: ['ok'],
  },
  {
    name: 'bn-variance-negative.onnx',
    tests: 'BatchNormalization variance -1',
    bytes: () => pairModel({ bn: bn(4, -1) }),
    stats: ['ok'],
  },
  {
    name: 'bn-variance-zero.onnx',
    tests: 'BatchNormalization variance 0 with the default epsilon: valid, folds',
    bytes: () => pairModel({ bn: bn(4, 0) }),
    stats: ['ok'],
  },
  {
    name: 'bn-gamma-3e38.onnx',
    tests: 'BatchNormalization gamma 3e38 with variance 1e-6: the fold would overflow float32',
    bytes: () => pairModel({ bn: { ...bn(4, 1e-6), gamma: filled(4, () => 3e38) } }),
    stats: ['ok'],
  },
  {
    name: 'conv-bn-valid.onnx',
    tests: 'the Conv -> BatchNormalization fixture, a valid control',
    bytes: () => convBatchNormModel('none'),
    stats: ['ok'],
  },
];

const values: CorpusEntry[] = [
  {
    name: 'weights-nan.onnx',
    tests: 'NaN weights in a CLE pair',
    bytes: () => pairModel({ w1: filled(8, (i) => (i % 3 ? i : NaN)) }),
    stats: ['ok'],
  },
  {
    name: 'weights-inf.onnx',
    tests: '+Inf and -Inf weights in a CLE pair',
    bytes: () => pairModel({ w1: filled(8, (i) => (i === 1 ? Infinity : i === 6 ? -Infinity : i)) }),
    stats: ['ok'],
  },
  {
    name: 'weights-denormal.onnx',
    tests: 'denormal weights (1e-40 … 1e-45) in a CLE pair',
    bytes: () => pairModel({ w1: filled(8, (i) => 1e-40 / (i + 1)), w2: filled(8, (i) => (i % 2 ? 1e-45 : 2e-39)) }),
    stats: ['ok'],
  },
  {
    name: 'weights-zero.onnx',
    tests: 'all-zero weights in a CLE pair (zero ranges: scale 1)',
    bytes: () => pairModel({ w1: new Array<number>(8).fill(0), w2: new Array<number>(8).fill(0) }),
    stats: ['ok'],
  },
  {
    name: 'weights-near-max.onnx',
    tests: 'weights near ±3.4e38 with a large bias: CLE scales must not overflow float32',
    bytes: () =>
      pairModel({
        w1: filled(8, (i) => (i % 2 ? 1e-3 : 1)),
        b1: [F32_MAX, -F32_MAX, 3e38, 1],
        w2: filled(8, (i) => (i % 3 ? F32_MAX : -3e38)),
      }),
    stats: ['ok'],
  },
  {
    name: 'weights-max-vs-tiny.onnx',
    tests: 'one channel near 3.4e38 against one near 1e-38: the scale spans 76 decades',
    bytes: () => pairModel({ cout: 2, cin: 1, w1: [F32_MAX, 1e-38], w2: [1e-38, F32_MAX, F32_MAX, 1e-38], cin2: 2 }),
    stats: ['ok'],
  },
  {
    name: 'conv-relu-conv-valid.onnx',
    tests: 'a plain Conv -> Relu -> Conv pair, a valid control',
    bytes: () => pairModel(),
    stats: ['ok'],
    browser: true,
  },
  { name: 'conv-valid.onnx', tests: 'the one-Conv fixture, a valid control', bytes: convModel, stats: ['ok'] },
];

const DATA = f32Bytes([1, 2, 3, 4]);
const external = (
  location: string,
  beside: Record<string, Beside>,
  stats: Outcome[],
  tests: string,
  name: string,
  mentions?: RegExp,
): CorpusEntry => ({
  name,
  tests,
  beside,
  stats,
  ...(mentions ? { mentions } : {}),
  bytes: () => convWith(externalTensor('w', [2, 1, 1, 2], location, 0, 16)),
});

const externalData: CorpusEntry[] = [
  external('/etc/passwd', {}, ['UNSAFE_PATH'], 'an absolute external-data location', 'ext-absolute.onnx', /absolute/),
  external(
    '../outside.bin',
    { '../outside.bin': DATA },
    ['UNSAFE_PATH'],
    'a location leaving the folder with ..',
    'ext-dotdot.onnx',
    /\.\./,
  ),
  external(
    'sub/../../outside.bin',
    { 'sub/x': DATA, '../outside.bin': DATA },
    ['UNSAFE_PATH'],
    '.. after a real folder',
    'ext-dotdot-inner.onnx',
  ),
  external(
    'escape/secret.bin',
    { escape: { symlinkTo: '../elsewhere' }, '../elsewhere/secret.bin': DATA },
    ['UNSAFE_PATH'],
    'a symlinked folder leading outside the model folder',
    'ext-symlink-escape.onnx',
    /outside/,
  ),
  external(
    'link.bin',
    { 'link.bin': { symlinkTo: '/etc/hostname' } },
    ['UNSAFE_PATH'],
    'a symlinked file leading to /etc',
    'ext-symlink-file.onnx',
  ),
  external('C:\\Windows\\win.ini', {}, ['UNSAFE_PATH'], 'a Windows absolute location', 'ext-windows.onnx'),
  external('\\\\host\\share\\w.bin', {}, ['UNSAFE_PATH'], 'a UNC location', 'ext-unc.onnx'),
  external('http://example.com/w.bin', {}, ['UNSAFE_PATH'], 'a URL location', 'ext-url.onnx'),
  external('w\0.bin', {}, ['UNSAFE_PATH'], 'a location with a NUL character', 'ext-nul.onnx'),
  external('', {}, ['UNSAFE_PATH'], 'an empty location', 'ext-empty.onnx'),
  external('missing.bin', {}, ['EXTERNAL_DATA'], 'a location naming no file', 'ext-missing.onnx'),
  external('folder', { 'folder/x': DATA }, ['EXTERNAL_DATA'], 'a location naming a folder', 'ext-folder.onnx'),
  external(
    'short.bin',
    { 'short.bin': DATA.subarray(0, 8) },
    ['EXTERNAL_DATA'],
    'a data file shorter than offset + length',
    'ext-short.onnx',
  ),
  {
    name: 'ext-offset-huge.onnx',
    tests: 'an external offset of 2^60',
    beside: { 'w.bin': DATA },
    stats: ['BAD_TENSOR'],
    bytes: () =>
      convWith({
        ...externalTensor('w', [2, 1, 1, 2], 'w.bin', 0, 16),
        externalData: [
          { key: 'location', value: 'w.bin' },
          { key: 'offset', value: String(2n ** 60n) },
          { key: 'length', value: '16' },
        ],
      }),
  },
  {
    name: 'ext-offset-negative.onnx',
    tests: 'an external offset of -16',
    beside: { 'w.bin': DATA },
    stats: ['BAD_TENSOR'],
    bytes: () =>
      convWith({
        ...externalTensor('w', [2, 1, 1, 2], 'w.bin', 0, 16),
        externalData: [
          { key: 'location', value: 'w.bin' },
          { key: 'offset', value: '-16' },
        ],
      }),
  },
  {
    name: 'ext-length-mismatch.onnx',
    tests: 'an external length that does not match the shape',
    beside: { 'w.bin': DATA },
    stats: ['BAD_TENSOR'],
    bytes: () => convWith(externalTensor('w', [2, 1, 1, 2], 'w.bin', 0, 12)),
  },
  {
    name: 'ext-valid.onnx',
    tests: 'external data beside the model, a valid control',
    beside: { 'w.bin': DATA },
    stats: ['ok'],
    bytes: () => convWith(externalTensor('w', [2, 1, 1, 2], 'w.bin', 0, 16)),
  },
  {
    name: 'ext-unused-escape.onnx',
    tests: 'an unused initializer at ../outside.bin: never read, and cle must not copy it',
    beside: { '../outside.bin': DATA },
    stats: ['ok'],
    cle: ['UNSAFE_PATH'],
    report: ['ok'],
    bytes: () => pairModel({ extra: [externalTensor('spare', [4], '../outside.bin', 0, 16)] }),
  },
];

// onnxruntime's 4-bit formats (com.microsoft MatMulNBits, GatherBlockQuantized), one thing broken each.
const B_3x3x8 = rawTensor('B', [3, 3, 8], DataType.UINT8, new Uint8Array(72));
const blockQuantized: CorpusEntry[] = [
  {
    name: 'matmulnbits.onnx',
    tests: 'a valid MatMulNBits (4-bit B [3, 3, 8], K = 40 with 8 values of padding): read; CLE refuses it',
    bytes: () => matMulNBitsModel(),
    stats: ['ok'],
    cle: ['USAGE'],
    browser: true,
  },
  {
    name: 'matmulnbits-block-size-24.onnx',
    tests: 'MatMulNBits block_size 24, not a power of 2',
    bytes: () => matMulNBitsModel({ blockSize: 24, b: rawTensor('B', [3, 2, 12], DataType.UINT8, new Uint8Array(72)) }),
    stats: ['BAD_GRAPH'],
    mentions: /MatMulNBits "mm" attribute block_size=24/,
  },
  {
    name: 'matmulnbits-k-beyond-b.onnx',
    tests: 'MatMulNBits K = 4096 over a B packed for K = 40 (a lying attribute must not size a read)',
    bytes: () => matMulNBitsModel({ K: 4096, b: B_3x3x8 }),
    stats: ['BAD_TENSOR'],
    mentions: /input B "B" \[3,3,8\]/,
  },
  {
    name: 'matmulnbits-n-huge.onnx',
    tests: 'MatMulNBits N = 2^40 over a B of 3 columns',
    bytes: () =>
      matMulNBitsModel({
        N: 2 ** 40,
        b: B_3x3x8,
        scales: f32Tensor(
          'scales',
          [3, 3],
          filled(9, () => 1),
        ),
      }),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'matmulnbits-blob-short.onnx',
    tests: 'MatMulNBits B blobs one byte short of block_size·bits/8',
    bytes: () => matMulNBitsModel({ b: rawTensor('B', [3, 3, 7], DataType.UINT8, new Uint8Array(63)) }),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'matmulnbits-scales-short.onnx',
    tests: 'MatMulNBits with one scale too few',
    bytes: () =>
      matMulNBitsModel({
        scales: f32Tensor(
          'scales',
          [8],
          filled(8, () => 1),
        ),
      }),
    stats: ['BAD_TENSOR'],
    mentions: /input scales/,
  },
  {
    name: 'matmulnbits-scale-nan.onnx',
    tests: 'MatMulNBits with NaN and zero scales (weights read as NaN and 0, counted, as for DequantizeLinear)',
    bytes: () => matMulNBitsModel({ scales: f32Tensor('scales', [3, 3], [NaN, 0, Infinity, 1, 1, 1, 1, 1, 1]) }),
    stats: ['ok'],
    cle: ['USAGE'],
  },
  {
    name: 'matmulnbits-zero-points-short.onnx',
    tests: 'MatMulNBits packed zero points one byte per column short',
    bytes: () => matMulNBitsModel({ zeroPoints: rawTensor('zp', [3, 1], DataType.UINT8, new Uint8Array(3)) }),
    stats: ['BAD_TENSOR'],
  },
  {
    name: 'matmulnbits-2-bit.onnx',
    tests: 'MatMulNBits bits=2 (valid, not read by weightlens)',
    bytes: () => matMulNBitsModel({ bits: 2 }),
    stats: ['UNSUPPORTED'],
  },
  {
    name: 'gatherblockquantized-scales-shape.onnx',
    tests: 'GatherBlockQuantized int4 table [4, 32] in blocks of 16 with scales [4, 3]',
    bytes: () =>
      gatherBlockQuantizedModel({
        scales: f32Tensor(
          'scales',
          [4, 3],
          filled(12, () => 1),
        ),
      }),
    stats: ['BAD_TENSOR'],
  },
];

export const CORPUS: readonly CorpusEntry[] = [
  ...notOnnx,
  ...truncations,
  ...wire,
  ...dims,
  ...payloads,
  ...dtypes,
  ...graphs,
  ...attributes,
  ...values,
  ...externalData,
  ...blockQuantized,
];
