// The OPFS folders that hold CLE's spilled weights in a browser (opfs-spill.ts): one per CLE run, under
// "weightlens-spill/". Each is kept alive by a Web Lock of its name, held by the realm that holds the
// outcome (the one that ran CLE, or the page once a Worker's outcome reaches it): released with the outcome
// (releaseSpillFolder, e.g. when <cle-compare> drops it), or by the browser when that page or Worker
// closes. A folder whose lock nobody holds is thus garbage, and every new spilling run sweeps those first:
// files outlive a closed tab or a crash only until the next CLE on this origin, with no bookkeeping.

const ROOT = 'weightlens-spill';
const lockName = (folder: string) => `weightlens-spill:${folder}`;

const spillRoot = async () => (await navigator.storage.getDirectory()).getDirectoryHandle(ROOT, { create: true });

/**
 * Holds `folder`'s lock in this realm until it is released. `steal` takes it over from the realm that
 * holds it (a Worker handing its outcome to the page): that realm's hold ends, with an AbortError here
 * ignored there.
 */
export function holdSpillFolder(folder: string, { steal = false } = {}): Promise<void> {
  return new Promise((held, failed) => {
    navigator.locks
      .request(lockName(folder), { steal }, () => {
        held();
        return new Promise<never>(() => {}); // held until stolen by releaseSpillFolder, or the realm closes
      })
      .catch(failed); // after `held`, only the AbortError of a release: nothing to do
  });
}

/** A new spill folder, locked by this realm; stale folders are swept first, to free their space. */
export async function openSpillFolder(): Promise<{ name: string; dir: FileSystemDirectoryHandle }> {
  await sweepSpillFolders();
  const root = await spillRoot();
  const name = crypto.randomUUID();
  await holdSpillFolder(name); // locked before it exists: a sweep elsewhere never sees it unlocked
  return { name, dir: await root.getDirectoryHandle(name, { create: true }) };
}

/** Deletes every spill folder whose lock nobody holds: those of closed pages and Workers. */
export async function sweepSpillFolders(): Promise<void> {
  const root = await spillRoot();
  const names: string[] = [];
  for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
  for (const name of names) {
    // ifAvailable: taken only if nobody holds it, and held while deleting, so no run can claim it meanwhile.
    await navigator.locks
      .request(lockName(name), { ifAvailable: true }, async (lock) => {
        if (lock) await root.removeEntry(name, { recursive: true });
      })
      .catch(() => {}); // e.g. a file still being read: the next sweep tries again
  }
}

/**
 * Deletes a spill folder and ends its lock, wherever it is held (stolen, then held here while deleting).
 * Never rejects: what cannot be deleted now has no lock any more, so the next sweep deletes it.
 */
export async function releaseSpillFolder(folder: string): Promise<void> {
  try {
    const root = await spillRoot();
    await navigator.locks.request(lockName(folder), { steal: true }, () =>
      root.removeEntry(folder, { recursive: true }),
    );
  } catch {
    // already gone, or left to the sweep
  }
}
