import type { Progress } from '../progress.js';

/** Loading advanced: `fraction` only grows, from 0 to 1; `text` says what is being done. */
export type WlProgressEvent = CustomEvent<Progress>;

declare global {
  interface GlobalEventHandlersEventMap {
    'wl-progress': WlProgressEvent;
  }
}
