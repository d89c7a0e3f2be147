export type { WlLoadEvent } from './wl-load.js';
export type { WlProgressEvent } from './wl-progress.js';
export type { WlErrorEvent } from './wl-error.js';
export type { WlLayerSelectEvent } from './wl-layer-select.js';
export type { WlCleAppliedEvent } from './wl-cle-applied.js';
export type { WlPlanChosenEvent } from './wl-plan-chosen.js';
export type { WlQuantizedEvent } from './wl-quantized.js';
export type { WlComparedEvent } from './wl-compared.js';
export type { WlCompressibilityEvent } from './wl-compressibility.js';

/** Event name -> detail type, for WeightlensElement.emit(). */
export interface WlEventDetails {
  'wl-load': import('./wl-load.js').WlLoadEvent['detail'];
  'wl-progress': import('./wl-progress.js').WlProgressEvent['detail'];
  'wl-error': import('./wl-error.js').WlErrorEvent['detail'];
  'wl-layer-select': import('./wl-layer-select.js').WlLayerSelectEvent['detail'];
  'wl-cle-applied': import('./wl-cle-applied.js').WlCleAppliedEvent['detail'];
  'wl-plan-chosen': import('./wl-plan-chosen.js').WlPlanChosenEvent['detail'];
  'wl-quantized': import('./wl-quantized.js').WlQuantizedEvent['detail'];
  'wl-compared': import('./wl-compared.js').WlComparedEvent['detail'];
  'wl-compressibility': import('./wl-compressibility.js').WlCompressibilityEvent['detail'];
}
