/**
 * External tensor data from a folder on disk (Node). Reads only the bytes a tensor needs, and checks the
 * location twice: lexically (validateLocation) and after resolving symlinks, so a link inside the model
 * folder cannot point the reader at /etc or a neighbour's home directory.
 */
import { open, realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { WeightlensError } from '../errors.js';
import { validateLocation, type ExternalDataSource, type ExternalFile } from '../onnx/external-data.js';

export function directorySource(dir: string): ExternalDataSource {
  let realDir: Promise<string> | undefined;
  return async (location) => {
    realDir ??= realFolder(dir).catch((e: unknown) => {
      realDir = undefined;
      throw e;
    });
    const { real, path, size } = await locateExternalFile(dir, location, realDir);
    return fileAt(real, path, size);
  };
}

function realFolder(dir: string): Promise<string> {
  return realpath(dir).catch((e: NodeJS.ErrnoException) => {
    throw new WeightlensError(
      'EXTERNAL_DATA',
      `external data folder "${dir}" cannot be read (${e.code ?? e.message})`,
      { cause: e },
    );
  });
}

/**
 * The file an external-data `location` names in `dir`, after both checks: `path` is the location with '/'
 * separators, `real` the file it leads to (never outside the folder's real path).
 */
export async function locateExternalFile(
  dir: string,
  location: string,
  realDir: Promise<string> = realFolder(dir),
): Promise<{ real: string; path: string; size: number }> {
  const path = validateLocation(location);
  const root = await realDir;
  let real: string;
  try {
    real = await realpath(resolve(root, path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : `cannot be opened (${code ?? String(e)})`;
    throw new WeightlensError('EXTERNAL_DATA', `external data file "${location}" ${why} in ${dir}`, {
      field: 'external_data.location',
      cause: e,
    });
  }
  if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new WeightlensError(
      'UNSAFE_PATH',
      `external data location "${location}" resolves to ${real}, outside ${dir}`,
      {
        field: 'external_data.location',
      },
    );
  }
  const info = await stat(real);
  if (!info.isFile()) throw new WeightlensError('EXTERNAL_DATA', `external data location "${location}" is not a file`);
  return { real, path, size: info.size };
}

/** Reads in flight at once: libuv's default thread pool has 4 threads, and page-cache copies scale with them. */
const READS_IN_FLIGHT = 4;
/** Bytes per read: far below fs's int32 length limit (one read of 2 GiB or more aborts the process). */
const READ_PIECE = 8 * 1024 * 1024;

/**
 * Opens per read and closes at once: a model with hundreds of external tensors never leaks handles. A large
 * range is read as pieces, several in flight: a warm page cache is copied out about 1.8x faster than by one
 * read at a time (990 MB in 128 MB ranges: 85 ms against 153 ms on 2 cores).
 */
function fileAt(real: string, name: string, size: number): ExternalFile {
  const readInto = async (offset: number, dest: Uint8Array) => {
    const handle = await open(real, 'r');
    try {
      let next = 0;
      let end = dest.byteLength; // lowered by a short read: the file shrank, the caller reports it
      const reader = async () => {
        while (next < end) {
          const at = next;
          next += READ_PIECE;
          const piece = Math.min(READ_PIECE, end - at);
          let done = 0;
          while (done < piece) {
            const { bytesRead } = await handle.read(dest, at + done, piece - done, offset + at + done);
            if (bytesRead === 0) break;
            done += bytesRead;
          }
          if (done < piece) end = Math.min(end, at + done);
        }
      };
      await Promise.all(Array.from({ length: READS_IN_FLIGHT }, reader));
      return end;
    } finally {
      await handle.close();
    }
  };
  return {
    name,
    size,
    async read(offset, length) {
      const bytes = new Uint8Array(length);
      const done = await readInto(offset, bytes);
      return done === length ? bytes : bytes.subarray(0, done);
    },
    readInto,
  };
}
