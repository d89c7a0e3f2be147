// Whether dist/ and the generated sources are the build of the inputs as they are now. The inputs are
// hashed by content (not compared by mtime): a checkout, a deleted file or a file copied with an old date
// all change the digest, so a stale build is never reused.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Folders whose files are build inputs, minus tests and the build's own generated sources. */
const INPUT_DIRS = ['src', 'assembly', 'scripts/build-lib'];
const isInput = (file) => !file.endsWith('.generated.ts') && !file.endsWith('.test.ts');
/**
 * Single files read by the build. node_modules/.package-lock.json is npm's record of what is installed:
 * it changes with every install, so a new Lit or Plot (bundled into the CDN file) means a rebuild.
 */
const INPUT_FILES = [
  'asconfig.json',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'scripts/build.mjs',
  'node_modules/.package-lock.json',
];
/** What a complete build leaves behind; one missing (a deleted dist/, say) means a rebuild. */
export const OUTPUTS = [
  'dist/index.js',
  'dist/elements.js',
  'dist/node/index.js',
  'dist/cli/main.js',
  'dist/cdn/weightlens.js',
  'dist/custom-elements.json',
  'src/kernels/wasm-binary.generated.ts',
  'src/worker/worker-source.generated.ts',
];
const stampOf = (root) => join(root, 'build', 'dist-inputs.sha256');

export function inputsDigest(root) {
  const files = INPUT_DIRS.flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(root, join(entry.parentPath ?? entry.path, entry.name)))
      .filter(isInput),
  ).concat(INPUT_FILES.filter((file) => existsSync(join(root, file))));
  const hash = createHash('sha256');
  for (const file of files.sort()) {
    // The name too: a renamed file changes the digest even when the contents do not.
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(root, file)))
      .update('\0');
  }
  return hash.digest('hex');
}

export function isUpToDate(root, digest) {
  const stamp = stampOf(root);
  return (
    existsSync(stamp) && readFileSync(stamp, 'utf8') === digest && OUTPUTS.every((file) => existsSync(join(root, file)))
  );
}

/** Called before building: an interrupted build must not look complete. */
export const forgetBuilt = (root) => rmSync(stampOf(root), { force: true });
export const markBuilt = (root, digest) => writeFileSync(stampOf(root), digest);
