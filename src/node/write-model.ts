// Writing an equalized model to disk without ever losing the user's data: never over the input, each
// file written to a temporary name first and renamed into place, and external-data files the new model
// still needs copied beside it when it goes to another folder (never over a different existing file).
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { WeightlensError } from '../errors.js';

export interface WriteModelOptions {
  /** The model that was read (refused as an output). */
  input: string;
  /** Folder its external data was read from. */
  inputDataDir: string;
  /** External-data locations the new model refers to that are not in `dataFiles` (still the originals). */
  keptLocations: readonly string[];
}

async function atomicWrite(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true });
    throw new WeightlensError('IO', `${path}: cannot write (${(cause as Error).message})`, { file: path, cause });
  }
}

async function sameContent(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  if (sa.size !== sb.size) return false;
  const [ba, bb] = await Promise.all([readFile(a), readFile(b)]);
  return ba.equals(bb);
}

export async function writeModel(
  output: string, bytes: Uint8Array, dataFiles: ReadonlyMap<string, Uint8Array>, options: WriteModelOptions,
): Promise<string[]> {
  const target = resolve(output);
  if (target === resolve(options.input)) {
    throw new WeightlensError('USAGE', `${output}: is the input model; write the equalized model to another file`, { file: output });
  }
  const folder = dirname(target);
  await mkdir(folder, { recursive: true });
  const written: string[] = [];
  for (const [location, data] of dataFiles) {
    const path = join(folder, location);
    if (resolve(options.inputDataDir, location) === path) {
      throw new WeightlensError('USAGE', `${path}: is an external-data file of the input model; choose another output folder or name`, { file: path });
    }
    await atomicWrite(path, data);
    written.push(path);
  }
  if (resolve(options.inputDataDir) !== folder) {
    for (const location of options.keptLocations) {
      const from = join(options.inputDataDir, location);
      const to = join(folder, location);
      const exists = await stat(to).then(() => true, () => false);
      if (exists && !(await sameContent(from, to))) {
        throw new WeightlensError('IO', `${to}: exists and differs from the input's external data "${location}"; not overwritten`, { file: to });
      }
      if (!exists) {
        await mkdir(dirname(to), { recursive: true });
        await copyFile(from, to);
        written.push(to);
      }
    }
  }
  await atomicWrite(target, bytes);
  written.push(target);
  return written;
}
