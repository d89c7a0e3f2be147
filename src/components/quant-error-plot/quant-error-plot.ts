import { html, nothing, type TemplateResult } from 'lit';
import type { CleReport } from '../../report/cle-report.js';
import type { StatsReport } from '../../report/stats-report.js';
import {
  QUANT_ERROR_MARKS,
  cleChangeText,
  cleQuantReports,
  hasQuantFigures,
  PER_GROUP_NOT_DRAWN,
  perGroupNotDrawn,
  quantErrorPlot,
  quantErrorRows,
  quantErrorText,
  quantRowGeometry,
  schemeLabel,
  shownBlock,
  type QuantBits,
  type QuantErrorRow,
  type QuantScheme,
  type QuantSort,
} from '../../plot/quant-error.js';
import { formatList } from '../../plot/format.js';
import type { CleCompare } from '../cle-compare/cle-compare.js';
import { ModelViewElement } from '../model-view-element.js';
import { ChartCache, markParts, renderChart, type Chart } from '../shared/chart.js';
import { DataTable } from '../shared/data-table.js';
import { elementById } from '../../binding/element-by-id.js';
import { chartStyles, headerStyles, themeStyles } from '../shared/theme.styles.js';
import { quantErrorTable } from './quant-error-table.js';
import { RowCursor } from './row-cursor.js';
import { styles } from './quant-error-plot.styles.js';
import { plural } from '../../text/plural.js';

const NO_QUANT = 'this report has no quantization figures (make it with weightlens stats --json, without --no-quant)';

/**
 * "Will it survive INT8?" for every weight layer of a model: the SQNR (dB) of its fake-quantized weights
 * for one bit width and scheme, per-tensor (square) and per-channel (dot), with a bar for the gap between
 * them, and per-group (diamond: one scale per block of `block` weights along the layer's input axis), one
 * row per layer, the worst layers (lowest per-tensor SQNR) first. Higher is better; an exact figure (no
 * quantization error) reads "exact" and is left out of the chart with a note, as are per-group figures that
 * are float rounding only (a depthwise Conv: one weight per block). The model's
 * selected layer is highlighted; click a layer, or focus the chart and move with ↑/↓ (or ←/→, Home/End,
 * PageUp/PageDown) and press Enter, to select it: the choice becomes the model's selected layer, which the
 * other elements bound to the same model follow, and is announced as `wl-layer-select`. A results JSON
 * made with `--no-quant` shows a message instead.
 *
 * Before against after CLE: give the CLE results as `cleReport` (e.g. a parsed `weightlens cle --json`), or
 * name a `<cle-compare>` on the page in `cle`. The figures after CLE are then drawn filled, those before
 * hollow, with an arrow for the change of per-tensor SQNR; the worst layers after CLE come first.
 *
 * @tag quant-error-plot
 *
 * @event wl-layer-select - A layer was chosen: `detail.layer` (its name) and `detail.report` (its LayerReport).
 * @event wl-load - The model's results are ready: `detail.report`.
 * @event wl-progress - Loading advanced: `detail.fraction` (0..1, never decreasing) and `detail.text`.
 * @event wl-error - Loading failed: `detail.error` (a WeightlensError naming the file).
 *
 * @csspart base - The element's wrapper.
 * @csspart header - The title (bit width and scheme), the layer count and order, and the key to the marks.
 * @csspart plot - The focusable, scrolling chart area (click a layer, or ↑/↓ and Enter, to select it).
 * @csspart chart - The chart's SVG.
 * @csspart per-tensor - The squares of the per-tensor SQNR.
 * @csspart per-channel - The dots of the per-channel SQNR.
 * @csspart per-group - The diamonds of the per-group SQNR.
 * @csspart gaps - The bars between per-tensor and per-channel SQNR.
 * @csspart before-per-tensor - Comparing with CLE: the hollow squares of the per-tensor SQNR before CLE.
 * @csspart before-per-channel - Comparing with CLE: the hollow dots of the per-channel SQNR before CLE.
 * @csspart changes - Comparing with CLE: the arrows from per-tensor SQNR before to after.
 * @csspart selected-layer - The highlighted row of the selected layer.
 * @csspart cursor - The keyboard cursor's row outline (shown while the chart has keyboard focus).
 * @csspart readout - The layer under the pointer or keyboard cursor, else the selected one (an aria-live region).
 * @csspart note - The note naming exact figures (not drawn) and layers without figures.
 * @csspart table - The `<details>` holding the data table (every layer's figures: INT8 and INT4, symmetric and asymmetric, per-tensor, per-channel and per-group for `block`).
 * @csspart status - The loading, empty, error or no-figures message.
 * @csspart progress - The loading progress bar.
 *
 * @cssproperty [--wl-border-color=#d0d7de] - Table rules (dark: #3d444d).
 * @cssproperty [--wl-accent-color=#0969da] - Focus ring, keyboard cursor and the selected row's edge (dark: #4493f8).
 * @cssproperty [--wl-selected-background=#ddf4ff] - The selected layer's row (dark: #1f3a5f).
 * @cssproperty [--wl-per-tensor-color=#bc4c00] - Per-tensor SQNR squares (dark: #f0883e).
 * @cssproperty [--wl-per-channel-color=#0969da] - Per-channel SQNR dots (dark: #58a6ff).
 * @cssproperty [--wl-per-group-color=#8250df] - Per-group SQNR diamonds (dark: #a371f7).
 * @cssproperty [--wl-gap-color=#8c959f] - The bar between per-tensor and per-channel (dark: #6e7681).
 * @cssproperty [--wl-change-color=#d4a72c] - Comparing with CLE: the arrows of the change (dark: #d29922).
 * @cssproperty [--wl-quant-plot-max-height=32em] - Height of the chart before it scrolls.
 * @cssproperty [--wl-table-max-height=20em] - Height of the data table before it scrolls.
 */
export class QuantErrorPlot extends ModelViewElement {
  static override styles = [themeStyles, headerStyles, chartStyles, styles];

  static override properties = {
    layer: { type: String, reflect: true },
    bits: { type: Number, reflect: true },
    scheme: { type: String, reflect: true },
    sort: { type: String, reflect: true },
    block: { type: Number, reflect: true },
    cle: { type: String, reflect: true },
    cleReport: { attribute: false },
  };

  /**
   * The layer to highlight (its name, or its weight's name). When unset: the layer selected on the model,
   * if any. Updated when the model's selection changes.
   */
  declare layer: string | null;

  /** Bit width of the figures shown: `8` (default) or `4`. */
  declare bits: QuantBits;

  /** Quantization scheme of the figures shown: `symmetric` (default) or `asymmetric`. */
  declare scheme: QuantScheme;

  /** Order of the rows: `worst` (default; lowest per-tensor SQNR first, exact last) or `model` (model order). */
  declare sort: QuantSort;

  /**
   * Block size of the per-group figures shown (e.g. `32`, `64`, `128`: those `weightlens stats` computes by
   * default). Unset, or a size the results do not carry: the smallest they carry.
   */
  declare block: number | null;

  /** The id of a `<cle-compare>` on the page: its results are shown after CLE against before. */
  declare cle: string | null;

  /** CLE results given directly (e.g. a parsed `weightlens cle --json`): shown after CLE against before. Takes precedence over `cle`. */
  declare cleReport: CleReport | null;

  private readonly chart = new ChartCache();
  private followedCle: CleCompare | undefined;
  private readonly onCleChange = () => this.requestUpdate();
  /** The reports made from the last CleReport shown (kept so the chart is drawn again only when it changes). */
  private compared: { cle: CleReport; before: StatsReport; after: StatsReport } | undefined;
  /** The row under the pointer or the keyboard cursor (rank in the shown order); none: the selected row. */
  private readonly cursor = new RowCursor<QuantErrorRow>(this, {
    chart: () => this.chart.node,
    choose: (row) => this.selectLayer(row.name),
  });
  private readonly table = new DataTable(this);

  constructor() {
    super();
    this.layer = null;
    this.bits = 8;
    this.scheme = 'symmetric';
    this.sort = 'worst';
    this.block = null;
    this.cle = null;
    this.cleReport = null;
  }

  private get options() {
    return {
      bits: (Number(this.bits) === 4 ? 4 : 8) as QuantBits,
      scheme: (this.scheme === 'asymmetric' ? 'asymmetric' : 'symmetric') as QuantScheme,
      sort: (this.sort === 'model' ? 'model' : 'worst') as QuantSort,
      block: this.block === null ? null : Number(this.block),
    };
  }

  /** The layers as shown, in the chart's order, with the figures of the chosen bit width and scheme. */
  get rows(): QuantErrorRow[] {
    const { report, before } = this.shown();
    return report && hasQuantFigures(report) ? quantErrorRows(report, { ...this.options, before }) : [];
  }

  /** 'ready' when comparing with CLE results that are there; else the bound model's state. */
  override get status() {
    return this.shownCleReport ? 'ready' : super.status;
  }

  /** The CLE results shown, if comparing: `cleReport`, else those of the `<cle-compare>` named by `cle`. */
  get shownCleReport(): CleReport | undefined {
    return this.cleReport ?? (this.cle ? this.cleCompare()?.shownReport : undefined);
  }

  /** What is drawn: the model's report, or when comparing with CLE the figures after it and before it. */
  private shown(): { report: StatsReport | undefined; before: StatsReport | null } {
    const cle = this.shownCleReport;
    if (!cle) return { report: this.models.report, before: null };
    if (this.compared?.cle !== cle) this.compared = { cle, ...cleQuantReports(cle) };
    return { report: this.compared.after, before: this.compared.before };
  }

  /** The `<cle-compare>` named by `cle`, followed for its results (looked for again on each render). */
  private cleCompare(): CleCompare | undefined {
    const found = this.cle ? (elementById(this, this.cle) as CleCompare | null) : null;
    const element = found?.localName === 'cle-compare' ? found : undefined;
    if (element !== this.followedCle) {
      for (const type of ['wl-cle-applied', 'wl-progress', 'wl-error']) {
        this.followedCle?.removeEventListener(type, this.onCleChange);
        element?.addEventListener(type, this.onCleChange);
      }
      this.followedCle = element;
    }
    return element;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const type of ['wl-cle-applied', 'wl-progress', 'wl-error'])
      this.followedCle?.removeEventListener(type, this.onCleChange);
    this.followedCle = undefined;
  }

  protected override selectionChanged(layer: string | undefined): void {
    if (layer) this.layer = layer;
    else this.requestUpdate();
  }

  /** Chooses `name` as the model's selected layer and emits `wl-layer-select`. */
  selectLayer(name: string): void {
    const layer = this.shown().report?.layers.find((l) => l.name === name);
    if (!layer) return;
    this.layer = name;
    this.models.handle?.select(name);
    this.emit('wl-layer-select', { layer: name, report: layer });
  }

  private selectedName(report: StatsReport): string | undefined {
    const wanted = this.layer || this.models.handle?.selectedLayer;
    if (!wanted) return undefined;
    return (report.layers.find((l) => l.name === wanted) ?? report.layers.find((l) => l.weight === wanted))?.name;
  }

  override render() {
    const { report, before } = this.shown();
    const status = before ? nothing : this.cle && !this.cleReport ? this.renderCleStatus() : this.renderStatus();
    if (status !== nothing || !report) return html`<div part="base">${status}</div>`;
    if (report.layers.length === 0) {
      return html`<div part="base"><p part="status" class="status note" role="status">${report.file} has no weight layers.</p></div>`;
    }
    if (!hasQuantFigures(report)) {
      return html`<div part="base"><p part="status" class="status note" role="status">${report.file}: ${NO_QUANT}</p></div>`;
    }
    const options = { ...this.options, before };
    const selected = this.selectedName(report);
    const rows = quantErrorRows(report, options);
    const chart = this.chartFor(report, before, selected);
    const selectedRank = rows.findIndex((r) => r.name === selected);
    const cursor = this.cursor.at(rows.length);
    const read = rows[cursor ?? selectedRank];
    const { top, rowHeight, height } = quantRowGeometry(rows.length);
    const block = shownBlock(report, options.block);
    return html`<div part="base">
      <div part="header" class="header">
        <span class="layer-name">${schemeLabel(options.bits, options.scheme)} SQNR per layer${before ? ', after CLE against before' : ''}</span>
        <span class="layer-meta">${plural(rows.length, 'layer')} · ${options.sort === 'worst' ? `worst per-tensor${before ? ' after CLE' : ''} first` : 'model order'} · higher is better</span>
        <span class="keys" aria-hidden="true">
          <span class="key"><svg width="12" height="14" viewBox="0 0 12 14"><rect x="2" y="3" width="8" height="8" fill="var(--_per-tensor-color)"/></svg>per-tensor</span>
          <span class="key"><svg width="12" height="14" viewBox="0 0 12 14"><circle cx="6" cy="7" r="4" fill="var(--_per-channel-color)"/></svg>per-channel</span>
          <span class="key"><svg width="16" height="14" viewBox="0 0 16 14"><line x1="0" x2="16" y1="7" y2="7" stroke="var(--_gap-color)" stroke-width="2.5"/></svg>gap</span>
          ${block === null ? nothing : html`<span class="key"><svg width="12" height="14" viewBox="0 0 12 14"><path d="M6 2 L11 7 L6 12 L1 7 Z" fill="var(--_per-group-color)"/></svg>per-group g${block}</span>`}
          ${
            before
              ? html`<span class="key"><svg width="12" height="14" viewBox="0 0 12 14"><rect x="2.5" y="3.5" width="7" height="7" fill="none" stroke="var(--_per-tensor-color)" stroke-width="1.5"/></svg>before CLE</span>
                <span class="key"><svg width="16" height="14" viewBox="0 0 16 14"><path d="M1 7 H14 M10 3 L14 7 L10 11" fill="none" stroke="var(--_change-color)" stroke-width="1.5"/></svg>change</span>`
              : nothing
          }
        </span>
      </div>
      ${before ? html`<p part="note" class="note">${cleChangeText(rows)}</p>` : nothing}
      <div
        part="plot"
        class="plot"
        tabindex="0"
        role="group"
        aria-label=${`${schemeLabel(options.bits, options.scheme)} SQNR per layer. Click a layer, or press ↑ ↓ and Enter, to select it.`}
        @keydown=${(e: KeyboardEvent) => this.cursor.onKey(e, rows, selectedRank)}
        @click=${(e: MouseEvent) => this.cursor.onClick(e, rows)}
        @pointermove=${(e: PointerEvent) => this.cursor.set(this.cursor.rankAt(e, rows.length))}
        @pointerleave=${() => this.cursor.set(null)}
        @blur=${() => this.cursor.set(null)}
      >
        <div class="canvas">
          ${chart}
          ${
            cursor !== null
              ? html`<div part="cursor" class="cursor" style=${`top: ${((top + cursor * rowHeight) / height) * 100}%; height: ${(rowHeight / height) * 100}%`}></div>`
              : nothing
          }
        </div>
      </div>
      <div part="readout" class="readout" aria-live="polite" aria-atomic="true">
        ${read ? this.layerLine(read, rows.length, read.name === selected) : html`<span class="hint">Click a layer, or focus the chart and press ↑ ↓ and Enter, to select it.</span>`}
      </div>
      ${this.renderNote(rows)}
      ${quantErrorTable(this.table, rows, { ...options, block, selected, comparing: before !== null })}
    </div>`;
  }

  /** While the named `<cle-compare>` has no results: missing, equalizing, failed. */
  private renderCleStatus(): TemplateResult {
    const cle = this.cleCompare();
    if (!cle)
      return html`<div part="status error" class="status error" role="alert">No &lt;cle-compare&gt; with id "${this.cle}" on the page.</div>`;
    if (cle.status === 'error')
      return html`<div part="status error" class="status error" role="alert">CLE failed: ${cle.error?.message ?? 'unknown error'}</div>`;
    if (cle.status === 'loading')
      return html`<div part="status" class="status" role="status">Waiting for CLE (&lt;cle-compare id="${this.cle}"&gt;)…</div>`;
    return html`<div part="status" class="status" role="status">No CLE results yet.</div>`;
  }

  private chartFor(report: StatsReport, before: StatsReport | null, selected: string | undefined): Chart {
    const width = this.width.value;
    const options = { ...this.options, width, selected: selected ?? null, before };
    return this.chart.get(JSON.stringify({ ...this.options, width, selected: selected ?? null }), report, () =>
      renderChart(
        quantErrorPlot(report, options),
        quantErrorText(report, options),
        'chart',
        markParts(QUANT_ERROR_MARKS, { selected: 'selected-layer', gap: 'gaps', change: 'changes' }),
      ),
    );
  }

  private layerLine(row: QuantErrorRow, total: number, selected: boolean): TemplateResult {
    return html`<strong>Layer ${row.rank + 1} of ${total}</strong>${this.options.sort === 'worst' ? ' (worst first)' : ''}: ${row.name} (${row.op}) —
      per-tensor ${row.perTensorText}, per-channel ${row.perChannelText}, gap ${row.gapText}${
        row.block === null ? nothing : `, per-group g${row.block} ${row.perGroupText}`
      }${
        row.before
          ? html`; before CLE per-tensor ${row.before.perTensorText}, per-channel ${row.before.perChannelText} (per-tensor ${row.before.changeText})`
          : nothing
      }${selected ? html` <span class="hint">(selected)</span>` : nothing}`;
  }

  private renderNote(rows: QuantErrorRow[]) {
    const exact = rows.filter((r) => r.available && (r.perTensor === null || r.perChannel === null)).map((r) => r.name);
    const unavailable = rows.filter((r) => !r.available).map((r) => r.name);
    const groupNotDrawn = perGroupNotDrawn(rows);
    if (!exact.length && !unavailable.length && !groupNotDrawn.length) return nothing;
    return html`<p part="note" class="note">
      ${exact.length ? html`Exact (no quantization error, not drawn): ${formatList(exact, 10)}. ` : nothing}
      ${unavailable.length ? html`No figures (the weight holds NaN or ±Inf): ${formatList(unavailable, 10)}. ` : nothing}
      ${groupNotDrawn.length ? html`${PER_GROUP_NOT_DRAWN}: ${formatList(groupNotDrawn, 10)}.` : nothing}
    </p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'quant-error-plot': QuantErrorPlot;
  }
}
