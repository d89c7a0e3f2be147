// Finds the element an attribute names by id (`model="…"`, `cle="…"`): in the host's own tree (a
// shadow root) first, then the document. When it is not there yet, or is not upgraded yet, the host is
// asked to update again once it may be: after parsing, or once its tag is defined.
import type { ReactiveControllerHost } from 'lit';

/** The element with this id, or null for now (the host updates again when it may have appeared). */
export function elementById(host: ReactiveControllerHost & HTMLElement, id: string): HTMLElement | null {
  const root = host.getRootNode() as Document | ShadowRoot;
  const found = root.getElementById?.(id) ?? document.getElementById(id);
  const tag = found?.localName;
  if (tag && tag.includes('-') && !customElements.get(tag)) {
    void customElements.whenDefined(tag).then(() => host.requestUpdate());
  } else if (!found && document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => host.requestUpdate(), { once: true });
  }
  return found;
}
