// The browser half of the scaling bench (bench/scaling.ts drives it): a file input the bench fills with a
// generated model and its external data, and `scalingRun(command)`, which analyses those Files as
// <model-source> does (the pipeline on this thread) and returns how long it took; `cle` also saves the
// equalized files as <cle-compare>'s "Save to a folder…" does, into the origin's private file system.
import { equalizedFiles } from '../src/components/cle-compare/cle-download.js';
import { saveToFolder } from '../src/components/shared/save-to-folder.js';
import { runCle, runPipeline } from '../src/pipeline/analyze.js';

declare global {
  interface Window {
    scalingRun(command: 'stats' | 'cle'): Promise<{ ms: number; saveMs?: number; outputBytes?: number }>;
  }
}

const input = document.createElement('input');
input.type = 'file';
input.multiple = true;
document.body.append(input);

window.scalingRun = async (command) => {
  const files = [...(input.files ?? [])];
  const t0 = performance.now();
  if (command === 'stats') {
    await runPipeline({ kind: 'files', files });
    return { ms: performance.now() - t0 };
  }
  // CLE as <cle-compare> runs it, up to the files its save button writes, then that save.
  const saved = equalizedFiles(await runCle({ kind: 'files', files }, {}));
  const ms = performance.now() - t0;
  const root = await navigator.storage.getDirectory();
  const folder = await root.getDirectoryHandle('scaling', { create: true });
  const t1 = performance.now();
  await saveToFolder(folder, saved, { signal: new AbortController().signal, onProgress: () => {} });
  const saveMs = performance.now() - t1;
  let outputBytes = 0;
  for (const f of saved) outputBytes += (await (await folder.getFileHandle(f.name)).getFile()).size;
  await root.removeEntry('scaling', { recursive: true });
  return { ms, saveMs, outputBytes };
};
