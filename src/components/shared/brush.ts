// Drag across a chart to zoom to the span dragged (weight-range-plot: channels; weight-histogram:
// weight values). A drag too short to be meant is a click, not a zoom.
import { html, nothing, type ReactiveControllerHost } from 'lit';
import type { Chart } from './chart.js';
import { xPercent } from './chart-geometry.js';

export interface BrushOptions {
  /** The value under the pointer as the chart reads it (e.g. a whole channel), or null before layout. */
  valueAt: (e: PointerEvent) => number | null;
  /** Whether a drag from `from` to `to` is a zoom rather than a click. */
  isZoom: (from: number, to: number) => boolean;
  /** Zooms to the span dragged, `[from, to]` as dragged (either order). */
  zoom: (span: [number, number]) => void;
  /** How far the band drawn reaches past the span's ends, in x values (0.5: whole channels). */
  pad?: number;
}

interface Drag {
  pointer: number;
  from: number;
  to: number;
  moved: boolean;
}

export class Brush {
  private drag: Drag | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: BrushOptions,
  ) {}

  /** The band being dragged out, over `chart`. */
  render(chart: Chart) {
    const drag = this.drag;
    if (!drag?.moved) return nothing;
    const pad = this.options.pad ?? 0;
    const a = xPercent(chart, Math.min(drag.from, drag.to) - pad);
    const b = xPercent(chart, Math.max(drag.from, drag.to) + pad);
    return html`<div part="brush" class="brush" style="left: ${a}%; width: ${b - a}%"></div>`;
  }

  readonly onPointerDown = (e: PointerEvent): void => {
    const value = e.button === 0 ? this.options.valueAt(e) : null;
    if (value === null) return;
    try {
      (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    } catch {
      // Not an active pointer (a synthetic event): dragging still works while it stays over the plot.
    }
    this.set({ pointer: e.pointerId, from: value, to: value, moved: false });
  };

  readonly onPointerMove = (e: PointerEvent): void => {
    const drag = this.drag;
    if (!drag || drag.pointer !== e.pointerId) return;
    const value = this.options.valueAt(e);
    if (value !== null && value !== drag.to) this.set({ ...drag, to: value, moved: true });
  };

  readonly onPointerUp = (e: PointerEvent): void => {
    const drag = this.drag;
    if (!drag || drag.pointer !== e.pointerId) return;
    this.set(undefined);
    if (drag.moved && this.options.isZoom(drag.from, drag.to)) this.options.zoom([drag.from, drag.to]);
  };

  readonly onPointerCancel = (): void => this.set(undefined);

  private set(drag: Drag | undefined): void {
    this.drag = drag;
    this.host.requestUpdate();
  }
}
