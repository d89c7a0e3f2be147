import type { CompressReport } from '../report/compress-report.js';

/**
 * <compressibility-plot> measured its model's compressibility, or took it again at another error: `report`
 * is the CompressReport shown (each layer's best choice and the totals within `report.error`).
 */
export type WlCompressibilityEvent = CustomEvent<{ report: CompressReport }>;

declare global {
  interface GlobalEventHandlersEventMap {
    'wl-compressibility': WlCompressibilityEvent;
  }
}
