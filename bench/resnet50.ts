// A ResNet-50-shaped ONNX model (25.6 M float32 weights, ~100 MB) built in memory for benchmarks:
// the real topology (Conv -> BatchNormalization -> Relu, bottlenecks with residual Add, Gemm head),
// seeded random weights in raw_data.
import pkg from 'onnx-proto';

const { onnx } = pkg;
const FLOAT = 1;

function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) - 0.5;
  };
}

class GraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private next = 0;
  private readonly rand = seeded(50);
  weightCount = 0;

  tensor(name: string, dims: number[], scale: number, offset = 0): string {
    const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = offset + scale * this.rand();
    this.weightCount += values.length;
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: new Uint8Array(values.buffer) }));
    return name;
  }

  node(opType: string, inputs: string[], attributes: Record<string, number | number[]> = {}): string {
    const name = `${opType.toLowerCase()}_${this.next++}`;
    const attribute = Object.entries(attributes).map(([key, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({ name: key, ints: v, type: onnx.AttributeProto.AttributeType.INTS })
        : onnx.AttributeProto.create({ name: key, i: v, type: onnx.AttributeProto.AttributeType.INT }),
    );
    this.nodes.push(onnx.NodeProto.create({ name, opType, input: inputs, output: [name], attribute }));
    return name;
  }

  convBn(x: string, cin: number, cout: number, k: number, stride: number, relu: boolean): string {
    const id = this.next;
    const w = this.tensor(`conv${id}.weight`, [cout, cin, k, k], 2 / Math.sqrt(cin * k * k));
    const conv = this.node('Conv', [x, w], { kernel_shape: [k, k], strides: [stride, stride], pads: Array(4).fill(k >> 1) });
    const bn = this.node('BatchNormalization', [
      conv,
      this.tensor(`bn${id}.scale`, [cout], 0.2, 1),
      this.tensor(`bn${id}.bias`, [cout], 0.2),
      this.tensor(`bn${id}.mean`, [cout], 0.2),
      this.tensor(`bn${id}.var`, [cout], 0.2, 1),
    ]);
    return relu ? this.node('Relu', [bn]) : bn;
  }
}

export function resnet50Bytes(): { bytes: Uint8Array; weightCount: number } {
  const b = new GraphBuilder();
  let x = b.convBn('input', 3, 64, 7, 2, true);
  x = b.node('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  let cin = 64;
  for (const [blocks, mid, stride] of [[3, 64, 1], [4, 128, 2], [6, 256, 2], [3, 512, 2]] as const) {
    for (let i = 0; i < blocks; i++) {
      const s = i === 0 ? stride : 1;
      let y = b.convBn(x, cin, mid, 1, 1, true);
      y = b.convBn(y, mid, mid, 3, s, true);
      y = b.convBn(y, mid, mid * 4, 1, 1, false);
      const shortcut = i === 0 ? b.convBn(x, cin, mid * 4, 1, s, false) : x;
      x = b.node('Relu', [b.node('Add', [y, shortcut])]);
      cin = mid * 4;
    }
  }
  x = b.node('Flatten', [b.node('GlobalAveragePool', [x])]);
  const logits = b.node('Gemm', [x, b.tensor('fc.weight', [1000, 2048], 0.05), b.tensor('fc.bias', [1000], 0.05)], { transB: 1 });
  const valueInfo = (name: string, dims: number[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'weightlens bench',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'resnet50',
      node: b.nodes,
      initializer: b.initializers,
      input: [valueInfo('input', [1, 3, 224, 224])],
      output: [valueInfo(logits, [1, 1000])],
    },
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), weightCount: b.weightCount };
}
