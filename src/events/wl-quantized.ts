import type { QuantizeReport } from '../pipeline/quantize-model.js';

/** <quant-plan> quantized the model by its plan: the QDQ model is ready to save; `report` says what was stored. */
export type WlQuantizedEvent = CustomEvent<{ report: QuantizeReport }>;

declare global {
  interface GlobalEventHandlersEventMap {
    'wl-quantized': WlQuantizedEvent;
  }
}
