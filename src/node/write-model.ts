// Writing an equalized model to disk without ever losing the user's data: never over the input model or
// one of its external-data files (under any name), each file written atomically (atomic-write.ts), and
// external-data files the new model still needs copied beside it when it goes to another
// folder (never over an existing file). Every check runs before the first byte is written.
import { constants } from 'node:fs';
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { WeightlensError } from '../errors.js';
import { validateLocation } from '../onnx/external-data.js';
import type { Model } from '../onnx/model.js';
import type { CleOutcome } from '../report/cle-report.js';
import { dataFileLength, isCopiedRange, type DataPart } from '../onnx/export/data-file.js';
import { ProgressMeter, type Progress } from '../progress.js';
import type { ExternalDataSource } from '../onnx/external-data.js';
import { atomicWrite, type WriteChunk } from './atomic-write.js';
import { directorySource, locateExternalFile } from './external-data.js';
import { inputFilesOf, refuseInputTargets } from './input-files.js';

export interface WriteModelOptions {
  /** Path of the model that was read. */
  input: string;
  /** The input as opened: the external-data files it names are protected like the model itself. */
  model: Model;
  /** Folder its external data was read from (default: the input's folder). */
  dataDir?: string;
  /** Bytes written so far, of every file's, as a fraction (0..1, throttled). */
  onProgress?: (p: Progress) => void;
}

async function sameContent(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  if (sa.dev === sb.dev && sa.ino === sb.ino && sa.ino !== 0) return true;
  if (sa.size !== sb.size) return false;
  const [ba, bb] = await Promise.all([readFile(a), readFile(b)]);
  return ba.equals(bb);
}

/** An input external-data file the output needs, checked as a read is (never outside the input's folder). */
function inputDataFile(input: string, location: string, dataDir: string, why: string) {
  return locateExternalFile(dataDir, location).catch((e: unknown) => {
    if (!(e instanceof WeightlensError)) throw e;
    throw new WeightlensError(e.code, `${input}: ${e.message} (${why})`, { file: input, field: e.field, cause: e });
  });
}

/** Input external-data files the output still refers to and that are not beside it yet: [from, to]. */
async function copiesNeeded(
  input: string,
  kept: readonly string[],
  dataDir: string,
  folder: string,
): Promise<[string, string][]> {
  const copies: [string, string][] = [];
  for (const location of kept) {
    const { real: from, path } = await inputDataFile(input, location, dataDir, 'the output still refers to it');
    const to = join(folder, path);
    const exists = await stat(to).then(
      () => true,
      () => false,
    );
    if (!exists) copies.push([from, to]);
    else if (!(await sameContent(from, to))) {
      throw new WeightlensError(
        'IO',
        `${to}: exists and differs from the input's external data "${location}"; not overwritten`,
        { file: to },
      );
    }
  }
  return copies;
}

/** Bytes copied from an input data file per read: a copied range of any size streams through. */
const COPY_PIECE = 64 * 1024 * 1024;

/**
 * A data file's parts in order: new bytes as they are, spilled ones and copied ranges read piece by piece
 * (from their Blob, or from the input's files).
 */
async function writeParts(parts: readonly DataPart[], source: ExternalDataSource, write: WriteChunk): Promise<void> {
  for (const part of parts) {
    if (part instanceof Uint8Array) {
      await write(part);
      continue;
    }
    if (part instanceof Blob) {
      for (let done = 0; done < part.size; done += COPY_PIECE)
        await write(new Uint8Array(await part.slice(done, done + COPY_PIECE).arrayBuffer()));
      continue;
    }
    const file = await source(part.location);
    if (part.offset + part.length > file.size) {
      throw new WeightlensError(
        'EXTERNAL_DATA',
        `external data "${part.location}" has ${file.size} bytes; bytes ${part.offset}..${part.offset + part.length} cannot be copied`,
        { field: 'external_data' },
      );
    }
    for (let done = 0; done < part.length; done += COPY_PIECE) {
      const n = Math.min(COPY_PIECE, part.length - done);
      const bytes = await file.read(part.offset + done, n);
      if (bytes.byteLength !== n)
        throw new WeightlensError('EXTERNAL_DATA', `external data "${part.location}" changed while it was copied`, {
          field: 'external_data',
        });
      await write(bytes);
    }
  }
}

/**
 * Writes an equalized model (`equalizeModel`'s outcome) to `output`, its new external-data files beside it,
 * and copies of the input's external-data files it still needs. Returns the paths written. Throws USAGE,
 * before writing anything, when any of them would replace the input model or one of its data files.
 */
export async function writeModel(
  output: string,
  outcome: Pick<CleOutcome, 'bytes' | 'dataFiles' | 'dataLocations'>,
  options: WriteModelOptions,
): Promise<string[]> {
  const target = resolve(output);
  const folder = dirname(target);
  const dataDir = options.dataDir ?? dirname(options.input);
  const dataFiles = [...outcome.dataFiles].map(
    ([location, bytes]) => [join(folder, validateLocation(location)), bytes] as const,
  );
  await refuseInputTargets(
    [output, ...dataFiles.map(([path]) => path)],
    inputFilesOf(options.model, options.input, dataDir),
  );
  const kept = outcome.dataLocations.filter((location) => !outcome.dataFiles.has(location));
  const copies = await copiesNeeded(options.input, kept, dataDir, folder);
  const copiedThrough = new Set(
    [...outcome.dataFiles.values()].flat().flatMap((p) => (isCopiedRange(p) ? [p.location] : [])),
  );
  for (const location of copiedThrough)
    await inputDataFile(options.input, location, dataDir, 'the output copies tensors from it');

  await mkdir(folder, { recursive: true });
  const written: string[] = [];
  const source = directorySource(dataDir);
  const meter = new ProgressMeter(options.onProgress ?? (() => {}));
  const total = dataFiles.reduce((n, [, parts]) => n + dataFileLength(parts), 0);
  let done = 0;
  for (const [path, parts] of dataFiles) {
    await atomicWrite(path, (write) =>
      writeParts(parts, source, async (chunk) => {
        await write(chunk);
        done += typeof chunk === 'string' ? chunk.length : chunk.byteLength;
        meter.report(done / total, `writing ${basename(path)}`);
      }),
    );
    written.push(path);
  }
  for (const [from, to] of copies) {
    await mkdir(dirname(to), { recursive: true });
    await copyFile(from, to, constants.COPYFILE_EXCL).catch((cause: Error) => {
      throw new WeightlensError('IO', `${to}: cannot copy the input's external data there (${cause.message})`, {
        file: to,
        cause,
      });
    });
    written.push(to);
  }
  await atomicWrite(target, outcome.bytes);
  written.push(target);
  meter.done();
  return written;
}
