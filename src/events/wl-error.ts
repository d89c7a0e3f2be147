import type { WeightlensError } from '../errors.js';

/** Loading failed; `error.code` is stable, `error.message` names the file, tensor and problem. */
export type WlErrorEvent = CustomEvent<{ error: WeightlensError }>;

declare global {
  interface GlobalEventHandlersEventMap {
    'wl-error': WlErrorEvent;
  }
}
