import type { LayerReport } from '../report/stats-report.js';

/** The user chose a layer (e.g. clicked a row of <layer-table>); bound elements follow it. */
export type WlLayerSelectEvent = CustomEvent<{ layer: string; report: LayerReport }>;

declare global {
  interface GlobalEventHandlersEventMap {
    'wl-layer-select': WlLayerSelectEvent;
  }
}
