// One build at a time: `npm start` and `npm test` started together must not write the same files at once.
// The second waits for the first, then finds the build up to date. A lock left by a killed build (its
// process is gone) is taken over.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

/** Resolves with a release function once this process holds the lock file at `path`. */
export async function acquireLock(path) {
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let holder;
    try {
      holder = Number(readFileSync(path, 'utf8'));
    } catch (e) {
      if (e.code === 'ENOENT') continue; // released meanwhile
      throw e;
    }
    // An empty file is a lock being written this instant, unless it has stayed empty (its writer died).
    if (holder ? !alive(holder) : Date.now() - statSync(path, { throwIfNoEntry: false })?.mtimeMs > 5000) {
      rmSync(path, { force: true });
      continue;
    }
    if (!told) console.log(`weightlens build: waiting for the build running in process ${holder || '?'}`);
    told = true;
    await sleep(250);
  }
}
