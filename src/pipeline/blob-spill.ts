// The Spill a page (or its Worker) gives CLE: each rewritten tensor's pieces become Blobs as they come.
// Chromium keeps blob bytes in the browser process (and on disk past its memory budget), not in this
// renderer, so CLE's memory here does not grow with the tensors it rewrites; a saved data file reads them
// back from there.
import { WeightlensError } from '../errors.js';
import type { Spill } from '../onnx/export/data-file.js';
import { megabytes } from '../text/megabytes.js';

export const blobSpill: Spill = async (pieces) => {
  const blobs: Blob[] = [];
  for await (const piece of pieces) blobs.push(new Blob([piece as Uint8Array<ArrayBuffer>]));
  const blob = new Blob(blobs);
  // Where blobs cannot go to disk (headless Chromium here holds ~480 MB of them), one past the limit is
  // made but unreadable: a one-byte read says so now, rather than the read-back after the whole plan.
  await blob
    .slice(0, 1)
    .arrayBuffer()
    .catch((cause: unknown) => {
      throw new WeightlensError(
        'OUT_OF_MEMORY',
        `the browser could not keep ${megabytes(blob.size)} MB of equalized weights outside the page: its blob storage is full (${(cause as Error).message})`,
        { cause },
      );
    });
  return blob;
};
