// Outputs replace their old versions by rename(2), which is atomic: a reader (the demo server, a test)
// opening a file during a build gets the whole old file or the whole new one, never a missing or
// half-written one.
import { mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const filesUnder = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath ?? entry.path, entry.name)));

/** Writes `data` to `file` through a temporary file in `tmpDir` (on the same file system). */
export function writeFileAtomic(file, data, tmpDir) {
  mkdirSync(tmpDir, { recursive: true });
  const tmp = join(tmpDir, `${process.pid}-${file.replace(/[\\/]/g, '_')}`);
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/**
 * Moves every file of `staging` over its counterpart in `target`, then deletes what the new build no
 * longer has (a renamed module must not linger in dist/), then the emptied staging folder.
 */
export function publishDir(staging, target) {
  const fresh = filesUnder(staging);
  for (const file of fresh) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    renameSync(join(staging, file), join(target, file));
  }
  const keep = new Set(fresh);
  for (const file of filesUnder(target)) if (!keep.has(file)) rmSync(join(target, file));
  // Deepest first, so a folder emptied of folders is removed too; a folder still in use is kept.
  const dirs = readdirSync(target, { recursive: true, withFileTypes: true }).filter((e) => e.isDirectory());
  for (const dir of dirs
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort()
    .reverse()) {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  }
  rmSync(staging, { recursive: true, force: true });
}
