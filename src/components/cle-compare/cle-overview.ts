// <cle-compare>'s model-wide view: every layer's largest relative range before and after CLE, worst first,
// the selected layer banded. Hover reads a layer; a click, or ←/→ (Home/End) on the focused chart, selects one.
import { html, nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import type { CleReport } from '../../report/cle-report.js';
import {
  CLE_LAYER_MARKS,
  cleLayerRows,
  cleLayersPlot,
  cleLayersText,
  type CleLayerRow,
} from '../../plot/cle-layers.js';
import { plural } from '../../text/plural.js';
import { channelAfterKey } from '../shared/channel-keys.js';
import { ChartCache, markParts, renderChart } from '../shared/chart.js';
import { xValueAt } from '../shared/chart-geometry.js';
import { DataTable, layerRow } from '../shared/data-table.js';

export class CleOverview {
  private readonly chart = new ChartCache();
  private readonly table: DataTable;
  /** The layer under the pointer (its index in the rows), read instead of the selected one. */
  private hovered: number | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly select: (name: string) => void,
  ) {
    this.table = new DataTable(host);
  }

  render(report: CleReport, selectedName: string | undefined, width: number): TemplateResult {
    const rows = cleLayerRows(report);
    const chart = this.chart.get(`${width}|${selectedName}`, report, () =>
      renderChart(
        cleLayersPlot(report, { width, height: 200, selected: selectedName }),
        cleLayersText(report, selectedName),
        'overview-chart',
        markParts(CLE_LAYER_MARKS, {
          selected: 'selected-layer',
          change: 'layer-changes',
          before: 'layers-before',
          after: 'layers-after',
        }),
      ),
    );
    const selected = rows.findIndex((r) => r.name === selectedName);
    const read = rows[this.hovered ?? selected];
    return html`<section part="overview" class="overview" aria-label="Largest relative range per layer">
      <div part="overview-header" class="header">
        <span class="layer-name">Largest relative range per layer</span>
        <span class="layer-meta">${plural(rows.length, 'layer')}, worst INT8 SQNR first · log scale</span>
        <span class="keys" aria-hidden="true">
          <span class="key"><svg width="12" height="14" viewBox="0 0 12 14"><circle cx="6" cy="7" r="3.5" fill="none" stroke="var(--_before-color)" stroke-width="1.5"/></svg>before</span>
          <span class="key"><svg width="12" height="14" viewBox="0 0 12 14"><circle cx="6" cy="7" r="3.5" fill="var(--_after-color)"/></svg>after</span>
          <span class="key"><svg width="12" height="14" viewBox="0 0 12 14"><path d="M6 1 V12 M2 8 L6 12 L10 8" fill="none" stroke="var(--_change-color)" stroke-width="2"/></svg>change</span>
        </span>
      </div>
      <div
        part="overview-plot"
        class="plot overview-plot"
        tabindex="0"
        role="group"
        aria-label="Layers before and after CLE. Click a layer, or press ← →, to select it."
        @keydown=${(e: KeyboardEvent) => this.onKey(e, rows, selected)}
        @click=${(e: MouseEvent) => this.onClick(e, rows)}
        @pointermove=${(e: PointerEvent) => this.setHovered(this.indexAt(e, rows))}
        @pointerleave=${() => this.setHovered(null)}
      >
        ${chart}
      </div>
      <div part="overview-readout" class="readout" aria-live="polite" aria-atomic="true">
        ${read ? layerLine(read, rows.length, read.index === selected) : html`<span class="hint">Click a layer, or focus the chart and press ← →, to select it.</span>`}
      </div>
      ${this.renderTable(rows, selectedName)}
    </section>`;
  }

  private renderTable(rows: CleLayerRow[], selected: string | undefined): TemplateResult {
    return this.table.render({
      part: 'overview-table',
      summary: `Data table: ${plural(rows.length, 'layer')}`,
      label: 'Data table of the layers before and after CLE',
      caption: 'Largest relative range of each layer before and after CLE',
      head: html`<tr><th scope="col">#</th><th scope="col">Layer</th><th scope="col">Op</th><th scope="col">INT8 SQNR before</th><th scope="col">Before</th><th scope="col">After</th></tr>`,
      rows: () => rows,
      row: (r) =>
        layerRow(
          r,
          selected,
          html`<td>${r.op}</td><td>${r.sqnrBeforeText || '—'}</td><td>${r.beforeText}</td><td>${r.afterText}</td>`,
        ),
    });
  }

  /** The row under the pointer: the layer nearest to it on the chart's x scale. */
  private indexAt(e: MouseEvent, rows: CleLayerRow[]): number | null {
    const chart = this.chart.node;
    const x = chart && rows.length ? xValueAt(chart, e) : null;
    return x === null || x === undefined ? null : Math.min(rows.length - 1, Math.max(0, Math.round(x)));
  }

  private setHovered(i: number | null): void {
    if (i === this.hovered) return;
    this.hovered = i;
    this.host.requestUpdate();
  }

  private onClick(e: MouseEvent, rows: CleLayerRow[]): void {
    const i = this.indexAt(e, rows);
    if (i !== null) this.select(rows[i]!.name);
  }

  private onKey(e: KeyboardEvent, rows: CleLayerRow[], selected: number): void {
    const next = channelAfterKey(e.key, selected >= 0 ? selected : null, [0, rows.length - 1]);
    if (next === null) return;
    e.preventDefault();
    this.hovered = null;
    const row = rows[next];
    if (row) this.select(row.name);
  }
}

/** "3 of 40: conv2 (Conv) — INT8 SQNR before 31.2 dB — largest relative range 12.1 → 3.4 (selected)". */
function layerLine(row: CleLayerRow, total: number, selected: boolean): TemplateResult {
  return html`<strong>${row.index + 1} of ${total}</strong>: ${row.name} (${row.op})${
    row.sqnrBeforeText ? ` — INT8 SQNR before ${row.sqnrBeforeText}` : nothing
  } — largest relative range
    ${row.beforeText} → ${row.afterText}${selected ? html` <span class="hint">(selected)</span>` : nothing}`;
}
