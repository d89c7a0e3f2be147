// `weightlens …args` as a user runs it (bin/weightlens.js on dist/, from the repo root): exit status, stdout
// and stderr, with a liveness timeout (not a timing check).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './node-paths.js';

export const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/weightlens.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 256 << 20,
  });
