/**
 * openModelFile: a model on disk -> Model, for the CLI and Node users. The file is read in chunks into one
 * preallocated buffer (progress, cancellation, never two copies); external data comes from its folder.
 */
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WeightlensError, throwIfAborted } from '../errors.js';
import type { Model } from '../onnx/model.js';
import { openModel, readProgress, type OpenProgress } from '../onnx/open.js';
import { directorySource } from './external-data.js';

export interface OpenFileOptions {
  /** Folder holding external data files; defaults to the model's folder. */
  dataDir?: string;
  /** Name used in messages; defaults to `path` as given. */
  fileName?: string;
  signal?: AbortSignal;
  onProgress?: (p: OpenProgress) => void;
}

const CHUNK = 16 * 1024 * 1024;

export async function openModelFile(path: string, options: OpenFileOptions = {}): Promise<Model> {
  const { signal, onProgress } = options;
  const fileName = options.fileName ?? path;
  throwIfAborted(signal, fileName);
  const bytes = await readWhole(path, fileName, signal, onProgress);
  return openModel(bytes, {
    fileName,
    externalData: directorySource(options.dataDir ?? dirname(path)),
    ...(signal ? { signal } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
}

async function readWhole(
  path: string,
  fileName: string,
  signal?: AbortSignal,
  onProgress?: (p: OpenProgress) => void,
): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw ioError(path, fileName, e);
  }
  try {
    const { size } = await handle.stat();
    const bytes = new Uint8Array(size);
    onProgress?.(readProgress(0, size));
    let loaded = 0;
    while (loaded < size) {
      throwIfAborted(signal, fileName);
      const { bytesRead } = await handle.read(bytes, loaded, Math.min(CHUNK, size - loaded), loaded);
      if (bytesRead === 0) break;
      loaded += bytesRead;
      onProgress?.(readProgress(loaded, size));
    }
    return loaded === size ? bytes : bytes.subarray(0, loaded);
  } catch (e) {
    throw e instanceof WeightlensError ? e : ioError(path, fileName, e);
  } finally {
    await handle.close();
  }
}

function ioError(path: string, fileName: string, cause: unknown): WeightlensError {
  const err = cause as NodeJS.ErrnoException;
  const why =
    err.code === 'ENOENT'
      ? 'no such file'
      : err.code === 'EACCES'
        ? 'permission denied'
        : err.code === 'EISDIR'
          ? 'is a folder, not a file'
          : (err.message ?? String(cause));
  return new WeightlensError('IO', `${path}: cannot read the model: ${why}`, { file: fileName, cause });
}
