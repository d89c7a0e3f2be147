import type { LoadProgress } from '../model/model-handle.js';

/** Loading advanced: `fraction` only grows, from 0 to 1; `text` says what is being done. */
export type WlProgressEvent = CustomEvent<LoadProgress>;

declare global {
  interface GlobalEventHandlersEventMap {
    'wl-progress': WlProgressEvent;
  }
}
