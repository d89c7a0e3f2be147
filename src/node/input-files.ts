/**
 * The files a run reads (the model and every external-data file it names) and the check that no output
 * lands on one of them. Paths are compared after resolving symlinks, and files by device + inode, so a
 * symlinked folder, a hard link, `..` or a case-insensitive file system's other spelling of a name is
 * caught as the same file.
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { WeightlensError } from '../errors.js';
import type { Model } from '../onnx/model.js';

export interface InputFile {
  path: string;
  /** How messages name it: "the input model", `the input's external-data file "w.bin"`. */
  role: string;
}

/** The model file and every external-data file its tensors name (read or not). */
export function inputFilesOf(model: Model, modelPath: string, dataDir: string): InputFile[] {
  const files: InputFile[] = [{ path: modelPath, role: 'the input model' }];
  const locations = new Set<string>();
  for (const graph of model.graphs)
    for (const t of graph.constants.values()) if (t.external) locations.add(t.external.location);
  for (const location of locations)
    files.push({ path: join(dataDir, location), role: `the input's external-data file "${location}"` });
  return files;
}

interface Identity {
  real: string;
  /** `dev:ino`, absent when the file does not exist. */
  inode?: string;
}

/** Where a path really leads: the file's real path, or its real folder + name when it does not exist yet. */
async function identify(path: string): Promise<Identity> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch(() => undefined);
  const real = await realpath(absolute).catch(() =>
    realpath(dirname(absolute)).then(
      (folder) => join(folder, basename(absolute)),
      () => absolute,
    ),
  );
  // Some file systems report inode 0 for every file: there only the real path tells files apart.
  return info && info.ino !== 0 ? { real, inode: `${info.dev}:${info.ino}` } : { real };
}

/** Throws USAGE when a file about to be written is one of the inputs, under any name. */
export async function refuseInputTargets(targets: readonly string[], inputs: readonly InputFile[]): Promise<void> {
  const known = await Promise.all(inputs.map(async (input) => ({ input, identity: await identify(input.path) })));
  for (const target of targets) {
    const { real, inode } = await identify(target);
    const hit = known.find(
      ({ identity }) => identity.real === real || (inode !== undefined && identity.inode === inode),
    );
    if (hit) {
      const alias = resolve(target) === resolve(hit.input.path) ? '' : ` (${hit.input.path}, under another name)`;
      throw new WeightlensError(
        'USAGE',
        `${target}: is ${hit.input.role}${alias}; weightlens never writes over its input, choose another output`,
        {
          file: target,
        },
      );
    }
  }
}
