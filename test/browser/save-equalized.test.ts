// Saving an equalized model from the page: CLE of a model opened from the user's Files is relocated (one
// model and one data file, the unchanged tensors as slices of the user's File), the composed files re-open
// in the kit with the same weights, and saveToFolder writes them into a folder (OPFS here, as
// showDirectoryPicker would give), refusing a name already there and leaving nothing behind when cancelled.
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { externalMlp, type ExternalMlp } from '../fixtures/external-mlp.js';
import { constant, tensorValues } from '../support/tensors.js';
import { WeightlensError } from '../../src/errors.js';
import { runCle } from '../../src/pipeline/analyze.js';
import { equalizeModel } from '../../src/pipeline/equalize-model.js';
import { SPILL_MIN_BYTES } from '../../src/cle/plan-cle.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { filesSource } from '../../src/onnx/external-data.js';
import { openModel } from '../../src/onnx/open.js';
import { isCopiedRange } from '../../src/onnx/export/data-file.js';
import { inMemoryDataFile } from '../support/data-parts.js';
import { equalizeInWorker } from '../../src/worker/client.js';
import { equalizedFiles, type EqualizedFile } from '../../src/components/cle-compare/cle-download.js';
import { saveToFolder } from '../../src/components/shared/save-to-folder.js';
import type { CleOutcome } from '../../src/report/cle-report.js';

const WEIGHTS = ['fc1.weight', 'fc2.weight', 'fc3.weight'];
const bytesOf = async (blob: Blob) => new Uint8Array(await blob.arrayBuffer());

/** Every weight of the model saved as `files` (model first), re-opened from them as a user would. */
async function savedWeights(files: readonly { name: string; blob: Blob }[]): Promise<number[][]> {
  const [model, ...data] = files.map((f) => new File([f.blob], f.name));
  const reopened = await openModel(model!, { externalData: data });
  return Promise.all(WEIGHTS.map(async (w) => tensorValues(constant(reopened, w))));
}

/** The weights of the same CLE without relocation or spill: new bytes in memory, fc3 still in mlp.data. */
async function unrelocatedWeights(mlp: ExternalMlp): Promise<number[][]> {
  const dataFile = new File([mlp.data], 'mlp.data');
  const model = decodeModel(mlp.model, { fileName: 'mlp.onnx', externalData: filesSource([dataFile]) });
  const reference = await equalizeModel(model, { externalData: filesSource([dataFile]) });
  const newData = [...reference.dataFiles].map(
    ([name, parts]) => new File([inMemoryDataFile(parts) as Uint8Array<ArrayBuffer>], name),
  );
  return savedWeights([
    { name: 'mlp.cle.onnx', blob: new Blob([reference.bytes as Uint8Array<ArrayBuffer>]) },
    ...[dataFile, ...newData].map((f) => ({ name: f.name, blob: f })),
  ]);
}

describe('saving an equalized model from the page', () => {
  let mlp: ExternalMlp;
  let files: File[];
  let outcome: CleOutcome;

  before(async () => {
    mlp = externalMlp();
    files = [new File([mlp.model], 'mlp.onnx'), new File([mlp.data], 'mlp.data')];
    outcome = await runCle({ kind: 'files', files }, {});
  });

  it("relocates CLE from Files: one data file, unchanged tensors as slices of the user's File", async () => {
    expect([...outcome.dataFiles.keys()]).to.deep.equal(['mlp.weightlens.data']);
    expect(outcome.dataLocations).to.deep.equal(['mlp.weightlens.data']); // needs none of the input's files
    const parts = outcome.dataFiles.get('mlp.weightlens.data')!;
    expect(parts.filter(isCopiedRange)).to.deep.equal([]);
    // fc3 is the one tensor copied through: its part is a Blob holding exactly its bytes of mlp.data.
    const slices = parts.filter((p): p is Blob => p instanceof Blob);
    expect(slices).to.have.length(1);
    const { offset, length } = mlp.at.fc3;
    expect([...(await bytesOf(slices[0]!))]).to.deep.equal([...mlp.data.subarray(offset, offset + length)]);
  });

  it('the composed download re-opens in the kit with the weights CLE computed', async () => {
    const saved = equalizedFiles(outcome);
    expect(saved.map((f) => f.name)).to.deep.equal(['mlp.cle.onnx', 'mlp.weightlens.data']);
    const weights = await savedWeights(saved);
    expect(weights).to.deep.equal(await unrelocatedWeights(mlp));
    const input = [...new Float32Array(mlp.data.buffer, mlp.at.fc1.offset, mlp.at.fc1.length / 4)];
    expect(weights[0]).to.not.deep.equal(input); // CLE did rescale fc1
  });

  it('spills the large rewritten weights into Blobs instead of holding their bytes, and saves them as computed', async () => {
    const big = externalMlp(2 ** 17); // fc1 2 MB, fc2 1.5 MB
    const bigFiles = [new File([big.model], 'mlp.onnx'), new File([big.data], 'mlp.data')];
    const relocated = await runCle({ kind: 'files', files: bigFiles }, {});
    const parts = relocated.dataFiles.get('mlp.weightlens.data')!;
    const bytesParts = parts.filter((p) => p instanceof Uint8Array);
    expect(bytesParts.every((p) => p.byteLength < SPILL_MIN_BYTES)).to.equal(true);
    expect(parts.filter((p) => p instanceof Blob)).to.have.length(3); // fc1 and fc2 spilled, fc3 a slice
    expect(await savedWeights(equalizedFiles(relocated))).to.deep.equal(await unrelocatedWeights(big));
  });

  it("from the Worker too: the File slices it returns read the user's bytes", async () => {
    const fromWorker = await equalizeInWorker(
      { kind: 'files', files },
      { signal: new AbortController().signal, onProgress: () => {}, cle: {} },
    );
    const [here, there] = [outcome, fromWorker].map((o) => equalizedFiles(o)[1]!.blob);
    expect([...(await bytesOf(there!))]).to.deep.equal([...(await bytesOf(here!))]);
  });

  describe('saveToFolder (File System Access, on OPFS handles)', () => {
    let root: FileSystemDirectoryHandle;
    let n = 0;
    const folder = async () => root.getDirectoryHandle(`save-test-${n++}`, { create: true });
    const names = async (dir: FileSystemDirectoryHandle) => {
      const out: string[] = [];
      for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) out.push(key);
      return out.sort();
    };
    const read = async (dir: FileSystemDirectoryHandle, name: string) => [
      ...(await bytesOf(await (await dir.getFileHandle(name)).getFile())),
    ];

    before(async () => {
      root = await navigator.storage.getDirectory();
    });
    after(async () => {
      for (let i = 0; i < n; i++) await root.removeEntry(`save-test-${i}`, { recursive: true }).catch(() => {});
    });

    it('writes every file, reporting progress up to the total', async () => {
      const dir = await folder();
      const saved = equalizedFiles(outcome);
      const progress: [number, number][] = [];
      await saveToFolder(dir, saved, {
        signal: new AbortController().signal,
        onProgress: (w, t) => progress.push([w, t]),
      });
      expect(await names(dir)).to.deep.equal(['mlp.cle.onnx', 'mlp.weightlens.data']);
      for (const f of saved) expect(await read(dir, f.name)).to.deep.equal([...(await bytesOf(f.blob))]);
      const total = saved.reduce((s, f) => s + f.blob.size, 0);
      expect(progress.at(-1)).to.deep.equal([total, total]);
    });

    it('refuses a folder where a name is taken, writing nothing and keeping that file', async () => {
      const dir = await folder();
      const taken = await (await dir.getFileHandle('mlp.weightlens.data', { create: true })).createWritable();
      await taken.write(new Uint8Array([9, 9, 9]));
      await taken.close();
      const error = await saveToFolder(dir, equalizedFiles(outcome), {
        signal: new AbortController().signal,
        onProgress: () => {},
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(WeightlensError);
      expect((error as WeightlensError).code).to.equal('IO');
      expect((error as Error).message).to.contain('"mlp.weightlens.data" already exists');
      expect(await names(dir)).to.deep.equal(['mlp.weightlens.data']);
      expect(await read(dir, 'mlp.weightlens.data')).to.deep.equal([9, 9, 9]);
    });

    it('cancelled after the first file, removes what it wrote', async () => {
      const dir = await folder();
      const cancel = new AbortController();
      const saved: EqualizedFile[] = equalizedFiles(outcome);
      const error = await saveToFolder(dir, saved, { signal: cancel.signal, onProgress: () => cancel.abort() }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as WeightlensError).code).to.equal('ABORTED');
      expect(await names(dir)).to.deep.equal([]);
    });
  });
});
