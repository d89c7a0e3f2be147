// CLE's spill into the origin private file system: a spilled weight comes back as a File on disk with
// exactly its bytes, CLE from Files (on the page and in the Worker) saves the same weights through it, and
// the spill folders go away: released with their outcome, swept once their lock is free, kept while held.
import { describe, it, before } from 'node:test';
import { expect } from 'chai';
import { externalMlp } from '../fixtures/external-mlp.js';
import { constant, tensorValues } from '../support/tensors.js';
import { rejects } from '../support/rejects.js';
import { runCle } from '../../src/pipeline/analyze.js';
import { browserSpill } from '../../src/pipeline/opfs-spill.js';
import { holdSpillFolder, releaseSpillFolder, sweepSpillFolders } from '../../src/pipeline/spill-folders.js';
import { equalizeModel } from '../../src/pipeline/equalize-model.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { filesSource } from '../../src/onnx/external-data.js';
import { openModel } from '../../src/onnx/open.js';
import { inMemoryDataFile } from '../support/data-parts.js';
import { equalizeInWorker, setWorkerFactory } from '../../src/worker/client.js';
import { equalizedFiles } from '../../src/components/cle-compare/cle-download.js';

const WEIGHTS = ['fc1.weight', 'fc2.weight', 'fc3.weight'];
const bytesOf = async (blob: Blob) => new Uint8Array(await blob.arrayBuffer());

let spillRoot: FileSystemDirectoryHandle;
const folders = async () => {
  const out: string[] = [];
  for await (const key of (spillRoot as unknown as { keys(): AsyncIterable<string> }).keys()) out.push(key);
  return out;
};
const heldLocks = async () => ((await navigator.locks.query()).held ?? []).map((l) => l.name);
/** Polls until `check` holds: releases run in the background. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never: ${what}`);
}

/** Every weight of the model saved as `files` (model first), re-opened from them as a user would. */
async function savedWeights(files: readonly { name: string; blob: Blob }[]): Promise<number[][]> {
  const [model, ...data] = files.map((f) => new File([f.blob], f.name));
  const reopened = await openModel(model!, { externalData: data });
  return Promise.all(WEIGHTS.map(async (w) => tensorValues(constant(reopened, w))));
}

async function* piecesOf(...pieces: Uint8Array[]) {
  for (const p of pieces) yield p;
}

describe('spilling equalized weights into the origin private file system', () => {
  before(async () => {
    spillRoot = await (await navigator.storage.getDirectory()).getDirectoryHandle('weightlens-spill', { create: true });
  });

  it('returns a File on disk with exactly the bytes of the pieces, in a locked folder that release deletes', async () => {
    const run = browserSpill();
    expect(run.folder).to.equal(undefined); // nothing spilled, no folder
    const backing = new Uint8Array(300).map((_, i) => i % 251);
    const pieces = [backing.subarray(10, 110), new Uint8Array(0), backing.subarray(150, 300)];
    const file = await run.spill(piecesOf(...pieces));
    expect(file).to.be.instanceOf(File);
    expect([...(await bytesOf(file))]).to.deep.equal([...backing.subarray(10, 110), ...backing.subarray(150, 300)]);
    const second = await run.spill(piecesOf(new Uint8Array([7, 8, 9])));
    expect([...(await bytesOf(second))]).to.deep.equal([7, 8, 9]);
    const folder = run.folder!;
    expect(await folders()).to.include(folder);
    expect(await heldLocks()).to.include(`weightlens-spill:${folder}`);
    await run.release();
    expect(await folders()).to.not.include(folder);
    expect(await heldLocks()).to.not.include(`weightlens-spill:${folder}`);
  });

  it('a full quota is OUT_OF_MEMORY, saying how many MB did not fit after how many', async () => {
    const run = browserSpill();
    await run.spill(piecesOf(new Uint8Array(3_000_000))); // 3.0 MB stored
    // The browser's answer once the site's storage is full, on the second piece of the next weight.
    const proto = FileSystemWritableFileStream.prototype;
    const write = proto.write;
    let calls = 0;
    proto.write = function (this: FileSystemWritableFileStream, ...args: Parameters<typeof write>) {
      if (++calls === 2) return Promise.reject(new DOMException('quota exceeded', 'QuotaExceededError'));
      return write.apply(this, args);
    };
    try {
      const error = await rejects(
        run.spill(piecesOf(new Uint8Array(1_000_000), new Uint8Array(2_500_000))),
        'OUT_OF_MEMORY',
      );
      expect(error.message).to.contain('could not store 2.5 MB more of equalized weights on disk, after 4.0 MB');
      expect(error.message).to.contain('quota exceeded');
    } finally {
      proto.write = write;
      await run.release();
    }
  });

  it('sweeps folders whose lock nobody holds at the first spill of a run, and keeps those whose lock is held', async () => {
    const stale = 'stale-folder';
    const live = 'live-folder';
    for (const name of [stale, live]) await spillRoot.getDirectoryHandle(name, { create: true });
    await holdSpillFolder(live);
    const run = browserSpill();
    await run.spill(piecesOf(new Uint8Array([1])));
    const after = await folders();
    expect(after).to.not.include(stale);
    expect(after).to.include(live);
    expect(after).to.include(run.folder);
    await run.release();
    await releaseSpillFolder(live);
    expect(await folders()).to.not.include(live);
    await sweepSpillFolders(); // nothing left to sweep, nothing held: no error
  });

  it('CLE from Files spills its large weights there and saves the weights CLE computes without a spill', async () => {
    const big = externalMlp(2 ** 17); // fc1 2 MB, fc2 1.5 MB
    const files = [new File([big.model], 'mlp.onnx'), new File([big.data], 'mlp.data')];
    const outcome = await runCle({ kind: 'files', files }, {});
    const folder = outcome.spillFolder!;
    expect(await folders()).to.include(folder);
    const dir = await spillRoot.getDirectoryHandle(folder);
    expect((await (await dir.getFileHandle('0.bin')).getFile()).size).to.equal(big.at.fc1.length);
    // The same CLE with every new byte in memory, fc3 still in mlp.data.
    const dataFile = new File([big.data], 'mlp.data');
    const model = decodeModel(big.model, { fileName: 'mlp.onnx', externalData: filesSource([dataFile]) });
    const reference = await equalizeModel(model, { externalData: filesSource([dataFile]) });
    const expected = await savedWeights([
      { name: 'mlp.cle.onnx', blob: new Blob([reference.bytes as Uint8Array<ArrayBuffer>]) },
      { name: 'mlp.data', blob: dataFile },
      ...[...reference.dataFiles].map(([name, parts]) => ({
        name,
        blob: new Blob([inMemoryDataFile(parts) as Uint8Array<ArrayBuffer>]),
      })),
    ]);
    expect(await savedWeights(equalizedFiles(outcome))).to.deep.equal(expected);
    await releaseSpillFolder(folder);
    expect(await folders()).to.not.include(folder);
  });

  it("keeps a Worker's spilled weights readable after that Worker is gone: the page holds their lock", async () => {
    const big = externalMlp(2 ** 17);
    const files = [new File([big.model], 'mlp.onnx'), new File([big.data], 'mlp.data')];
    const outcome = await equalizeInWorker(
      { kind: 'files', files },
      { signal: new AbortController().signal, onProgress: () => {}, cle: {} },
    );
    const folder = outcome.spillFolder!;
    const saved = equalizedFiles(outcome)[1]!.blob;
    const read = await bytesOf(saved);
    setWorkerFactory(undefined); // terminates the Worker: its locks end
    await sweepSpillFolders();
    expect(await folders()).to.include(folder);
    expect(await bytesOf(saved)).to.deep.equal(read);
    await releaseSpillFolder(folder);
    expect(await folders()).to.not.include(folder);
  });

  it('a failed CLE leaves no spill folder behind', async () => {
    const big = externalMlp(2 ** 17);
    const files = [new File([big.model], 'mlp.onnx'), new File([big.data], 'mlp.data')];
    const earlier = await folders();
    const cancel = new AbortController();
    // Cancelled once a weight was spilled (a new folder appeared): the run fails and deletes it.
    const error = await runCle(
      { kind: 'files', files },
      {},
      {
        signal: cancel.signal,
        onProgress: () => void folders().then((now) => now.length > earlier.length && cancel.abort()),
      },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code?: string } | undefined)?.code).to.equal('ABORTED');
    await eventually(async () => (await folders()).length === earlier.length, 'the folder deleted');
  });
});
