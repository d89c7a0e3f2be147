// Handles for models given by URL, shared by every element of the page that names the same URL, so
// the model is fetched and analysed once. Reference-counted: when the last element lets go, the handle is
// disposed — a load in progress cancelled, kept weights released — after a microtask, so moving an element
// in the DOM does not cancel it.
import type { Analyzer } from '../pipeline/analyzer.js';
import { analyzeInWorker } from '../worker/client.js';
import type { ModelHandle } from './model-handle.js';
import { workerModelHandle } from './worker-models.js';

interface Entry {
  handle: ModelHandle;
  refs: number;
}

const byUrl = new Map<string, Entry>();

/** The shared handle for `url` (absolute); the first caller starts the load. */
export function acquireUrlModel(url: string, analyzer: Analyzer = analyzeInWorker): ModelHandle {
  let entry = byUrl.get(url);
  if (!entry) {
    entry = { handle: workerModelHandle(analyzer), refs: 0 };
    byUrl.set(url, entry);
    void entry.handle.load({ kind: 'url', url });
  }
  entry.refs++;
  return entry.handle;
}

export function releaseUrlModel(url: string): void {
  const entry = byUrl.get(url);
  if (!entry) return;
  entry.refs--;
  queueMicrotask(() => {
    if (entry.refs > 0 || byUrl.get(url) !== entry) return;
    byUrl.delete(url);
    entry.handle.dispose();
  });
}
