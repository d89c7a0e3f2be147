import type { DiffReport } from '../report/diff-report.js';

/** <model-compare> compared its two models (or was given the comparison) and shows it: `report` is the DiffReport. */
export type WlComparedEvent = CustomEvent<{ report: DiffReport }>;

declare global {
  interface GlobalEventHandlersEventMap {
    'wl-compared': WlComparedEvent;
  }
}
