import type { CleReport } from '../report/cle-report.js';

/** Cross Layer Equalization finished (or its results were given) and is shown: what it did, per layer before and after. */
export type WlCleAppliedEvent = CustomEvent<{ report: CleReport }>;

declare global {
  interface GlobalEventHandlersEventMap {
    'wl-cle-applied': WlCleAppliedEvent;
  }
}
