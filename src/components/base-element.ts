// The base of every kit element: typed emit() and an idempotent, SSR-safe define().
import { LitElement } from 'lit';
import type { WlEventDetails } from '../events/index.js';

/**
 * The custom properties every element reads (src/components/shared/theme.styles.ts); each element lists
 * the ones it adds, and says more where it uses one of these for something of its own.
 *
 * @cssproperty [--wl-color=#1f2328] - Text (and a chart's axes) (dark: #e6edf3).
 * @cssproperty [--wl-background=transparent] - Background (unset: the page's shows through; inputs use the system Canvas colour).
 * @cssproperty [--wl-muted-color=#57606a] - Secondary text (dark: #9ea7b3).
 * @cssproperty [--wl-error-color=#b42318] - Error messages (dark: #ff8f80).
 * @cssproperty [--wl-radius=6px] - Corner radius of controls.
 * @cssproperty [--wl-font=system-ui] - Font family.
 */
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
