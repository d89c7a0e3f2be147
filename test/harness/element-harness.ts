// Browser-only test harness for the kit's elements (in the spirit of Material Web's harnesses): tests
// mount an element, wait for it to be ready and read its parts, readout, alert and table rows through
// here, never by digging in shadow roots themselves.
import axe from 'axe-core';
import type { LitElement } from 'lit';
import type { ModelStatus } from '../../src/binding/model-handle.js';
import type { Chart } from '../../src/components/shared/chart.js';
import type { ModelViewElement } from '../../src/components/model-view-element.js';
import type { StatsReport } from '../../src/report/stats-report.js';

type KitElement = LitElement & { readonly status: ModelStatus };
/** The tags of the elements that show a model's results. */
type ModelViewTag = {
  [K in keyof HTMLElementTagNameMap]: HTMLElementTagNameMap[K] extends ModelViewElement ? K : never;
}[keyof HTMLElementTagNameMap];

const mounted = new Set<HTMLElement>();

/** Resolves once `check()` is truthy (polled every animation frame), or rejects after `timeout` ms. */
export async function waitFor<T>(check: () => T, what: string, timeout = 20000): Promise<NonNullable<T>> {
  const start = performance.now();
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (performance.now() - start > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await nextFrame();
  }
}

export const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));

const text = (el: Element | null | undefined) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();

export interface MountOptions {
  attributes?: Record<string, string>;
  properties?: Record<string, unknown>;
  /** Width of the container the element fills, in CSS pixels. */
  width?: number;
  /** An id for the element (for `model="<id>"` bindings). */
  id?: string;
}

export class ElementHarness<E extends KitElement = KitElement> {
  constructor(readonly element: E) {}

  /** Creates `<tag>` in a container of the given width at the end of the body. */
  static mount<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    options: MountOptions = {},
  ): ElementHarness<HTMLElementTagNameMap[K] & KitElement> {
    const container = document.createElement('div');
    container.style.width = `${options.width ?? 800}px`;
    const el = document.createElement(tag) as HTMLElementTagNameMap[K] & KitElement;
    if (options.id) el.id = options.id;
    for (const [name, value] of Object.entries(options.attributes ?? {})) el.setAttribute(name, value);
    Object.assign(el, options.properties ?? {});
    container.append(el);
    document.body.append(container);
    mounted.add(container);
    return new ElementHarness(el);
  }

  /** The results `<tag src=…>` loads (then it is removed): what a test compares the element's drawing with. */
  static async reportLoadedBy(tag: ModelViewTag, src: string): Promise<StatsReport> {
    const h = await ElementHarness.mount(tag, { attributes: { src } }).ready();
    const report = (h.element as ModelViewElement).handle!.report!;
    ElementHarness.cleanup();
    return report;
  }

  /** Removes every element mounted so far (and so releases their models). */
  static cleanup(): void {
    for (const container of mounted) container.remove();
    mounted.clear();
  }

  get root(): ShadowRoot {
    return this.element.shadowRoot!;
  }

  /** Waits for the first update and for layout (the ResizeObserver's width) to be rendered. */
  async settled(): Promise<void> {
    await this.element.updateComplete;
    await nextFrame();
    await nextFrame();
    await this.element.updateComplete;
  }

  /** Waits until the element's model is ready (or, with `status`, in that state) and rendered. */
  async ready(status: ModelStatus = 'ready'): Promise<this> {
    await waitFor(
      () => this.element.status === status || (status !== 'error' && this.element.status === 'error'),
      `status "${status}"`,
    );
    if (this.element.status !== status)
      throw new Error(`expected status "${status}", got "${this.element.status}": ${this.alert()}`);
    await this.settled();
    return this;
  }

  /** axe-core's accessibility violations in the element as it is now: one line each, the rule and the offending HTML. */
  async accessibilityViolations(): Promise<string[]> {
    const result = await axe.run(this.element);
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`);
  }

  part<T extends Element = HTMLElement>(name: string): T | null {
    return this.root.querySelector<T>(`[part~="${name}"]`);
  }

  parts<T extends Element = HTMLElement>(name: string): T[] {
    return [...this.root.querySelectorAll<T>(`[part~="${name}"]`)];
  }

  /** The chart SVG with this part name (Plot's scale(x|y) attached). */
  chart(name = 'chart'): Chart {
    const chart = this.part<SVGSVGElement>(name);
    if (!chart) throw new Error(`no chart part "${name}"`);
    return chart as Chart;
  }

  /** The drawn shapes (lines, circles, paths, rects) of the mark layer with this part name; [] if absent. */
  marks(name: string, chart = 'chart'): SVGGraphicsElement[] {
    const layer = this.chart(chart).querySelector(`[part~="${name}"]`);
    return layer ? [...layer.querySelectorAll<SVGGraphicsElement>('line, circle, path, rect, text')] : [];
  }

  /** The text of the readout part, white space collapsed. */
  readout(): string {
    return text(this.part('readout'));
  }

  /** The text of the status part (empty, loading, error or a pointer to the model source's error). */
  statusText(): string {
    return text(this.part('status'));
  }

  /** The text of the role="alert" message, or null when there is none. */
  alert(): string | null {
    const el = this.root.querySelector('[role="alert"]');
    return el ? text(el) : null;
  }

  /** Text of each body row of the table inside part `table` (a <details> is opened first). */
  async tableRows(part = 'table'): Promise<string[][]> {
    const holder = this.part(part);
    if (!holder) throw new Error(`no part "${part}"`);
    if (holder instanceof HTMLDetailsElement && !holder.open) {
      holder.open = true;
      await waitFor(() => holder.querySelector('tbody tr'), 'the data table to render');
      await this.element.updateComplete;
    }
    const table = holder instanceof HTMLTableElement ? holder : holder.querySelector('table')!;
    return [...table.tBodies[0]!.rows].map((row) => [...row.cells].map((cell) => text(cell)));
  }

  /** Focuses the element's part (e.g. the plot) or a given element inside it. */
  async focus(target: string | HTMLElement): Promise<HTMLElement> {
    const el = typeof target === 'string' ? this.part(target) : target;
    if (!el) throw new Error(`nothing to focus: ${String(target)}`);
    el.focus();
    await this.element.updateComplete;
    return el;
  }

  /** The focused element inside the shadow root. */
  get focused(): Element | null {
    return this.root.activeElement;
  }

  /** Presses `key` on the focused element (a keydown as the browser would send it). */
  async press(key: string): Promise<void> {
    const target = this.root.activeElement ?? this.element;
    target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, composed: true, cancelable: true }));
    await this.element.updateComplete;
    await nextFrame();
    await this.element.updateComplete;
  }

  async click(target: string | Element): Promise<void> {
    const el = typeof target === 'string' ? this.part(target) : target;
    if (!el) throw new Error(`nothing to click: ${String(target)}`);
    (el as HTMLElement).click();
    await this.element.updateComplete;
  }

  /** Sends a pointer event at the chart's x pixel (in its own coordinates) and vertical middle. */
  async pointer(type: 'pointermove' | 'pointerdown' | 'pointerup', x: number, chart = 'chart'): Promise<void> {
    const svg = this.chart(chart);
    const box = svg.getBoundingClientRect();
    const clientX = box.left + (x / svg.width.baseVal.value) * box.width;
    svg.dispatchEvent(
      new PointerEvent(type, {
        clientX,
        clientY: box.top + box.height / 2,
        bubbles: true,
        composed: true,
        pointerId: 1,
        button: 0,
        isPrimary: true,
      }),
    );
    await this.element.updateComplete;
  }

  /** Types `value` into the input part and fires input and change, as a person would. */
  async type(part: string, value: string): Promise<void> {
    const input = this.part<HTMLInputElement>(part);
    if (!input) throw new Error(`no input part "${part}"`);
    input.value = value;
    input.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    input.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
    await this.element.updateComplete;
  }

  /** Resolves with the next event of this name from the element. */
  nextEvent<K extends keyof GlobalEventHandlersEventMap>(name: K): Promise<GlobalEventHandlersEventMap[K]> {
    return new Promise((resolve) => this.element.addEventListener(name, resolve as EventListener, { once: true }));
  }
}
