// Saving files into a folder the user picked (File System Access, Chromium): each file is written from its
// Blob in slices, so a multi-GB data file streams from the browser's blob storage and the user's Files to
// disk without passing through this page's memory, with progress and cancel between slices.
import { WeightlensError } from '../../errors.js';
import type { SavedFile } from './model-files.js';

/** Bytes per write: a progress step and a point to cancel at; the browser copies each slice itself. */
const SLICE = 64 * 1024 * 1024;

/** `window.showDirectoryPicker` where the browser has it (File System Access; not in TypeScript's DOM types). */
export type DirectoryPicker = (options?: {
  id?: string;
  mode?: 'read' | 'readwrite';
}) => Promise<FileSystemDirectoryHandle>;

export function directoryPicker(): DirectoryPicker | undefined {
  const picker = (globalThis as { showDirectoryPicker?: DirectoryPicker }).showDirectoryPicker;
  return picker?.bind(globalThis);
}

export interface SaveOptions {
  signal: AbortSignal;
  /** Bytes written so far, of `total`. */
  onProgress: (written: number, total: number) => void;
}

/**
 * Writes `files` into `folder`. Refuses (IO, before writing anything) when a name is taken there: nothing
 * is ever overwritten. A failed or cancelled save removes the files it created.
 */
export async function saveToFolder(
  folder: FileSystemDirectoryHandle,
  files: readonly SavedFile[],
  { signal, onProgress }: SaveOptions,
): Promise<void> {
  for (const { name } of files) {
    if (await exists(folder, name)) {
      throw new WeightlensError(
        'IO',
        `"${name}" already exists in the folder "${folder.name}": nothing was saved (choose another folder, or move that file away)`,
        { file: name },
      );
    }
  }
  const total = files.reduce((n, f) => n + f.blob.size, 0);
  const created: string[] = [];
  let written = 0;
  const stopIfCancelled = (name: string) => {
    if (signal.aborted) throw new WeightlensError('ABORTED', `saving ${name} was cancelled`, { file: name });
  };
  try {
    for (const { name, blob } of files) {
      stopIfCancelled(name);
      const handle = await folder.getFileHandle(name, { create: true });
      created.push(name);
      // The browser writes a temporary file and moves it into place on close(): abort() leaves no partial file.
      const out = await handle.createWritable();
      try {
        for (let at = 0; at < blob.size; at += SLICE) {
          stopIfCancelled(name);
          await out.write(blob.slice(at, at + SLICE));
          written += Math.min(SLICE, blob.size - at);
          onProgress(written, total);
        }
        await out.close();
      } catch (e) {
        await out.abort().catch(() => {});
        throw e;
      }
    }
  } catch (e) {
    for (const name of created) await folder.removeEntry(name).catch(() => {});
    if (e instanceof WeightlensError) throw e;
    throw new WeightlensError('IO', `saving to the folder "${folder.name}" failed: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** Whether `name` is taken in `folder` (by a file or a folder). */
async function exists(folder: FileSystemDirectoryHandle, name: string): Promise<boolean> {
  try {
    await folder.getFileHandle(name);
    return true;
  } catch (e) {
    if ((e as DOMException).name === 'NotFoundError') return false;
    if ((e as DOMException).name === 'TypeMismatchError') return true;
    throw e;
  }
}
