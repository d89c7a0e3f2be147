// CLE's Spill in Node (onnx/export/data-file.ts): each large rewritten weight goes to a file of its own in a
// hidden folder beside the output, and comes back as a file-backed Blob, so the new weights of a
// multi-GB model never sit in memory. Beside the output, not in the system's temporary folder: that may be
// memory-backed (tmpfs), and the output's disk is the one known to take the model.
import { openAsBlob } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { WeightlensError } from '../errors.js';
import type { Spill } from '../onnx/export/data-file.js';

export interface FileSpill {
  spill: Spill;
  /** Deletes the folder and every spilled file: call once the output is written (or has failed). */
  remove(): Promise<void>;
}

/**
 * A spill folder next to `output` (`.<name>.weightlens-spill-XXXXXX`), created with the output's folder at
 * the first spill: a model with nothing to spill leaves no trace.
 */
export function fileSpill(output: string): FileSpill {
  const target = resolve(output);
  let folder: Promise<string> | undefined;
  const created = async () => {
    await mkdir(dirname(target), { recursive: true });
    return mkdtemp(join(dirname(target), `.${basename(target)}.weightlens-spill-`));
  };
  let count = 0;
  return {
    async spill(pieces) {
      folder ??= created().catch((cause: Error) => {
        throw new WeightlensError('IO', `${target}: cannot create a spill folder beside it (${cause.message})`, {
          file: target,
          cause,
        });
      });
      const path = join(await folder, `${count++}.bin`);
      const handle = await open(path, 'wx');
      try {
        for await (const piece of pieces) await handle.writeFile(piece); // whole piece, at the current position
      } finally {
        await handle.close();
      }
      return openAsBlob(path);
    },
    async remove() {
      const path = await folder?.catch(() => undefined);
      if (path) await rm(path, { recursive: true, force: true });
    },
  };
}
