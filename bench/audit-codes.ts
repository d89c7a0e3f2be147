// Throughput of the audit's code counting and float comparison (src/quant/audit-codes.ts) on 16M codes, in
// Node, on the three layouts that matter: channels on axis 0 (Conv), channels along the last axis (MatMul
// [K, N]) and MatMulNBits-like 4-bit blocks of 32 along K. Not part of `npm run bench`; run it with
//   npx esbuild bench/audit-codes.ts --bundle --platform=node --format=esm --outfile=build/bench/audit-codes.mjs
//   node build/bench/audit-codes.mjs
// GB/s are of codes as the audit holds them (decoded to float32, 4 bytes each).
import { DT } from '../src/onnx/dtypes.js';
import { auditCodes, codeType, compareWithFloat, unitLayout } from '../src/quant/audit-codes.js';

const K = 4096;
const N = 4096;
const time = (label: string, codes: number, run: () => void) => {
  run();
  const t0 = performance.now();
  const reps = 3;
  for (let r = 0; r < reps; r++) run();
  const seconds = (performance.now() - t0) / 1000 / reps;
  const gbs = (codes * 4) / seconds / 1e9;
  console.log(
    `${label}: ${(seconds * 1000).toFixed(1)} ms, ${gbs.toFixed(2)} GB/s, ${(codes / seconds / 1e6).toFixed(0)} M codes/s`,
  );
};

const int8 = new Float32Array(K * N);
for (let i = 0; i < int8.length; i++) int8[i] = ((i * 2654435761) >>> 24) - 128;
const uint4 = int8.map((v) => (v + 128) & 15);
const rows = { groups: 1, outer: 1, cg: N, inner: K };
const columns = { groups: 1, outer: K, cg: N, inner: 1 };

time('int8, channels on axis 0 [4096, 4096]', int8.length, () =>
  auditCodes(int8, codeType(DT.INT8)!, rows, unitLayout([N, K], { mode: 'axis', axis: 0, blockSize: 0 }), true),
);
time('int8, channels on the last axis [4096, 4096]', int8.length, () =>
  auditCodes(int8, codeType(DT.INT8)!, columns, unitLayout([K, N], { mode: 'axis', axis: 1, blockSize: 0 }), true),
);
time('uint4, blocks of 32 along K [4096, 4096]', uint4.length, () =>
  auditCodes(
    uint4,
    codeType(DT.UINT4)!,
    columns,
    unitLayout([K, N], { mode: 'blocked', axis: 0, blockSize: 32 }),
    false,
  ),
);
const float = int8.map((v) => v * 0.01);
time('float comparison, channels on axis 0', int8.length, () =>
  compareWithFloat(
    float,
    float,
    new Float32Array(N).fill(0.01),
    new Float64Array(N),
    -127,
    127,
    rows,
    unitLayout([N, K], { mode: 'axis', axis: 0, blockSize: 0 }),
  ),
);
const float4 = uint4.map((v) => (v - 8) * 0.01);
const blocks = (K / 32) * N;
time('float comparison, blocks of 32 along K', uint4.length, () =>
  compareWithFloat(
    float4,
    float4,
    new Float32Array(blocks).fill(0.01),
    new Float64Array(blocks).fill(8),
    0,
    15,
    columns,
    unitLayout([K, N], { mode: 'blocked', axis: 0, blockSize: 32 }),
  ),
);
