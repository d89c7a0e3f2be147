// The browser half of the scaling bench (bench/scaling.ts drives it): a file input the bench fills with a
// generated model and its external data, and `scalingRun(command)`, which analyses those Files as
// <model-source> does (the pipeline on this thread) and returns how long it took.
import { equalizedFiles } from '../src/components/cle-compare/cle-download.js';
import { runCle, runPipeline } from '../src/pipeline/analyze.js';

declare global {
  interface Window {
    scalingRun(command: 'stats' | 'cle'): Promise<{ ms: number; outputBytes?: number }>;
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
  // CLE as <cle-compare> runs it, up to the files its download button saves.
  const saved = equalizedFiles(await runCle({ kind: 'files', files }, {}));
  return { ms: performance.now() - t0, outputBytes: saved.reduce((n, f) => n + f.blob.size, 0) };
};
