import type { StatsReport } from '../report/stats-report.js';

/** A model (or a results JSON) finished loading and its statistics are ready. */
export type WlLoadEvent = CustomEvent<{ report: StatsReport }>;

declare global {
  interface GlobalEventHandlersEventMap {
    'wl-load': WlLoadEvent;
  }
}
