import { html, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { LayerReport, StatsReport } from '../../report/stats-report.js';
import { formatNumber } from '../../plot/format.js';
import { formatDb, shownBlock } from '../../plot/quant-error.js';
import { ModelViewElement } from '../model-view-element.js';
import { opLabel } from '../shared/layer-header.js';
import { deadChannelNote } from '../../report/dead-channels.js';
import { sqnrRank } from '../../report/worst-layers.js';
import { groupSqnr } from '../../report/quant-error.js';
import { RowWindow } from '../shared/row-window.js';
import { themeStyles } from '../shared/theme.styles.js';
import { styles } from './layer-table.styles.js';

/**
 * The columns, in order; `key` is what `sort` names. `sqnr`, `groupSqnr` and `stored` show only when the
 * results carry them (`groupSqnr`'s label names its block size: "INT4 g32 SQNR").
 */
const COLUMNS = [
  { key: 'name', label: 'Layer', numeric: false },
  { key: 'op', label: 'Op', numeric: false },
  { key: 'shape', label: 'Shape', numeric: false },
  { key: 'parameters', label: 'Parameters', numeric: true },
  { key: 'maxRelativeRange', label: 'Max rel. range', numeric: true },
  { key: 'outliers', label: 'Outliers', numeric: true },
  { key: 'deadChannels', label: 'Dead', numeric: true },
  { key: 'nonFinite', label: 'Non-finite', numeric: true },
  { key: 'sqnr', label: 'INT8 SQNR', numeric: true },
  { key: 'groupSqnr', label: 'INT4 per-group SQNR', numeric: true },
  { key: 'stored', label: 'Stored', numeric: false },
] as const;

/**
 * The columns that give way, first to last, when the table is wider than its container; the name, the
 * largest relative range and the outlier count always stay (below them the table scrolls, the name sticky).
 */
const GIVE_WAY: readonly LayerTableColumn[] = [
  'stored',
  'parameters',
  'shape',
  'groupSqnr',
  'nonFinite',
  'sqnr',
  'deadChannels',
  'op',
];

/** Whether the results have what a column shows. */
function hasColumn(report: StatsReport, key: LayerTableColumn): boolean {
  if (key === 'sqnr') return report.layers.some((l) => l.quant !== undefined);
  if (key === 'groupSqnr') return shownBlock(report, null) !== null;
  if (key === 'stored') return report.layers.some((l) => l.modelQuantization !== undefined);
  return true;
}

/** INT8 symmetric per-tensor SQNR, the figure the column shows; null when exact, undefined without figures. */
const int8Sqnr = (l: LayerReport) => (l.quant ? l.quant.int8.symmetric.perTensor : undefined);

/** INT4 symmetric per-group SQNR for `block`; null when exact, undefined without that figure. */
const int4GroupSqnr = (l: LayerReport, block: number | null) =>
  block === null ? undefined : groupSqnr(l.quant?.int4.symmetric, block);

/** "int8 per-axis 0", "int4 blocks of 32", "uint8 integer units" — how a quantized weight is stored; '' for float. */
function storedText(l: LayerReport): string {
  const q = l.modelQuantization;
  if (!q) return '';
  if (!q.scales) return `${q.dtype}, integer units`;
  if (q.mode === 'tensor') return `${q.dtype} per-tensor`;
  return q.mode === 'axis' ? `${q.dtype} per-axis ${q.axis}` : `${q.dtype} blocks of ${q.blockSize}`;
}

const sqnrCell = (v: number | null | undefined) => html`<td>${v === undefined ? 'n/a' : formatDb(v)}</td>`;

export type LayerTableColumn = (typeof COLUMNS)[number]['key'];
export type SortDirection = 'ascending' | 'descending';

const integer = new Intl.NumberFormat('en-US');

/** Sort value of a column: a layer without a relative range (every channel dead) sorts below every number. */
function sortValue(layer: LayerReport, key: LayerTableColumn, block: number | null): number | string {
  switch (key) {
    case 'name':
      return layer.name.toLowerCase();
    case 'op':
      return opLabel(layer).toLowerCase();
    case 'shape':
      return layer.shape.reduce((a, b) => a * b, 1);
    case 'parameters':
      return layer.parameters;
    case 'maxRelativeRange':
      return layer.maxRelativeRange ?? -Infinity;
    case 'outliers':
      return layer.outliers.length;
    case 'deadChannels':
      return layer.deadChannels.length;
    case 'nonFinite':
      return layer.nonFinite;
    // Exact (no error) sorts with the best; no figures (NaN/±Inf weights) after everything.
    case 'sqnr':
      return sqnrRank(int8Sqnr(layer));
    case 'groupSqnr':
      return sqnrRank(int4GroupSqnr(layer, block));
    case 'stored':
      return storedText(layer);
  }
}

/**
 * Every weight layer of a model: name, op (depthwise or grouped), weight shape, parameters, largest
 * relative range (over live channels), outlier channel count, dead channel count (range at most 1e-4 of the
 * layer's largest: harmless for weight quantization, left out of the relative range) and non-finite weight
 * count; with quantization figures the INT8 symmetric per-tensor SQNR and the INT4 symmetric per-group SQNR
 * (blocks of `block` weights along the layer's input axis), and for a quantized model how each weight is
 * stored. When the table is wider than its container the stored, parameter, shape, per-group SQNR,
 * non-finite, SQNR, dead and op columns give way, in that order; narrower still, it scrolls with the names kept in
 * view. Sort by a column (click or Enter on its header; again to reverse), filter by name or op, and
 * choose a layer by clicking a row or with the keyboard (↑/↓, PageUp/PageDown, Home/End, then Enter or Space): the choice becomes the model's selected layer, which the
 * other elements bound to the same model follow, and is announced as `wl-layer-select`. A long table (over 200
 * layers) draws only the rows in view of its scroller; `aria-rowcount` and `aria-rowindex` give the whole.
 *
 * @tag layer-table
 *
 * @event wl-layer-select - A layer was chosen: `detail.layer` (its name) and `detail.report` (its LayerReport).
 * @event wl-load - The model's results are ready: `detail.report`.
 * @event wl-progress - Loading advanced: `detail.fraction` (0..1, never decreasing) and `detail.text`.
 * @event wl-error - Loading failed: `detail.error` (a WeightlensError naming the file).
 *
 * @csspart base - The element's wrapper.
 * @csspart filter - The filter text field.
 * @csspart count - How many layers the filter shows.
 * @csspart scroller - The scrolling box around the table.
 * @csspart table - The table.
 * @csspart header - Each column header cell.
 * @csspart sort-button - The button in each column header.
 * @csspart row - Each layer's row.
 * @csspart selected-row - The row of the model's selected layer (also has `row`).
 * @csspart status - The loading, empty or error message.
 * @csspart progress - The loading progress bar.
 *
 * @cssproperty [--wl-background=transparent] - Background, also of the sticky header and names (unset: the page's shows through; the sticky cells use the system Canvas colour).
 * @cssproperty [--wl-border-color=#d0d7de] - Borders and rules (dark: #3d444d).
 * @cssproperty [--wl-accent-color=#0969da] - Focus ring and the selected row's edge (dark: #4493f8).
 * @cssproperty [--wl-selected-background=#ddf4ff] - The selected row (dark: #1f3a5f).
 * @cssproperty [--wl-outlier-color=#c8341e] - Outlier and non-finite counts (dark: #ff7b63).
 * @cssproperty [--wl-layer-table-max-height=32em] - Height of the table before it scrolls.
 */
export class LayerTable extends ModelViewElement {
  static override styles = [themeStyles, styles];

  static override properties = {
    filter: { type: String, reflect: true },
    sort: { type: String, reflect: true },
    sortDirection: { type: String, reflect: true, attribute: 'sort-direction' },
    block: { type: Number, reflect: true },
  };

  /** Shows only the layers whose name or op contains this text (case-insensitive). */
  declare filter: string;

  /**
   * The column the rows are sorted by: `name`, `op`, `shape`, `parameters`, `maxRelativeRange`,
   * `outliers`, `deadChannels`, `nonFinite`, `sqnr`, `groupSqnr` or `stored`; unset keeps the model's order.
   */
  declare sort: LayerTableColumn | null;

  /** `ascending` or `descending`. */
  declare sortDirection: SortDirection;

  /**
   * Block size of the per-group SQNR column (e.g. `32`, `64`, `128`). Unset, or a size the results do not
   * carry: the smallest they carry.
   */
  declare block: number | null;

  /** The row that takes the keyboard focus (roving tabindex), by layer name. */
  private focusName: string | null = null;
  /** How many GIVE_WAY columns are hidden so that the table fits, for the width, results and filter measured. */
  private fit = { key: '', report: undefined as StatsReport | undefined, hidden: 0 };
  /** The rows drawn of a long table: those in view of the scroller. */
  private readonly window = new RowWindow(this, {
    scroller: () => this.renderRoot.querySelector<HTMLElement>('.scroller'),
  });
  /** `rows` as last computed, and what it was computed from. */
  private shown: { key: readonly unknown[]; rows: LayerReport[] } = { key: [], rows: [] };

  constructor() {
    super();
    this.filter = '';
    this.sort = null;
    this.sortDirection = 'ascending';
    this.block = null;
  }

  /** The block size the per-group column shows; null when the results have no per-group figures. */
  private get shownBlock(): number | null {
    const report = this.models.report;
    return report ? shownBlock(report, this.block === null ? null : Number(this.block)) : null;
  }

  /** The layers shown, filtered and sorted as on screen (also those scrolled out of view). */
  get rows(): LayerReport[] {
    const key = [this.models.report, this.filter, this.sort, this.sortDirection, this.shownBlock];
    if (key.some((k, i) => k !== this.shown.key[i])) this.shown = { key, rows: this.filterAndSort() };
    return this.shown.rows;
  }

  private filterAndSort(): LayerReport[] {
    const layers = this.models.report?.layers ?? [];
    const needle = this.filter.trim().toLowerCase();
    const shown = needle
      ? layers.filter((l) => l.name.toLowerCase().includes(needle) || opLabel(l).toLowerCase().includes(needle))
      : [...layers];
    const key = this.sort;
    if (key && COLUMNS.some((c) => c.key === key)) {
      const sign = this.sortDirection === 'descending' ? -1 : 1;
      const block = this.shownBlock;
      // Stable sort: ties keep the model's order.
      shown.sort((a, b) => {
        const [x, y] = [sortValue(a, key, block), sortValue(b, key, block)];
        return x < y ? -sign : x > y ? sign : 0;
      });
    }
    return shown;
  }

  /** Chooses `name` as the model's selected layer and emits `wl-layer-select`. */
  selectLayer(name: string): void {
    const layer = this.models.report?.layers.find((l) => l.name === name);
    if (!layer) return;
    this.focusName = name;
    this.models.handle?.select(name);
    this.requestUpdate();
    this.emit('wl-layer-select', { layer: name, report: layer });
  }

  override render() {
    const status = this.renderStatus();
    const report = this.models.report;
    if (status !== nothing || !report) return html`<div part="base">${status}</div>`;
    const rows = this.rows;
    const selected = this.models.handle?.selectedLayer;
    const focus = rows.find((l) => l.name === this.focusName) ?? rows.find((l) => l.name === selected) ?? rows[0];
    const block = this.shownBlock;
    const fitKey = `${this.width.value}|${this.filter}|${block}`;
    if (this.fit.key !== fitKey || this.fit.report !== report) this.fit = { key: fitKey, report, hidden: 0 };
    const hidden = new Set(GIVE_WAY.slice(0, this.fit.hidden));
    const columns = COLUMNS.filter((c) => !hidden.has(c.key) && hasColumn(report, c.key));
    const { start, end, before, after } = this.window.range(rows.length);
    const drawn = rows.slice(start, end);
    // Roving tabindex: the focus row, or the first drawn when it is scrolled out of view.
    const focusable = drawn.includes(focus!) ? focus : drawn[0];
    return html`<div part="base">
      <div class="toolbar">
        <input
          part="filter"
          type="search"
          aria-label="Filter layers by name or op"
          placeholder="Filter by name or op"
          .value=${this.filter}
          @input=${(e: Event) => (this.filter = (e.target as HTMLInputElement).value)}
        />
        <span part="count" class="count" role="status">${rows.length === report.layers.length ? `${rows.length} layers` : `${rows.length} of ${report.layers.length} layers`}</span>
      </div>
      <div part="scroller" class="scroller" @scroll=${this.window.onScroll}>
        <table part="table" aria-label=${`Weight layers of ${report.file}`} aria-rowcount=${rows.length + 1}>
          <thead>
            <tr aria-rowindex="1">
              ${columns.map((c) => {
                const sorted = this.sort === c.key;
                return html`<th part="header" scope="col" class=${c.numeric ? '' : 'text'} data-column=${c.key} aria-sort=${sorted ? this.sortDirection : nothing}>
                  <button part="sort-button" type="button" @click=${() => this.sortBy(c.key)}>
                    ${c.key === 'groupSqnr' ? `INT4 g${block} SQNR` : c.label}<span class="arrow" aria-hidden="true">${sorted ? (this.sortDirection === 'ascending' ? '▲' : '▼') : ''}</span>
                  </button>
                </th>`;
              })}
            </tr>
          </thead>
          <tbody @keydown=${(e: KeyboardEvent) => this.onKey(e, rows)}>
            ${this.window.spacer(before, columns.length)}
            ${repeat(
              drawn,
              (l) => l.name, // a row keeps its element as the window moves, and so its focus
              (l, i) => this.renderRow(l, columns, block, start + i, l.name === selected, l === focusable),
            )}
            ${this.window.spacer(after, columns.length)}
          </tbody>
        </table>
        ${rows.length === 0 ? html`<p class="empty">No layer matches “${this.filter}”.</p>` : nothing}
      </div>
    </div>`;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    this.giveWay();
  }

  /** Hides as many GIVE_WAY columns as the table overflows its container by (measured), then draws again. */
  private giveWay(): void {
    const scroller = this.renderRoot.querySelector<HTMLElement>('.scroller');
    const table = scroller?.querySelector('table');
    if (!scroller || !table || scroller.clientWidth === 0) return;
    let excess = table.offsetWidth - scroller.clientWidth;
    if (excess <= 0) return;
    const widths = new Map(
      [...table.querySelectorAll<HTMLElement>('thead th')].map((th) => [th.dataset['column'], th.offsetWidth]),
    );
    let hidden = this.fit.hidden;
    while (excess > 0 && hidden < GIVE_WAY.length) excess -= widths.get(GIVE_WAY[hidden++]!) ?? 0;
    if (hidden === this.fit.hidden) return;
    this.fit.hidden = hidden;
    this.requestUpdate();
  }

  private renderRow(
    l: LayerReport,
    columns: readonly (typeof COLUMNS)[number][],
    block: number | null,
    index: number,
    selected: boolean,
    focusable: boolean,
  ) {
    const cell = (key: LayerTableColumn) => {
      switch (key) {
        case 'name':
          return html`<td class="name">${l.name}</td>`;
        case 'op':
          return html`<td class="op">${opLabel(l)}</td>`;
        case 'shape':
          return html`<td>${l.shape.join('×')}</td>`;
        case 'parameters':
          return html`<td>${integer.format(l.parameters)}</td>`;
        case 'maxRelativeRange':
          return html`<td>${formatNumber(l.maxRelativeRange)}</td>`;
        case 'outliers':
          return html`<td class=${l.outliers.length ? 'flag' : ''}>${l.outliers.length}</td>`;
        case 'deadChannels':
          return html`<td title=${deadChannelNote(l) ?? nothing}>${l.deadChannels.length}</td>`;
        case 'nonFinite':
          return html`<td class=${l.nonFinite ? 'flag' : ''}>${l.nonFinite}</td>`;
        case 'sqnr':
          return sqnrCell(int8Sqnr(l));
        case 'groupSqnr':
          return sqnrCell(int4GroupSqnr(l, block));
        case 'stored':
          return html`<td class="text">${storedText(l)}</td>`;
      }
    };
    return html`<tr
      part=${selected ? 'row selected-row' : 'row'}
      tabindex=${focusable ? '0' : '-1'}
      aria-rowindex=${index + 2}
      aria-current=${selected ? 'true' : nothing}
      data-layer=${l.name}
      @click=${() => this.selectLayer(l.name)}
      @focus=${() => {
        this.focusName = l.name;
        this.requestUpdate();
      }}
    >
      ${columns.map((c) => cell(c.key))}
    </tr>`;
  }

  private sortBy(key: LayerTableColumn): void {
    if (this.sort === key) this.sortDirection = this.sortDirection === 'ascending' ? 'descending' : 'ascending';
    else {
      this.sort = key;
      // Numbers: the most telling first — the largest, except SQNR where the lowest (worst) is.
      const sqnr = key === 'sqnr' || key === 'groupSqnr';
      this.sortDirection = COLUMNS.find((c) => c.key === key)!.numeric && !sqnr ? 'descending' : 'ascending';
    }
  }

  private onKey(e: KeyboardEvent, rows: LayerReport[]): void {
    const row = (e.target as HTMLElement).closest('tr');
    const index = rows.findIndex((l) => l.name === row?.dataset['layer']);
    if (index < 0) return;
    let next: number;
    switch (e.key) {
      case 'ArrowDown':
        next = index + 1;
        break;
      case 'ArrowUp':
        next = index - 1;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = rows.length - 1;
        break;
      case 'PageDown':
        next = index + this.window.page;
        break;
      case 'PageUp':
        next = index - this.window.page;
        break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.selectLayer(rows[index]!.name);
        return;
      default:
        return;
    }
    e.preventDefault();
    next = Math.min(rows.length - 1, Math.max(0, next));
    const target = rows[next]!;
    this.focusName = target.name;
    this.window.reveal(next);
    this.requestUpdate();
    void this.updateComplete.then(() => {
      const el = [...this.renderRoot.querySelectorAll<HTMLElement>('tbody tr')].find(
        (tr) => tr.dataset['layer'] === target.name,
      );
      el?.focus();
    });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'layer-table': LayerTable;
  }
}
