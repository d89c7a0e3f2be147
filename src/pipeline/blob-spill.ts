// The Spill a page (or its Worker) gives CLE: each rewritten tensor's pieces become Blobs as they come.
// Chromium keeps blob bytes in the browser process (and on disk past its memory budget), not in this
// renderer, so CLE's memory here does not grow with the tensors it rewrites; a saved data file reads them
// back from there.
import type { Spill } from '../onnx/export/data-file.js';

export const blobSpill: Spill = async (pieces) => {
  const blobs: Blob[] = [];
  for await (const piece of pieces) blobs.push(new Blob([piece as Uint8Array<ArrayBuffer>]));
  return new Blob(blobs);
};
