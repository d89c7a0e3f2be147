// The reading of a per-channel (or per-bin) chart, shared by every element with a readout: focus starts
// at the shown span's first index, the keys of channelAfterKey move it, the pointer reads the index under
// it; a cursor marks it and an aria-live region says it. The reading belongs to the subject (a layer, a
// histogram) it was taken on: another subject starts afresh.
import { html, nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import type { ChannelDomain } from '../../plot/channels.js';
import type { Brush } from './brush.js';
import { channelAfterKey } from './channel-keys.js';
import type { Chart } from './chart.js';
import { xPercent, xValueAt } from './chart-geometry.js';

export interface ChannelReadoutOptions<S> {
  /** The index under an x value (default: the nearest whole channel); clamped to the span afterwards. */
  indexAt?: (value: number, subject: S) => number;
  /** The x values an index covers, drawn as a band (default: a line at the index itself). */
  spanOf?: (index: number, subject: S) => readonly [number, number];
}

export class ChannelReadout<S extends object> {
  private read: { subject: S; index: number } | undefined;
  private shown: { subject: S; domain: ChannelDomain; chart: Chart } | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: ChannelReadoutOptions<S> = {},
  ) {}

  /** What the chart shows now; called on every render, before the reading is used. */
  show(subject: S, domain: ChannelDomain, chart: Chart): void {
    this.shown = { subject, domain, chart };
  }

  /** The index being read, if it was read on the shown subject and lies in the shown span. */
  get reading(): number | null {
    const { read, shown } = this;
    if (!read || !shown || read.subject !== shown.subject) return null;
    const [lo, hi] = shown.domain;
    return read.index >= lo && read.index <= hi ? read.index : null;
  }

  /** Reads `index` of the shown subject. */
  set(index: number): void {
    if (!this.shown || this.reading === index) return;
    this.read = { subject: this.shown.subject, index };
    this.host.requestUpdate();
  }

  /** The focusable plot area: the chart, its cursor and (to zoom) a brush, with their keys and pointer. */
  plot(label: string, chart: Chart, brush?: Brush): TemplateResult {
    return html`<div
      part="plot"
      class="plot"
      tabindex="0"
      role="group"
      aria-label=${label}
      @keydown=${this.onKeyDown}
      @focus=${this.onFocus}
      @pointerdown=${brush?.onPointerDown ?? nothing}
      @pointermove=${(e: PointerEvent) => {
        brush?.onPointerMove(e);
        this.onPointerMove(e);
      }}
      @pointerup=${brush?.onPointerUp ?? nothing}
      @pointercancel=${brush?.onPointerCancel ?? nothing}
    >
      ${chart}${this.cursor()}${brush?.render(chart) ?? nothing}
    </div>`;
  }

  /** The aria-live readout: `text(index)` for the reading, else the hint. */
  readout(text: (index: number) => unknown, hint: string): TemplateResult {
    const index = this.reading;
    return index === null
      ? html`<div part="readout" class="readout hint" aria-live="polite" aria-atomic="true">${hint}</div>`
      : html`<div part="readout" class="readout" aria-live="polite" aria-atomic="true">${text(index)}</div>`;
  }

  private cursor() {
    const index = this.reading;
    if (index === null || !this.shown) return nothing;
    const { chart, subject } = this.shown;
    const span = this.options.spanOf?.(index, subject);
    if (!span) return html`<div part="cursor" class="cursor line" style="left: ${xPercent(chart, index)}%"></div>`;
    const [a, b] = [xPercent(chart, span[0]), xPercent(chart, span[1])];
    const minWidth = 100 / chart.width.baseVal.value; // at least a pixel wide
    return html`<div part="cursor" class="cursor band" style="left: ${a}%; width: ${Math.max(minWidth, b - a)}%"></div>`;
  }

  private readonly onFocus = (): void => {
    if (this.shown && this.reading === null) this.set(this.shown.domain[0]);
  };

  private readonly onKeyDown = (e: KeyboardEvent): void => {
    if (!this.shown) return;
    const next = channelAfterKey(e.key, this.reading, this.shown.domain);
    if (next === null) return;
    e.preventDefault();
    this.set(next);
  };

  /** The index under the pointer, in the shown span; null before the chart is laid out. */
  indexAt(e: PointerEvent): number | null {
    if (!this.shown) return null;
    const { chart, subject, domain } = this.shown;
    const value = xValueAt(chart, e);
    if (value === null) return null;
    const index = this.options.indexAt?.(value, subject) ?? Math.round(value);
    return Math.min(domain[1], Math.max(domain[0], index));
  }

  private readonly onPointerMove = (e: PointerEvent): void => {
    const index = this.indexAt(e);
    if (index !== null) this.set(index);
  };
}
