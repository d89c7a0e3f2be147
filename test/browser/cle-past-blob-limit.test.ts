// CLE on the page of a model that rewrites 640 MB, more than headless Chromium's blob storage holds
// (~480 MB): the input's data file is itself on disk (OPFS), the rewritten weights are spilled to OPFS, and
// every one of them reads back, with each channel's rescaling cancelling between the pair.
import { describe, it, after } from 'node:test';
import { expect } from 'chai';
import { mlpModel } from '../fixtures/external-mlp.js';
import { constant } from '../support/tensors.js';
import { runCle } from '../../src/pipeline/analyze.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { releaseSpillFolder } from '../../src/pipeline/spill-folders.js';
import { equalizedFiles } from '../../src/components/cle-compare/cle-download.js';

// fc1 [A, B] -> Relu -> fc2 [B, A] -> Sigmoid -> fc3 [A, 2]: fc1 and fc2 (320 MB each) are equalized.
const A = 20480;
const B = 4096;
const fc1 = (i: number, j: number) => ((((i * 7 + j) % 5) - 2 + 0.5) * ((j % 6) + 1) ** 2) / 8;
const fc2 = (j: number, k: number) => ((j * 3 + k) % 7) - 3 + 0.25;
const FC3 = A * 2 * 4;

/** The weights as one data file in OPFS, written in row blocks: never whole in memory, nor a Blob. */
async function writeData(dir: FileSystemDirectoryHandle): Promise<File> {
  const out = await (await dir.getFileHandle('big.data', { create: true })).createWritable();
  const rows = 512;
  for (const [n, m, f] of [
    [A, B, fc1],
    [B, A, fc2],
  ] as const) {
    for (let r0 = 0; r0 < n; r0 += rows) {
      const block = new Float32Array(rows * m);
      for (let r = 0; r < rows; r++) for (let c = 0; c < m; c++) block[r * m + c] = f(r0 + r, c);
      await out.write(block);
    }
  }
  await out.write(new Float32Array(A * 2).fill(0.5));
  await out.close();
  return (await dir.getFileHandle('big.data')).getFile();
}

const modelOf = () =>
  mlpModel(
    'big.data',
    { fc1: [A, B], fc2: [B, A], fc3: [A, 2] },
    {
      fc1: { offset: 0, length: A * B * 4 },
      fc2: { offset: A * B * 4, length: A * B * 4 },
      fc3: { offset: 2 * A * B * 4, length: FC3 },
    },
  );

describe('CLE on the page past the blob storage limit', () => {
  let dir: FileSystemDirectoryHandle;
  after(async () => {
    await (await navigator.storage.getDirectory()).removeEntry('big-cle-test', { recursive: true }).catch(() => {});
  });

  it('rewrites 640 MB of weights into OPFS files that all read back, each channel scaled by reciprocals', async () => {
    dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('big-cle-test', { create: true });
    const data = await writeData(dir);
    const files = [new File([modelOf()], 'big.onnx'), data];
    const outcome = await runCle({ kind: 'files', files }, {});
    try {
      expect(outcome.report.sets.flatMap((s) => s.layers)).to.include.members(['fc1', 'fc2']);
      const [, saved] = equalizedFiles(outcome);
      expect(saved!.blob.size).to.equal(data.size);
      const model = decodeModel(outcome.bytes, { fileName: 'big.cle.onnx' });
      const at = (name: string) => constant(model, name).external!.offset;
      const value = async (name: string, index: number) => {
        const start = at(name) + index * 4;
        return new Float32Array(await saved!.blob.slice(start, start + 4).arrayBuffer())[0]!;
      };
      // fc1[i, j] · fc2[j, k] is what CLE keeps: channel j of fc1 divided by s_j, row j of fc2 times s_j.
      let rescaled = 0;
      for (const [i, j, k] of [
        [0, 0, 0],
        [A - 1, B - 1, A - 1], // the last bytes of both spilled weights
        [1234, 2049, 777],
        [20000, 5, 19999],
      ] as const) {
        const [w1, w2] = [await value('fc1.weight', i * B + j), await value('fc2.weight', j * A + k)];
        expect(w1 * w2).to.be.closeTo(fc1(i, j) * fc2(j, k), 1e-5 * Math.abs(fc1(i, j) * fc2(j, k)));
        if (Math.abs(w1 - fc1(i, j)) > 1e-6 * Math.abs(fc1(i, j))) rescaled++;
      }
      expect(rescaled).to.be.greaterThan(0);
    } finally {
      if (outcome.spillFolder) await releaseSpillFolder(outcome.spillFolder);
    }
  });
});
