// Every file weightlens writes goes to a temporary name beside its target first and is renamed into place:
// a failed or cancelled write never leaves half a file under the target's name, and the temporary file is
// created exclusively, so nothing is ever written through a link left at its name.
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WeightlensError } from '../errors.js';

/** Appends to the file being written. Text is written as UTF-8. */
export type WriteChunk = (chunk: Uint8Array | string) => Promise<void>;

/** Text is gathered up to this size before a write: one system call per ~1 MB, not one per piece. */
const TEXT_BATCH = 1 << 20;

/**
 * Writes `content` to `path` atomically: bytes, or a function that writes the file piece by piece (so a
 * large file is never one string or one array in memory). Errors other than weightlens' own are IO errors
 * naming the path.
 */
export async function atomicWrite(
  path: string,
  content: Uint8Array | ((write: WriteChunk) => Promise<void>),
): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temporary, 'wx');
    if (content instanceof Uint8Array) await handle.writeFile(content);
    else await writeInPieces(handle, content);
    await handle.close();
    handle = undefined;
    await rename(temporary, path);
  } catch (cause) {
    await handle?.close().catch(() => {});
    await rm(temporary, { force: true });
    if (cause instanceof WeightlensError) throw cause;
    throw new WeightlensError('IO', `${path}: cannot write (${(cause as Error).message})`, { file: path, cause });
  }
}

async function writeInPieces(handle: FileHandle, content: (write: WriteChunk) => Promise<void>): Promise<void> {
  let text: string[] = [];
  let textLength = 0;
  const flushText = async () => {
    if (textLength === 0) return;
    const batch = text.join('');
    text = [];
    textLength = 0;
    await handle.writeFile(batch);
  };
  await content(async (chunk) => {
    if (typeof chunk === 'string') {
      text.push(chunk);
      textLength += chunk.length;
      if (textLength >= TEXT_BATCH) await flushText();
      return;
    }
    await flushText();
    await handle.writeFile(chunk); // writeFile: whole chunk, at the current position
  });
  await flushText();
}
