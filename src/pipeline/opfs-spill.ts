// CLE's Spill in a browser (onnx/export/data-file.ts): where the origin private file system is there, each
// large rewritten weight is written to a file of its own in the run's spill folder (spill-folders.ts) and
// comes back as that file's File, a Blob on disk. Elsewhere, blobSpill: Chromium keeps blob bytes in the
// browser process, in memory where it cannot page them out (headless: ~480 MB), too little for the
// rewritten weights of a multi-GB model.
import { WeightlensError } from '../errors.js';
import type { Spill } from '../onnx/export/data-file.js';
import { megabytes } from '../text/megabytes.js';
import { blobSpill } from './blob-spill.js';
import { openSpillFolder, releaseSpillFolder } from './spill-folders.js';

export interface BrowserSpill {
  spill: Spill;
  /** The OPFS folder holding the spilled weights, once one was made; the outcome takes it along. */
  readonly folder: string | undefined;
  /** Deletes what was spilled: for a run that failed. */
  release(): Promise<void>;
}

/** A sync access handle: in a dedicated Worker only (lib.dom does not declare it). */
interface SyncAccessHandle {
  write(data: Uint8Array, options: { at: number }): number;
  flush(): void;
  close(): void;
}
type OpfsFileHandle = FileSystemFileHandle & { createSyncAccessHandle?: () => Promise<SyncAccessHandle> };

const hasOpfs = () =>
  typeof navigator !== 'undefined' &&
  typeof navigator.storage?.getDirectory === 'function' &&
  typeof navigator.locks?.request === 'function' &&
  typeof FileSystemFileHandle !== 'undefined' &&
  ('createSyncAccessHandle' in FileSystemFileHandle.prototype || 'createWritable' in FileSystemFileHandle.prototype);

/** The spill of one CLE run: its folder is made at the first spill, so a run spilling nothing leaves none. */
export function browserSpill(): BrowserSpill {
  if (!hasOpfs()) return { spill: blobSpill, folder: undefined, release: async () => {} };
  let opened: Promise<FileSystemDirectoryHandle | undefined> | undefined;
  let folder: string | undefined;
  let files = 0;
  let stored = 0;
  return {
    get folder() {
      return folder;
    },
    async spill(pieces) {
      opened ??= openSpillFolder().then(
        ({ name, dir }) => ((folder = name), dir),
        (cause: unknown) => {
          // e.g. a private window that refuses OPFS (SecurityError): blobs, as before OPFS
          console.warn('weightlens: no origin private file system, keeping equalized weights as blobs:', cause);
          return undefined;
        },
      );
      const dir = await opened;
      if (!dir) return blobSpill(pieces);
      const handle = await dir.getFileHandle(`${files++}.bin`, { create: true });
      // What was written of this weight, and the piece being written: for a full quota's message.
      let [written, piece] = [0, 0];
      const counted = async function* () {
        for await (const p of pieces) {
          piece = p.byteLength;
          yield p;
          written += piece; // asked for the next one: this one is written
        }
      };
      try {
        await writeFile(handle, counted());
      } catch (cause) {
        if ((cause as Error)?.name !== 'QuotaExceededError') throw cause;
        throw await storageFull(cause as Error, piece, stored + written);
      }
      stored += written;
      return handle.getFile();
    },
    release: () => (folder ? releaseSpillFolder(folder) : Promise.resolve()),
  };
}

/** Writes the pieces into the file, in order. */
async function writeFile(handle: OpfsFileHandle, pieces: AsyncIterable<Uint8Array>): Promise<void> {
  // A sync access handle where there is one (a dedicated Worker, where CLE runs): the fastest, and the one
  // writer every OPFS browser gives Workers (Safari long had no createWritable). On the page, a writable
  // stream (Chromium, Firefox).
  if (handle.createSyncAccessHandle) {
    const access = await handle.createSyncAccessHandle();
    try {
      let at = 0;
      for await (const piece of pieces) {
        const n = access.write(piece, { at });
        // A short write is a full disk: said as the quota error the writable stream gives.
        if (n !== piece.byteLength)
          throw new DOMException(`wrote ${n} of ${piece.byteLength} bytes`, 'QuotaExceededError');
        at += n;
      }
      access.flush();
    } finally {
      access.close();
    }
    return;
  }
  const out = await handle.createWritable();
  try {
    for await (const piece of pieces) await out.write(piece as Uint8Array<ArrayBuffer>);
    await out.close();
  } catch (e) {
    await out.abort().catch(() => {});
    throw e;
  }
}

/** The typed error for a full quota: how much did not fit, after how much, and the site's usage. */
async function storageFull(cause: Error, piece: number, stored: number): Promise<WeightlensError> {
  const { usage, quota } = await navigator.storage.estimate().catch(() => ({}) as StorageEstimate);
  const used = usage !== undefined && quota ? ` (${megabytes(usage)} of its ${megabytes(quota)} MB in use)` : '';
  return new WeightlensError(
    'OUT_OF_MEMORY',
    `the browser could not store ${megabytes(piece)} MB more of equalized weights on disk, after ${megabytes(stored)} MB: the storage it gives this site is full${used}; free disk space and run CLE again (${cause.message})`,
    { cause },
  );
}
