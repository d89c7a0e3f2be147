// The base of every kit element: typed emit() and an idempotent, SSR-safe define().
import { LitElement } from 'lit';
import type { WlEventDetails } from '../events/index.js';

export class WeightlensElement extends LitElement {
  /** Dispatches a `wl-*` event that bubbles out of shadow roots. */
  emit<K extends keyof WlEventDetails>(name: K, detail: WlEventDetails[K]): CustomEvent<WlEventDetails[K]> {
    const event = new CustomEvent(name, { detail, bubbles: true, composed: true });
    this.dispatchEvent(event);
    return event;
  }

  /** Registers the element once; a no-op where there is no custom element registry (Node, SSR). */
  static define(tag: string): void {
    const registry = globalThis.customElements;
    if (registry && !registry.get(tag)) registry.define(tag, this);
  }
}
