import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { WeightlensError } from '../../errors.js';
import { ModelController } from '../../binding/model-controller.js';
import { diffInWorker } from '../../binding/worker-models.js';
import type { ModelStatus } from '../../binding/model-handle.js';
import type { AnalysisInput, ModelInput } from '../../pipeline/model-input.js';
import type { Progress } from '../../progress.js';
import type { DiffLayer, DiffReport } from '../../report/diff-report.js';
import { maxRelativeRangeText, type LayerChange, type SideLabels } from '../../plot/cle-channels.js';
import { formatList, formatNumber } from '../../plot/format.js';
import { formatDb } from '../../plot/quant-error.js';
import { plural } from '../../text/plural.js';
import { WeightlensElement } from '../base-element.js';
import { AnalysisTask } from '../shared/analysis-task.js';
import { LayerChangeView, sqnrText } from '../shared/layer-change-view.js';
import { RowWindow } from '../shared/row-window.js';
import { errorAlert, progressStatus, sourceErrorReference } from '../shared/status.js';
import { changeStyles, chartStyles, headerStyles, layerRowStyles, themeStyles } from '../shared/theme.styles.js';
import { WidthController } from '../shared/width-controller.js';
import { styles } from './model-compare.styles.js';

/** Compares two models: `diffInWorker` by default (src/worker/client.ts). */
export type Differ = (
  before: AnalysisInput,
  after: AnalysisInput,
  options: { signal: AbortSignal; onProgress: (p: Progress) => void },
) => Promise<DiffReport>;

/** How the table is ordered: largest relative change first, lowest SQNR first, or the model's order. */
export type CompareSort = 'change' | 'sqnr' | 'order';

/** What the two sides are called in the per-channel view. */
const SIDES: SideLabels = { before: 'before', after: 'after' };

/** One side's model: a URL (absolute), or the input given or a `<model-source>` holds (by identity). */
type Side = string | ModelInput;

/** A matched layer in the table: its position in the report and its figures as text. */
interface CompareRow {
  /** Index into report.layers (model order). */
  index: number;
  layer: DiffLayer;
  /** "before → after", or the one name when both sides call it the same. */
  name: string;
}

/**
 * Two versions of a model compared weight by weight: a model and its CLE'd, fine-tuned or pruned copy, or a
 * float model and its quantized export (read as the weights onnxruntime dequantizes). Layers are matched by
 * weight name, node name, then position and shape (docs/definitions.md, "Comparing two models"). At the top,
 * how many layers matched and by which rule, those only one side has (listed), and the BatchNorms folded
 * into one side's view for the comparison. Then every matched layer, largest relative change first (the
 * column headers sort it by SQNR or model order): its relative change ‖after − before‖ / ‖before‖, the
 * SQNR of `after` taken as a quantized `before`, its largest relative range and INT8 per-tensor SQNR on
 * each side, and its flipped and died channels. Long tables draw only the rows in view. Choose a layer
 * (its name in the table) to see AIMET's "changes in key stats per output channel" below it, the same view
 * as `<cle-compare>`'s: each channel's range and mean before (dotted) and after (solid), the change
 * shaded, outlier channels in the outlier colour; hover the plot, or focus it and use ←/→ (PageUp/PageDown:
 * 10 channels, Home/End), to read a channel's figures.
 *
 * The two models come, for each side, from the first of: a `ModelInput` property (`beforeInput`,
 * `afterInput`: Files, bytes or a URL), the id of a `<model-source>` on the page (`before-model`,
 * `after-model`: the model it loaded), or a URL (the attributes `before` and `after`, properties `beforeSrc`
 * and `afterSrc`). Both are read and compared in the
 * page's Worker, with progress and a Cancel button; bytes given as `ModelInput` are transferred to it (the
 * caller's buffer is detached), so give Files or URLs to compare again. A comparison made elsewhere (a
 * parsed `weightlens diff --json`) can be given as `report`.
 *
 * @tag model-compare
 *
 * @event wl-compared - The comparison is ready (or was given) and is shown: `detail.report` (a DiffReport).
 * @event wl-progress - The comparison advanced: `detail.fraction` (0..1, never decreasing) and `detail.text`.
 * @event wl-error - The comparison failed: `detail.error` (a WeightlensError naming the file).
 * @event wl-layer-select - A layer was chosen in the table: `detail.layer` (its name before) and `detail.report` (its LayerReport before).
 *
 * @csspart base - The element's wrapper.
 * @csspart summary - What was compared: the files, layers matched and by which rule, BatchNorms folded.
 * @csspart facts - The list of those figures.
 * @csspart only-before - The `<details>` listing the weight layers only the `before` model has.
 * @csspart only-after - The `<details>` listing the weight layers only the `after` model has.
 * @csspart not-folded - The `<details>` listing the BatchNorms that could not be folded for the comparison, with the reason.
 * @csspart scroller - The scrolling box around the layers' table.
 * @csspart layers - The table of matched layers.
 * @csspart sort - Each column header's sort button (relative change, SQNR, model order).
 * @csspart layer-button - Each layer's name in the table: the button that shows it per channel.
 * @csspart header - The selected layer's name, op, shape and the key to the marks.
 * @csspart plot - The focusable per-channel chart area (hover, arrow keys to read channels).
 * @csspart chart - The per-channel chart's SVG.
 * @csspart max-change - The shaded change of each channel's maximum.
 * @csspart min-change - The shaded change of each channel's minimum.
 * @csspart before-ranges - The min-to-max rules of the `before` model (dotted).
 * @csspart after-ranges - The min-to-max rules of the `after` model (solid).
 * @csspart before-outliers - The rules of channels that are outliers before.
 * @csspart after-outliers - The rules of channels that are outliers after.
 * @csspart before-means - The channel means before.
 * @csspart after-means - The channel means after.
 * @csspart cursor - The line marking the channel being read.
 * @csspart readout - The read channel's figures before and after (an aria-live region).
 * @csspart table - The `<details>` holding the channels' data table (the chart's text alternative).
 * @csspart status - The empty, running, cancelled or error message.
 * @csspart progress - The progress bar while the models are compared.
 * @csspart cancel - The button that stops the comparison.
 * @csspart again - The button that compares again after a cancel.
 *
 * @cssproperty [--wl-border-color=#d0d7de] - Borders and table rules (dark: #3d444d).
 * @cssproperty [--wl-accent-color=#0969da] - Focus ring, progress and the selected row's edge (dark: #4493f8).
 * @cssproperty [--wl-selected-background=#ddf4ff] - The selected layer's row (dark: #1f3a5f).
 * @cssproperty [--wl-before-color=#6e7781] - Figures of the `before` model (dark: #9ea7b3).
 * @cssproperty [--wl-after-color=#0969da] - Figures of the `after` model (dark: #58a6ff).
 * @cssproperty [--wl-change-color=#d4a72c] - The shaded change (dark: #d29922).
 * @cssproperty [--wl-outlier-color=#c8341e] - Outlier channels (dark: #ff7b63).
 * @cssproperty [--wl-table-max-height=24em] - Height of the layers' table before it scrolls.
 */
export class ModelCompare extends WeightlensElement {
  static override styles = [themeStyles, changeStyles, headerStyles, chartStyles, layerRowStyles, styles];

  static override properties = {
    // Properties named `before` and `after` would hide the DOM's ChildNode.before()/after().
    beforeSrc: { type: String, reflect: true, attribute: 'before' },
    afterSrc: { type: String, reflect: true, attribute: 'after' },
    beforeModel: { type: String, reflect: true, attribute: 'before-model' },
    afterModel: { type: String, reflect: true, attribute: 'after-model' },
    beforeInput: { attribute: false },
    afterInput: { attribute: false },
    report: { attribute: false },
    layer: { type: String, reflect: true },
    sort: { type: String, reflect: true },
    height: { type: Number },
  };

  /** URL of the `before` ONNX model (attribute `before`). */
  declare beforeSrc: string | null;

  /** URL of the `after` ONNX model (attribute `after`). */
  declare afterSrc: string | null;

  /** The id of a `<model-source>` on the page whose model is the `before` side (takes precedence over `beforeSrc`). */
  declare beforeModel: string | null;

  /** The id of a `<model-source>` on the page whose model is the `after` side (takes precedence over `afterSrc`). */
  declare afterModel: string | null;

  /** The `before` model given directly (Files, bytes or a URL); takes precedence over `beforeModel` and `beforeSrc`. */
  declare beforeInput: ModelInput | null;

  /** The `after` model given directly (Files, bytes or a URL); takes precedence over `afterModel` and `afterSrc`. */
  declare afterInput: ModelInput | null;

  /** A comparison given directly (e.g. a parsed `weightlens diff --json`): nothing is computed. Takes precedence over everything else. */
  declare report: DiffReport | null;

  /** The layer shown per channel (its name on either side). When unset: the layer with the largest relative change. */
  declare layer: string | null;

  /** The table's order: `change` (largest relative change first, the default), `sqnr` (lowest first) or `order` (the model's). */
  declare sort: CompareSort;

  /** Height of the per-channel chart in pixels; it fills the container's width. */
  declare height: number;

  /** @internal How the models are compared; tests replace it. */
  differ: Differ = diffInWorker;

  private readonly beforeSource = new ModelController(this, {
    source: () => ({ model: this.report || this.beforeInput ? null : this.beforeModel }),
    emitEvents: false,
  });
  private readonly afterSource = new ModelController(this, {
    source: () => ({ model: this.report || this.afterInput ? null : this.afterModel }),
    emitEvents: false,
  });
  private readonly width = new WidthController(this);
  private readonly task = new AnalysisTask<readonly [Side, Side], DiffReport>(this, {
    args: () => this.taskArgs(),
    task: ([before, after], run) => {
      const [a, b] = [this.analysisInput(before, 'before'), this.analysisInput(after, 'after')];
      return this.differ(a, b, run);
    },
    onProgress: (p) => this.emit('wl-progress', p),
    onError: (error) => this.emit('wl-error', { error }),
  });
  private readonly rowWindow = new RowWindow(this, {
    scroller: () => this.renderRoot.querySelector<HTMLElement>('.scroller'),
  });
  private readonly layerView = new LayerChangeView(this, SIDES);
  /** Each matched layer as the per-channel view takes it, one object per layer (the view caches by identity). */
  private changes = new WeakMap<DiffLayer, LayerChange>();
  private emitted: DiffReport | undefined;

  constructor() {
    super();
    this.beforeSrc = null;
    this.afterSrc = null;
    this.beforeModel = null;
    this.afterModel = null;
    this.beforeInput = null;
    this.afterInput = null;
    this.report = null;
    this.layer = null;
    this.sort = 'change';
    this.height = 320;
  }

  /** 'empty' (nothing to compare yet), 'loading' (comparing), 'ready' or 'error' (failed or cancelled). */
  get status(): ModelStatus {
    if (this.report) return 'ready';
    return ({ initial: 'empty', pending: 'loading', complete: 'ready', error: 'error' } as const)[this.task.status];
  }

  /** The comparison shown: given as `report`, or computed. */
  get shownReport(): DiffReport | undefined {
    return this.report ?? this.task.value;
  }

  /** Why the comparison stopped: its error, or ABORTED after cancel(). */
  get error(): WeightlensError | undefined {
    return this.report ? undefined : this.task.error;
  }

  /** Stops the comparison in progress (status 'error', error ABORTED); compare() starts it again. */
  cancel(): void {
    if (this.task.status !== 'pending') return;
    this.task.cancel(new WeightlensError('ABORTED', 'the comparison was cancelled'));
  }

  /** Compares the two models again (e.g. after cancel()); resolves when done. */
  compare(): Promise<void> {
    const args = this.taskArgs();
    return args ? this.task.run(args) : Promise.resolve();
  }

  /** Chooses the layer shown per channel, as its button in the table does (emits wl-layer-select). */
  selectLayer(name: string): void {
    const layer = this.shownReport && findLayer(this.shownReport, name);
    if (!layer) return;
    this.layer = layer.before;
    this.emit('wl-layer-select', { layer: layer.before, report: layer.beforeStats });
  }

  private taskArgs(): readonly [Side, Side] | undefined {
    if (!this.isConnected || this.report) return undefined;
    const before = this.side(this.beforeInput, this.beforeSource, this.beforeModel, this.beforeSrc);
    const after = this.side(this.afterInput, this.afterSource, this.afterModel, this.afterSrc);
    return before && after ? [before, after] : undefined;
  }

  private side(
    input: ModelInput | null,
    source: ModelController,
    model: string | null,
    url: string | null,
  ): Side | undefined {
    if (input) return input;
    if (model) return source.handle?.lastInput;
    return url ? new URL(url, document.baseURI).href : undefined;
  }

  private analysisInput(side: Side, which: 'before' | 'after'): AnalysisInput {
    const input: ModelInput = typeof side === 'string' ? { kind: 'url', url: side } : side;
    if (input.kind !== 'report') return input;
    const id = which === 'before' ? this.beforeModel : this.afterModel;
    throw new WeightlensError(
      'USAGE',
      `${id ? `<model-source id="${id}"> holds` : `${which}Input is`} results JSON (${input.report.file}): comparing needs the models themselves (.onnx)`,
      { file: input.report.file },
    );
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const report = this.status === 'ready' ? this.shownReport : undefined;
    if (report && report !== this.emitted) {
      this.emitted = report;
      this.emit('wl-compared', { report });
    }
  }

  override render() {
    const report = this.status === 'ready' ? this.shownReport : undefined;
    if (!report) return html`<div part="base">${this.renderStatus()}</div>`;
    const rows = sortedRows(report, this.sort);
    const chosen = this.chooseLayer(report);
    return html`<div part="base">
      ${renderSummary(report)} ${this.renderTable(report, rows, chosen)} ${this.renderLayer(report, chosen)}
    </div>`;
  }

  private renderStatus(): TemplateResult {
    const status = this.status;
    if (status === 'loading') {
      const cancel = html`<button part="cancel" type="button" @click=${() => this.cancel()}>Cancel</button>`;
      return progressStatus(this.task.progress, 'Comparing', 'Comparing the models', cancel);
    }
    if (status === 'error') {
      const error = this.task.error;
      if (error?.code === 'ABORTED')
        return html`<div part="status" class="status" role="status">
          Comparison cancelled.
          <button part="again" type="button" @click=${() => void this.compare()}>Compare again</button>
        </div>`;
      // A <model-source> could not read its model: it shows why.
      for (const [id, source] of [
        [this.beforeModel, this.beforeSource],
        [this.afterModel, this.afterSource],
      ] as const)
        if (id && source.handle?.status === 'error') return sourceErrorReference(id);
      return errorAlert(error?.message ?? 'The comparison failed.');
    }
    const missing = [
      this.beforeInput || this.beforeModel || this.beforeSrc ? '' : 'before',
      this.afterInput || this.afterModel || this.afterSrc ? '' : 'after',
    ].filter(Boolean);
    return html`<div part="status" class="status" role="status">
      ${missing.length ? `No ${missing.join(' or ')} model to compare.` : 'Waiting for the models.'}
    </div>`;
  }

  /** The layer named `layer` (either side's name), else the one with the largest relative change. */
  private chooseLayer(report: DiffReport): DiffLayer | undefined {
    if (this.layer) return findLayer(report, this.layer);
    return sortedRows(report, 'change')[0]?.layer;
  }

  private renderTable(report: DiffReport, rows: CompareRow[], chosen: DiffLayer | undefined): TemplateResult {
    const columns = 9;
    const { start, end, before, after } = this.rowWindow.range(rows.length);
    const sortable = (key: CompareSort, label: string, title: string, cls = '') =>
      html`<th
        scope="col"
        class=${cls}
        aria-sort=${this.sort === key ? (key === 'change' ? 'descending' : 'ascending') : nothing}
      >
        <button part="sort" type="button" class="sort" title=${title} @click=${() => (this.sort = key)}>
          ${label}${this.sort === key ? (key === 'change' ? ' ↓' : ' ↑') : ''}
        </button>
      </th>`;
    return html`<div part="scroller" class="scroller" @scroll=${this.rowWindow.onScroll}>
      <table
        part="layers"
        aria-label=${`Matched layers of ${report.before} and ${report.after}`}
        aria-rowcount=${rows.length + 1}
      >
        <thead>
          <tr aria-rowindex="1">
            ${sortable('order', '#', "Sort in the model's order")}
            <th scope="col" class="text">Layer (before → after) · op</th>
            <th scope="col" class="text">Matched by</th>
            ${sortable('change', 'Relative change', 'Sort by ‖after − before‖ / ‖before‖, largest first')}
            ${sortable('sqnr', 'SQNR', 'Sort by the SQNR of after against before, lowest first')}
            <th scope="col" title="The layer's largest relative range before → after">Max rel. range</th>
            <th scope="col" title="INT8 symmetric per-tensor SQNR before → after">INT8 SQNR</th>
            <th scope="col" title="Output channels whose weights point the other way after">Flipped</th>
            <th scope="col" title="Channels dead after that were alive before">Died</th>
          </tr>
        </thead>
        <tbody>
          ${this.rowWindow.spacer(before, columns)}
          ${repeat(
            rows.slice(start, end),
            (r) => r.index,
            (r, i) => this.renderRow(r, start + i, r.layer === chosen),
          )}
          ${this.rowWindow.spacer(after, columns)}
        </tbody>
      </table>
    </div>`;
  }

  private renderRow(row: CompareRow, position: number, selected: boolean): TemplateResult {
    const l = row.layer;
    const [b, a] = [l.beforeStats, l.afterStats];
    return html`<tr
      aria-rowindex=${position + 2}
      class=${selected ? 'selected' : ''}
      aria-current=${selected ? 'true' : nothing}
      data-layer=${l.before}
    >
      <td>${row.index + 1}</td>
      <th scope="row" class="text">
        <button part="layer-button" type="button" class="layer-button" @click=${() => this.selectLayer(l.before)}>
          ${row.name}
        </button>
        <span class="muted"> · ${l.op}</span>
      </th>
      <td class="text">${l.matchedBy}${l.folded ? html`<span class="muted"> · BN folded ${l.folded.side}</span>` : nothing}</td>
      <td class="change">${l.shapeChanged ? 'shape changed' : formatNumber(l.relativeChange)}</td>
      <td class="sqnr">${sqnrCell(l)}</td>
      <td>${maxRelativeRangeText(b)} → ${maxRelativeRangeText(a)}</td>
      <td>${sqnrText(b)} → ${sqnrText(a)}</td>
      <td class="flipped">${l.flippedChannels.length}</td>
      <td class="died" title=${l.revivedChannels.length ? `${plural(l.revivedChannels.length, 'channel')} revived` : nothing}>
        ${l.diedChannels.length}
      </td>
    </tr>`;
  }

  private renderLayer(report: DiffReport, chosen: DiffLayer | undefined): TemplateResult {
    if (!chosen) {
      const why = this.layer ? `no matched layer named "${this.layer}"` : 'no matched layers';
      return errorAlert(`${report.before} → ${report.after}: ${why} (${plural(report.layers.length, 'layer')})`);
    }
    let change = this.changes.get(chosen);
    if (!change) {
      const name = chosen.before === chosen.after ? chosen.before : `${chosen.before} → ${chosen.after}`;
      change = { name, op: chosen.op, before: chosen.beforeStats, after: chosen.afterStats };
      this.changes.set(chosen, change);
    }
    return this.layerView.render(change, this.width.value, this.height);
  }
}

/** The layer named `name` on either side. */
const findLayer = (report: DiffReport, name: string) =>
  report.layers.find((l) => l.before === name) ?? report.layers.find((l) => l.after === name);

/** The SQNR of after against before as text: "exact" for equal weights, "—" where there is none. */
function sqnrCell(l: DiffLayer): string {
  if (l.sqnr !== null) return formatDb(l.sqnr);
  return !l.shapeChanged && l.relativeChange === 0 ? formatDb(null) : '—';
}

const rowsCache = new WeakMap<DiffReport, Map<CompareSort, CompareRow[]>>();

/** The matched layers in `sort` order (figures missing last, ties in model order); cached per report. */
export function sortedRows(report: DiffReport, sort: CompareSort): CompareRow[] {
  let bySort = rowsCache.get(report);
  if (!bySort) rowsCache.set(report, (bySort = new Map()));
  const cached = bySort.get(sort);
  if (cached) return cached;
  const rows = report.layers.map((layer, index) => ({
    index,
    layer,
    name: layer.before === layer.after ? layer.before : `${layer.before} → ${layer.after}`,
  }));
  const key = (r: CompareRow): number | null =>
    sort === 'change' ? r.layer.relativeChange : sort === 'sqnr' ? r.layer.sqnr : r.index;
  const sign = sort === 'change' ? -1 : 1;
  const sorted = rows.sort((x, y) => {
    const [a, b] = [key(x), key(y)];
    if (a === null || b === null) return a === b ? x.index - y.index : a === null ? 1 : -1;
    return sign * (a - b) || x.index - y.index;
  });
  bySort.set(sort, sorted);
  return sorted;
}

/** What was compared: files, layers matched and by which rule, layers only one side has, BatchNorms folded. */
function renderSummary(report: DiffReport): TemplateResult {
  const by = new Map<string, number>();
  for (const l of report.layers) by.set(l.matchedBy, (by.get(l.matchedBy) ?? 0) + 1);
  const rules = [...by].map(([rule, n]) => `${n} by ${rule}`).join(', ');
  const folded = report.layers.filter((l) => l.folded);
  const reshaped = report.layers.filter((l) => l.shapeChanged).length;
  const changed = report.layers.filter((l) => l.relativeChange !== null && l.relativeChange > 0).length;
  const list = (part: string, label: string, names: readonly string[]) =>
    names.length
      ? html`<details part=${part} class="names">
          <summary>${label}: <strong>${plural(names.length, 'layer')}</strong></summary>
          <p>${formatList(names, 1000)}</p>
        </details>`
      : html`<div class="muted">${label}: none</div>`;
  return html`<section part="summary" class="summary" aria-label="What was compared">
    <p class="files"><strong>${report.before}</strong> → <strong>${report.after}</strong></p>
    <ul part="facts" class="facts">
      <li>Matched <strong>${plural(report.layers.length, 'layer')}</strong>${rules ? ` (${rules})` : ''}</li>
      <li>Changed: <strong>${changed}</strong>${reshaped ? html`, <strong>${reshaped}</strong> changed shape` : nothing}</li>
      <li title=${folded.map((l) => `${l.folded!.batchNorm} → ${l.folded!.side === 'before' ? l.before : l.after}`).join(', ') || nothing}>
        Folded <strong>${plural(folded.length, 'BatchNormalization')}</strong> for the comparison
      </li>
    </ul>
    ${list('only-before', `Only in ${report.before}`, report.onlyBefore)}
    ${list('only-after', `Only in ${report.after}`, report.onlyAfter)}
    ${
      report.notFolded.length
        ? html`<details part="not-folded" class="names warning">
            <summary>Not folded: <strong>${plural(report.notFolded.length, 'BatchNormalization')}</strong> (compared unfolded)</summary>
            <ul>
              ${report.notFolded.map((n) => html`<li>${n.layer}: ${n.reason}</li>`)}
            </ul>
          </details>`
        : nothing
    }
  </section>`;
}

declare global {
  interface HTMLElementTagNameMap {
    'model-compare': ModelCompare;
  }
}
