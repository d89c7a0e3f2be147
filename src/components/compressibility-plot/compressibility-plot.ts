import { html, nothing, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { WeightlensError } from '../../errors.js';
import { compressInWorker } from '../../binding/worker-models.js';
import type { CompressJobOptions } from '../../pipeline/analyze.js';
import type { ModelInput } from '../../pipeline/model-input.js';
import {
  COMPRESS_MARKS,
  METHOD_COLORS,
  compressibilityPlot,
  compressibilityText,
  layerMethods,
} from '../../plot/compressibility.js';
import type { Progress } from '../../progress.js';
import { compressReportAt, parametersSaved, rankedBySaving } from '../../report/compress-choice.js';
import type { CompressReport, LayerCompressibility } from '../../report/compress-report.js';
import { shortCount } from '../../report/short-number.js';
import type { StatsReport } from '../../report/stats-report.js';
import { LayerViewElement } from '../layer-view-element.js';
import { AnalysisTask } from '../shared/analysis-task.js';
import { ChartCache, markParts, renderChart } from '../shared/chart.js';
import { RowWindow } from '../shared/row-window.js';
import { errorAlert, progressStatus } from '../shared/status.js';
import { chartStyles, layerRowStyles, tableStyles, themeStyles } from '../shared/theme.styles.js';
import { styles } from './compressibility-plot.styles.js';

type ModelJobInput = Exclude<ModelInput, { kind: 'report' }>;

/** Measures a model's compressibility: `compressInWorker` by default (src/worker/client.ts). */
export type Compressor = (
  input: ModelJobInput,
  options: { signal: AbortSignal; onProgress: (p: Progress) => void } & CompressJobOptions,
) => Promise<CompressReport>;

/** The default relative weight error each layer's best choice is taken within. */
const DEFAULT_ERROR = 0.05;

const percent = (v: number | null) => (v === null ? '—' : `${+(v * 100).toPrecision(3)}%`);
const ratioText = (r: number) => `${r.toFixed(2)}×`;

/**
 * How much each layer of a model could shrink, and what that costs in relative weight error
 * ‖W − Ŵ‖/‖W‖ — weight space, not accuracy (docs/definitions.md, "Compressibility"). It measures, in the
 * page's Worker with progress and a Cancel button, each layer's singular values for Weight SVD and Spatial SVD
 * and its magnitude- and channel-pruning curves (with the page's statistics as the INT8/INT4 references, not
 * measured again). It shows the model's parameters before and after each layer's best choice within `error`;
 * a table of the layers ranked by the parameters that choice saves (rank keeping 99 % of the energy and
 * effective rank, the best method and ratio, INT8 and INT4 error; a long table draws only the rows in view);
 * and, for the selected layer, the chart of relative weight error against parameter compression ratio for each
 * method, the INT8 and INT4 errors as rules, and the chosen error with each method's best point. Changing
 * `error` takes each layer's best choice again from its curves, without measuring anything again. Choosing a
 * layer in the table selects it on the model (other elements bound to it follow), and a layer selected
 * elsewhere (e.g. in `<layer-table>`) is shown here. Needs the ONNX model itself: results JSON has no weights.
 *
 * @tag compressibility-plot
 *
 * @event wl-compressibility - The compressibility is shown, or was taken again at another error: `detail.report` (a CompressReport).
 * @event wl-layer-select - A layer was chosen in the table: `detail.layer` (its name) and `detail.report` (its LayerReport).
 * @event wl-load - The model's results are ready: `detail.report`.
 * @event wl-progress - Loading advanced: `detail.fraction` (0..1, never decreasing) and `detail.text`.
 * @event wl-error - Loading or measuring failed: `detail.error` (a WeightlensError).
 *
 * @csspart base - The element's wrapper.
 * @csspart summary - The model's parameters before and after within the error, and the error input.
 * @csspart error-input - The relative weight error input (in %).
 * @csspart scroller - The scrolling box around the layers' table.
 * @csspart layers - The layers' table, ranked by parameters saved.
 * @csspart layer-button - Each layer's name in the table: the button that selects it.
 * @csspart layer - The selected layer's heading, legend, chart and notes.
 * @csspart legend - The key to the chart's lines and rules.
 * @csspart plot - The chart area.
 * @csspart chart - The chart's SVG.
 * @csspart error-rule - The chosen error on the chart.
 * @csspart int8-rule - The layer's INT8 error on the chart.
 * @csspart int4-rule - The layer's INT4 error on the chart.
 * @csspart reference-labels - The INT8 and INT4 rules' labels.
 * @csspart curves - The methods' curves (one line each).
 * @csspart best-points - Each method's best point within the error.
 * @csspart best-choice - The layer's best choice (ringed).
 * @csspart notes - Why a method has no curve for the layer.
 * @csspart status - The empty, loading, measuring, cancelled or error message.
 * @csspart progress - The progress bar while the model loads or compressibility is measured.
 * @csspart cancel - The button that stops measuring.
 * @csspart again - The button that measures again after a cancel.
 *
 * @cssproperty [--wl-border-color=#d0d7de] - Borders and table rules (dark: #3d444d).
 * @cssproperty [--wl-accent-color=#0969da] - Focus ring, progress and the selected row's edge (dark: #4493f8).
 * @cssproperty [--wl-selected-background=#ddf4ff] - The selected layer's row (dark: #1f3a5f).
 * @cssproperty [--wl-change-color=#d4a72c] - The chosen error's rule (dark: #d29922).
 * @cssproperty [--wl-weight-svd-color=#0969da] - Weight SVD's curve (dark: #4493f8).
 * @cssproperty [--wl-spatial-svd-color=#8250df] - Spatial SVD's curve (dark: #ab7df8).
 * @cssproperty [--wl-pruning-color=#bc4c00] - Magnitude pruning's curve (dark: #f0883e).
 * @cssproperty [--wl-channel-pruning-color=#1a7f37] - Channel pruning's curve (dark: #3fb950).
 * @cssproperty [--wl-table-max-height=24em] - Height of the layers' table before it scrolls.
 */
export class CompressibilityPlot extends LayerViewElement {
  static override styles = [themeStyles, chartStyles, tableStyles, layerRowStyles, styles];

  static override properties: PropertyDeclarations = {
    ...LayerViewElement.properties,
    layer: { type: String, reflect: true },
    error: { type: Number, reflect: true },
    height: { type: Number },
  };

  /**
   * The relative weight error ‖W − Ŵ‖/‖W‖ (0.05 = 5 %) each layer's best choice is taken within; changing it
   * takes the choices again from the curves, measuring nothing again.
   */
  declare error: number;

  /**
   * The layer whose chart is shown (its name, or its weight's name). When unset: the layer selected on the model, else the one
   * whose best choice saves the most. Follows the model's selection (e.g. a `<layer-table>` bound to it).
   */
  declare layer: string | null;

  /** Height of the chart in pixels; it fills the container's width. */
  declare height: number;

  /** @internal How compressibility is measured; tests replace it. */
  compressor: Compressor = compressInWorker;

  private readonly task = new AnalysisTask<readonly [ModelInput, StatsReport], CompressReport>(this, {
    args: () => this.taskArgs(),
    task: ([input, stats], { signal, onProgress }) => {
      if (input.kind === 'report')
        return Promise.reject(
          new WeightlensError(
            'USAGE',
            `${input.report.file}: compressibility needs the ONNX model itself (.onnx), not its results JSON`,
            { file: input.report.file },
          ),
        );
      return this.compressor(input, { signal, onProgress, stats });
    },
    onError: (error) => this.emit('wl-error', { error }),
  });

  private readonly chart = new ChartCache();
  private readonly rowWindow = new RowWindow(this, {
    scroller: () => this.renderRoot.querySelector<HTMLElement>('.scroller'),
  });
  /** The report shown, and the measurement it was taken from. */
  private shown: { from: CompressReport; report: CompressReport } | undefined;
  private emitted: CompressReport | undefined;

  constructor() {
    super();
    this.error = 0.05;
    this.height = 300;
  }

  /** The compressibility shown: as measured, with each layer's best choice and the totals taken within `error`. */
  get compression(): CompressReport | undefined {
    const measured = this.task.value;
    if (!measured) return undefined;
    const error = this.effectiveError;
    if (this.shown?.from !== measured || this.shown.report.error !== error)
      this.shown = { from: measured, report: compressReportAt(measured, error) };
    return this.shown.report;
  }

  /** Why measuring stopped: its error, or ABORTED after cancel(). */
  get jobError(): WeightlensError | undefined {
    return this.task.error;
  }

  /** The layers ranked by the parameters their best choice saves within `error`, most first. */
  get rankedLayers(): LayerCompressibility[] {
    const report = this.compression;
    return report ? rankedBySaving(report.layers) : [];
  }

  /** The layer whose chart is shown: `layer`, else the model's selection, else the one that saves the most. */
  get shownLayer(): LayerCompressibility | undefined {
    const report = this.compression;
    if (!report) return undefined;
    const wanted = this.layer || this.handle?.selectedLayer;
    if (wanted) {
      const byName = report.layers.find((l) => l.name === wanted);
      if (byName) return byName;
      const byWeight = this.handle?.report?.layers.find((l) => l.weight === wanted);
      return byWeight ? report.layers.find((l) => l.name === byWeight.name) : undefined;
    }
    return this.rankedLayers[0];
  }

  /** Stops measuring (the status says so; measure() starts again). */
  cancel(): void {
    if (this.task.status !== 'pending') return;
    this.task.cancel(new WeightlensError('ABORTED', 'measuring compressibility was cancelled'));
  }

  /** Measures again (e.g. after cancel()); resolves when done. */
  measure(): Promise<void> {
    const args = this.taskArgs();
    return args ? this.task.run(args) : Promise.resolve();
  }

  /** Shows `name`'s chart and selects it on the model, as its button in the table does (emits wl-layer-select). */
  selectLayer(name: string): void {
    const stats = this.handle?.report?.layers.find((l) => l.name === name);
    if (!this.compression?.layers.some((l) => l.name === name)) return;
    this.layer = name;
    this.handle?.select(name);
    if (stats) this.emit('wl-layer-select', { layer: name, report: stats });
  }

  private get effectiveError(): number {
    return typeof this.error === 'number' && Number.isFinite(this.error) && this.error >= 0
      ? this.error
      : DEFAULT_ERROR;
  }

  private taskArgs(): readonly [ModelInput, StatsReport] | undefined {
    const handle = this.models.handle;
    if (!this.isConnected || handle?.status !== 'ready' || !handle.report || !handle.lastInput) return undefined;
    return [handle.lastInput, handle.report];
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const report = this.compression;
    if (report && report !== this.emitted) {
      this.emitted = report;
      this.emit('wl-compressibility', { report });
    }
  }

  override render() {
    const status = this.renderStatus();
    if (status !== nothing) return html`<div part="base">${status}</div>`;
    const task = this.task;
    if (task.status === 'pending' || task.status === 'initial') {
      const cancel = html`<button part="cancel" type="button" @click=${() => this.cancel()}>Cancel</button>`;
      return html`<div part="base">
        ${progressStatus(task.progress, 'Measuring compressibility', 'Measuring compressibility', cancel)}
      </div>`;
    }
    if (task.status === 'error') {
      if (task.error?.code === 'ABORTED')
        return html`<div part="base">
          <div part="status" class="status" role="status">
            Measuring compressibility was cancelled.
            <button part="again" type="button" @click=${() => void this.measure()}>Measure again</button>
          </div>
        </div>`;
      return html`<div part="base">${errorAlert(task.error?.message ?? 'Measuring compressibility failed.')}</div>`;
    }
    const report = this.compression!;
    const layer = this.shownLayer;
    return html`<div part="base">
      ${this.renderSummary(report)} ${this.renderTable(report, layer)} ${this.renderLayer(report, layer)}
    </div>`;
  }

  private renderSummary(report: CompressReport): TemplateResult {
    const { before, after } = report.parameters;
    const compressed = report.layers.filter((l) => l.best.method !== null).length;
    return html`<div part="summary" class="summary">
      <p>
        <label
          >Within
          <input
            part="error-input"
            type="number"
            min="0"
            max="100"
            step="0.5"
            .value=${String(+(report.error * 100).toPrecision(6))}
            @change=${(e: Event) => {
              const v = Number((e.target as HTMLInputElement).value);
              if (Number.isFinite(v) && v >= 0 && v <= 100) this.error = v / 100;
            }}
          />
          % relative weight error</label
        >
        ‖W − Ŵ‖/‖W‖ per layer (weight space, not accuracy), the best choice of each layer takes the model's weight
        layers from <strong class="before">${before.toLocaleString('en-US')}</strong> parameters to
        <strong class="after">${after.toLocaleString('en-US')}</strong>
        (<strong class="ratio">${ratioText(after > 0 ? before / after : 1)}</strong>); ${compressed} of
        ${report.layers.length} layers compressed.
      </p>
      <p class="muted">
        A layer's best choice is the largest parameter compression ratio any method (Weight SVD, Spatial SVD,
        magnitude pruning, channel pruning) reaches within the error; data-free, the model's accuracy is not
        measured.
      </p>
    </div>`;
  }

  private renderTable(report: CompressReport, chosen: LayerCompressibility | undefined): TemplateResult {
    const rows = rankedBySaving(report.layers);
    const columns = 8;
    const { start, end, before, after } = this.rowWindow.range(rows.length);
    return html`<div part="scroller" class="scroller" @scroll=${this.rowWindow.onScroll}>
      <table
        part="layers"
        aria-label=${`Layers of ${report.file} ranked by parameters saved within ${percent(report.error)} weight error`}
        aria-rowcount=${rows.length + 1}
      >
        <thead>
          <tr aria-rowindex="1">
            <th scope="col">#</th>
            <th scope="col" class="text">Layer · op</th>
            <th scope="col" class="text">Shape</th>
            <th scope="col" title="Weight SVD: the rank keeping 99 % of Σσ² / the effective rank">Rank99 / eff.</th>
            <th scope="col" class="text" title="The method and ratio (before / after) of the layer's best choice">Best</th>
            <th scope="col" title="Parameters the best choice saves">Saved</th>
            <th scope="col" title="Relative error of INT8 symmetric per-channel quantization">INT8 err</th>
            <th scope="col" title="Relative error of INT4 symmetric per-channel quantization">INT4 err</th>
          </tr>
        </thead>
        <tbody>
          ${this.rowWindow.spacer(before, columns)}
          ${repeat(
            rows.slice(start, end),
            (l) => l.name,
            (l, i) => this.renderRow(l, start + i, l === chosen),
          )}
          ${this.rowWindow.spacer(after, columns)}
        </tbody>
      </table>
    </div>`;
  }

  private renderRow(l: LayerCompressibility, position: number, selected: boolean): TemplateResult {
    const svd = l.weightSvd;
    return html`<tr
      aria-rowindex=${position + 2}
      class=${selected ? 'selected' : ''}
      aria-current=${selected ? 'true' : nothing}
      data-layer=${l.name}
    >
      <td>${position + 1}</td>
      <th scope="row" class="text">
        <button part="layer-button" type="button" class="layer-button" @click=${() => this.selectLayer(l.name)}>
          ${l.name}
        </button>
        <span class="muted"> · ${l.op}</span>
      </th>
      <td class="text">${l.shape.join('×')}</td>
      <td class="rank">${svd ? `${svd.rank99} / ${svd.effectiveRank.toFixed(1)}` : '—'}</td>
      <td class="text best">${l.best.method ? `${l.best.method} ${ratioText(l.best.ratio)}` : 'keep'}</td>
      <td class="saved" title=${`${l.parameters.toLocaleString('en-US')} → ${l.best.parameters.toLocaleString('en-US')}`}>
        ${shortCount(parametersSaved(l))}
      </td>
      <td class="int8">${percent(l.int8Error)}</td>
      <td class="int4">${percent(l.int4Error)}</td>
    </tr>`;
  }

  private renderLayer(report: CompressReport, layer: LayerCompressibility | undefined): TemplateResult {
    if (!layer) {
      const why =
        this.layer || this.handle?.selectedLayer
          ? `no weight layer named "${this.layer || this.handle?.selectedLayer}"`
          : 'no weight layers';
      return errorAlert(`${report.file}: ${why} (${report.layers.length} layers)`);
    }
    const width = this.width.value;
    const error = report.error;
    const chart = this.chart.get(`${width}|${this.height}|${error}|${layer.name}`, report, () =>
      renderChart(
        compressibilityPlot(layer, error, { width, height: this.height }),
        compressibilityText(layer, error),
        'chart',
        markParts(COMPRESS_MARKS),
      ),
    );
    const methods = layerMethods(layer);
    return html`<section part="layer" class="layer" aria-label=${`Compressibility of ${layer.name}`}>
      <h3>
        ${layer.name} <span class="muted">· ${layer.op} · ${layer.shape.join('×')} ·
        ${layer.best.method ? `best within ${percent(error)}: ${layer.best.method} ${ratioText(layer.best.ratio)} (${percent(layer.best.error)})` : `nothing saves parameters within ${percent(error)}`}</span>
      </h3>
      <ul part="legend" class="legend">
        ${methods.map((m) => html`<li><span class="swatch" style="color: ${METHOD_COLORS[m]}"></span>${m}</li>`)}
        <li><span class="swatch rule"></span>error ${percent(error)}</li>
        ${layer.int8Error === null && layer.int4Error === null ? nothing : html`<li><span class="swatch reference"></span>INT8 / INT4 error</li>`}
      </ul>
      <div part="plot" class="plot">${chart}</div>
      ${layer.notes.length ? html`<p part="notes" class="notes muted">${layer.notes.join('; ')}.</p>` : nothing}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'compressibility-plot': CompressibilityPlot;
  }
}
