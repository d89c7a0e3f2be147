import { html, nothing, svg, type PropertyValues, type TemplateResult } from 'lit';
import { WeightlensError } from '../../errors.js';
import { ModelHandle, type LoadProgress, type ModelStatus } from '../../model/model-handle.js';
import type { ModelInput } from '../../model/model-input.js';
import type { CleLayerChange, CleOptions, CleOutcome, CleReport, CleRounding } from '../../report/cle-report.js';
import { roundingFacts } from '../../report/cle-rounding.js';
import type { LayerReport } from '../../report/stats-report.js';
import { equalizeInWorker } from '../../worker/client.js';
import { channelCount, clampDomain, type ChannelDomain } from '../../plot/channels.js';
import { BEFORE_DASH, CLE_CHANNEL_MARKS, cleChannelPlot, cleChannelRows, cleChannelText, maxRelativeRangeText } from '../../plot/cle-channels.js';
import { CLE_LAYER_MARKS, cleLayerRows, cleLayersPlot, cleLayersText, type CleLayerRow } from '../../plot/cle-layers.js';
import { formatNumber, formatSpan } from '../../plot/format.js';
import { formatDb } from '../../plot/quant-error.js';
import { WeightlensElement } from '../base-element.js';
import { AnalysisTask } from '../shared/analysis-task.js';
import { renderChart, type Chart } from '../shared/chart.js';
import { opLabel } from '../shared/layer-header.js';
import { chartStyles, headerStyles, themeStyles } from '../shared/theme.styles.js';
import { WidthController } from '../shared/width-controller.js';
import { styles } from './cle-compare.styles.js';
import { channelAfterKey } from '../shared/channel-keys.js';
import { worstFirst } from '../../report/worst-layers.js';
import { plural } from '../../text/plural.js';

/** Rows of the channel data table shown at most. */
const MAX_TABLE_ROWS = 2000;

/** Runs CLE on a model: `equalizeInWorker` by default (src/worker/client.ts). */
export type Equalizer = (
  input: Exclude<ModelInput, { kind: 'report' }>,
  options: { signal: AbortSignal; onProgress: (p: LoadProgress) => void; cle: CleOptions },
) => Promise<CleOutcome>;

/** A file the download button saves. */
export interface EqualizedFile {
  name: string;
  blob: Blob;
}

/** `model.onnx` -> `model.cle.onnx` (the last path segment of `file`, `.onnx` dropped if present). */
export function equalizedFileName(file: string): string {
  const base = file.split(/[?#]/)[0]!.split(/[\\/]/).pop() || 'model';
  return `${base.replace(/\.onnx$/i, '')}.cle.onnx`;
}

/** The equalized model and its new external-data files (named by their location), as the download saves them. */
export function equalizedFiles(outcome: CleOutcome): EqualizedFile[] {
  const type = 'application/octet-stream';
  return [
    { name: equalizedFileName(outcome.report.file), blob: new Blob([outcome.bytes as Uint8Array<ArrayBuffer>], { type }) },
    ...[...outcome.dataFiles].map(([location, bytes]) => ({ name: location, blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type }) })),
  ];
}

/** INT8 symmetric per-tensor SQNR: a number, null when exact, undefined without figures (or non-finite weights). */
const int8PerTensor = (l: LayerReport) => l.quant?.int8.symmetric.perTensor;
const sqnrText = (l: LayerReport) => (l.quant ? formatDb(l.quant.int8.symmetric.perTensor) : 'n/a');

/** What the task is given: which model, from where, with which options. */
type CleArgs = readonly [source: 'src' | 'model', input: string | ModelInput, biasAbsorption: boolean, relu6ToRelu: boolean];

/**
 * Cross Layer Equalization of a model, before against after. At the top, what CLE did (BatchNorms folded,
 * pairs and Conv→DW→Conv triplets equalized, chains and their sweeps, candidates skipped and why, bias
 * absorbed, Relu6 rewrites, and for float16/bfloat16 models how much rounding the equalized weights back
 * to their type changed them) and a button that downloads the equalized model. Then every weight layer's
 * largest relative range before and after, worst layers first (lowest INT8 per-tensor SQNR before CLE), on
 * a log scale: click a layer, or focus the chart and use ←/→ (Home/End), to select it. Below, AIMET's
 * "changes in key stats per output channel" for the selected layer: each channel's range and mean before
 * (dotted) and after (solid), the change shaded, outlier channels in the outlier colour; hover the plot, or
 * focus it and use ←/→ (PageUp/PageDown: 10 channels, Home/End), to read a channel's figures. CLE runs in the page's Worker, with progress.
 *
 * @tag cle-compare
 *
 * @event wl-cle-applied - CLE finished (or its results were given) and is shown: `detail.report` (a CleReport).
 * @event wl-progress - CLE advanced: `detail.fraction` (0..1, never decreasing) and `detail.text`.
 * @event wl-error - CLE failed: `detail.error` (a WeightlensError naming the file).
 * @event wl-layer-select - A layer was chosen in the model-wide view: `detail.layer` (its name) and `detail.report` (its LayerReport before CLE).
 *
 * @csspart base - The element's wrapper.
 * @csspart summary - What CLE did, with the download.
 * @csspart facts - The list of what CLE did.
 * @csspart skipped - The `<details>` listing the candidates left alone, each with the reason.
 * @csspart download - The button that saves the equalized model.
 * @csspart download-note - What the download saves (or why there is none).
 * @csspart overview - The model-wide view.
 * @csspart overview-header - Its title and the key to its marks.
 * @csspart overview-plot - Its focusable chart area (click a layer, or ←/→, to select it).
 * @csspart overview-chart - Its SVG.
 * @csspart selected-layer - The band behind the selected layer.
 * @csspart layer-changes - The arrows from each layer's largest relative range before to after.
 * @csspart layers-before - Each layer's largest relative range before CLE.
 * @csspart layers-after - Each layer's largest relative range after CLE.
 * @csspart overview-readout - The layer under the pointer, else the selected one (an aria-live region).
 * @csspart overview-table - The `<details>` holding the layers' data table.
 * @csspart header - The selected layer's name, op, shape and the key to the marks.
 * @csspart plot - The focusable per-channel chart area (hover, arrow keys to read channels).
 * @csspart chart - The per-channel chart's SVG.
 * @csspart max-change - The shaded change of each channel's maximum.
 * @csspart min-change - The shaded change of each channel's minimum.
 * @csspart before-ranges - The min-to-max rules before CLE (dotted).
 * @csspart after-ranges - The min-to-max rules after CLE (solid).
 * @csspart before-outliers - The rules of channels that were outliers before CLE.
 * @csspart after-outliers - The rules of channels that are outliers after CLE.
 * @csspart before-means - The channel means before CLE.
 * @csspart after-means - The channel means after CLE.
 * @csspart cursor - The line marking the channel being read.
 * @csspart readout - The read channel's figures before and after (an aria-live region).
 * @csspart table - The `<details>` holding the channels' data table (the chart's text alternative).
 * @csspart status - The empty, running or error message.
 * @csspart progress - The progress bar while CLE runs.
 *
 * @cssproperty [--wl-color=#1f2328] - Text and axes (dark: #e6edf3).
 * @cssproperty [--wl-background=#ffffff] - Background (dark: #0d1117).
 * @cssproperty [--wl-muted-color=#57606a] - Secondary text (dark: #9ea7b3).
 * @cssproperty [--wl-border-color=#d0d7de] - Borders and table rules (dark: #3d444d).
 * @cssproperty [--wl-accent-color=#0969da] - Focus ring, progress and the selected layer's edge (dark: #4493f8).
 * @cssproperty [--wl-selected-background=#ddf4ff] - The selected layer's band (dark: #1f3a5f).
 * @cssproperty [--wl-before-color=#6e7781] - Figures before CLE (dark: #9ea7b3).
 * @cssproperty [--wl-after-color=#0969da] - Figures after CLE (dark: #58a6ff).
 * @cssproperty [--wl-change-color=#d4a72c] - The shaded change and the arrows (dark: #d29922).
 * @cssproperty [--wl-outlier-color=#c8341e] - Outlier channels (dark: #ff7b63).
 * @cssproperty [--wl-error-color=#b42318] - Error messages and the Relu6 warning (dark: #ff8f80).
 * @cssproperty [--wl-radius=6px] - Corner radius of controls.
 * @cssproperty [--wl-font=system-ui] - Font family.
 * @cssproperty [--wl-table-max-height=20em] - Height of the data tables before they scroll.
 */
export class CleCompare extends WeightlensElement {
  static override styles = [themeStyles, headerStyles, chartStyles, styles];

  static override properties = {
    src: { type: String, reflect: true },
    model: { type: String, reflect: true },
    layer: { type: String, reflect: true },
    biasAbsorption: {
      type: Boolean, reflect: true, attribute: 'no-bias-absorption',
      converter: { fromAttribute: (value: string | null) => value === null, toAttribute: (value: boolean) => (value ? null : '') },
    },
    relu6ToRelu: { type: Boolean, reflect: true, attribute: 'relu6-to-relu' },
    outcome: { attribute: false },
    report: { attribute: false },
    height: { type: Number },
  };

  /** URL of an ONNX model to equalize. */
  declare src: string | null;

  /** The id of a `<model-source>` on the page: the model it loaded (URL or files) is equalized, and the selection is shared with it. */
  declare model: string | null;

  /**
   * The layer to show per channel (its name, or its weight's name). When unset: the layer selected on the
   * `<model-source>`, else the worst layer (lowest INT8 per-tensor SQNR before CLE) that CLE equalized, else the
   * worst.
   */
  declare layer: string | null;

  /** High-bias absorption after folding and equalizing (on by default; the attribute `no-bias-absorption` turns it off). */
  declare biasAbsorption: boolean;

  /** Treat Clip(0, 6) as Relu so CLE can cross it. This changes the float model: never implied. */
  declare relu6ToRelu: boolean;

  /** A CLE result given directly (e.g. from `equalizeInWorker`): nothing is computed. Takes precedence over everything else. */
  declare outcome: CleOutcome | null;

  /** CLE results without the model (e.g. a parsed `weightlens cle --json`): shown, nothing to download. Takes precedence over `model` and `src`. */
  declare report: CleReport | null;

  /** Height of the per-channel chart in pixels (the model-wide one is 200); both fill the container's width. */
  declare height: number;

  /** @internal How CLE is run; tests replace it. */
  equalizer: Equalizer = equalizeInWorker;

  private readonly width = new WidthController(this);
  private readonly task = new AnalysisTask<CleArgs, CleOutcome>(this, {
    args: () => this.taskArgs(),
    task: ([, input, biasAbsorption, relu6ToRelu], { signal, onProgress }) => {
      const resolved: ModelInput = typeof input === 'string' ? { kind: 'url', url: input } : input;
      if (resolved.kind === 'report') {
        return Promise.reject(
          new WeightlensError('USAGE', `<model-source id="${this.model}"> holds results JSON (${resolved.report.file}): CLE needs the model itself (.onnx)`, {
            file: resolved.report.file,
          }),
        );
      }
      return this.equalizer(resolved, { signal, onProgress, cle: { biasAbsorption, relu6ToRelu } });
    },
    onProgress: (p) => this.emit('wl-progress', p),
    onError: (error) => this.emit('wl-error', { error }),
  });

  private bound: ModelHandle | undefined;
  private readonly onHandleChange = () => this.requestUpdate();
  private readonly onHandleSelect = () => {
    const name = this.bound?.selectedLayer;
    if (name && this.shownReport?.layers.some((l) => l.name === name)) this.layer = name;
  };

  private emitted: CleReport | undefined;
  private shownChange: CleLayerChange | undefined;
  private activeChange: CleLayerChange | undefined;
  private active: number | null = null;
  private hovered: number | null = null;
  private tableOpen = false;
  private overviewTableOpen = false;
  private charts = new Map<string, { key: string; node: Chart }>();
  private downloadUrls: string[] = [];

  constructor() {
    super();
    this.src = null;
    this.model = null;
    this.layer = null;
    this.biasAbsorption = true;
    this.relu6ToRelu = false;
    this.outcome = null;
    this.report = null;
    this.height = 320;
  }

  /** 'empty' (nothing to show), 'loading' (CLE running), 'ready' or 'error'. */
  get status(): ModelStatus {
    if (this.outcome || this.report) return 'ready';
    return ({ initial: 'empty', pending: 'loading', complete: 'ready', error: 'error' } as const)[this.task.status];
  }

  /** The CLE result shown: given as `outcome`, or computed; undefined for results given as `report`. */
  get result(): CleOutcome | undefined {
    if (this.outcome) return this.outcome;
    if (this.report) return undefined;
    return this.task.value;
  }

  /** The CleReport shown. */
  get shownReport(): CleReport | undefined {
    return this.outcome?.report ?? this.report ?? this.task.value?.report;
  }

  /** The error that stopped CLE, if it failed. */
  get error(): WeightlensError | undefined {
    return this.outcome || this.report ? undefined : this.task.error;
  }

  /** Saves the equalized model (and its new external-data files) as downloads; returns what was saved. */
  download(): EqualizedFile[] {
    const outcome = this.result;
    if (!outcome) return [];
    const files = equalizedFiles(outcome);
    for (const file of files) {
      const url = URL.createObjectURL(file.blob);
      this.downloadUrls.push(url);
      const a = document.createElement('a');
      a.href = url;
      a.download = file.name;
      a.rel = 'noopener';
      a.click();
      // Revoked later, not at once: the browser reads the blob after click() returns.
      setTimeout(() => this.revoke(url), 60_000);
    }
    return files;
  }

  /** Chooses the layer shown per channel, as a click in the model-wide view does (emits wl-layer-select). */
  selectLayer(name: string): void {
    const change = this.shownReport?.layers.find((l) => l.name === name);
    if (!change) return;
    this.layer = name;
    this.emit('wl-layer-select', { layer: name, report: change.before });
    this.bound?.select(name);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.bind(undefined);
    for (const url of this.downloadUrls) URL.revokeObjectURL(url);
    this.downloadUrls = [];
  }

  private revoke(url: string): void {
    URL.revokeObjectURL(url);
    this.downloadUrls = this.downloadUrls.filter((u) => u !== url);
  }

  private taskArgs(): CleArgs | undefined {
    if (!this.isConnected || this.outcome || this.report) return undefined;
    const options = [this.biasAbsorption, this.relu6ToRelu] as const;
    if (this.model) {
      this.bind(this.findModelHandle(this.model));
      const input = this.bound?.lastInput;
      return input ? ['model', input, ...options] : undefined;
    }
    this.bind(undefined);
    if (this.src) return ['src', new URL(this.src, document.baseURI).href, ...options];
    return undefined;
  }

  private bind(handle: ModelHandle | undefined): void {
    if (handle === this.bound) return;
    this.bound?.removeEventListener('change', this.onHandleChange);
    this.bound?.removeEventListener('select', this.onHandleSelect);
    this.bound = handle;
    handle?.addEventListener('change', this.onHandleChange);
    handle?.addEventListener('select', this.onHandleSelect);
  }

  /** The handle of the `<model-source>` with this id in the host's tree; looked for again once it is defined. */
  private findModelHandle(id: string): ModelHandle | undefined {
    const root = this.getRootNode() as Document | ShadowRoot;
    const found = (root.getElementById?.(id) ?? document.getElementById(id)) as (HTMLElement & { handle?: unknown }) | null;
    if (found?.handle instanceof ModelHandle) return found.handle;
    const tag = found?.localName;
    if (tag && tag.includes('-') && !customElements.get(tag)) {
      void customElements.whenDefined(tag).then(() => this.requestUpdate());
    } else if (!found && document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', () => this.requestUpdate(), { once: true });
    }
    return undefined;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const report = this.shownReport;
    if (report && report !== this.emitted && this.status === 'ready') {
      this.emitted = report;
      this.emit('wl-cle-applied', { report });
    }
  }

  override render() {
    const report = this.status === 'ready' ? this.shownReport : undefined;
    if (!report) return html`<div part="base">${this.renderStatus()}</div>`;
    return html`<div part="base">
      ${this.renderSummary(report)} ${this.renderOverview(report)} ${this.renderLayer(report)}
    </div>`;
  }

  private renderStatus(): TemplateResult {
    const status = this.status;
    if (status === 'loading') {
      const progress = this.task.progress;
      const percent = Math.round((progress?.fraction ?? 0) * 100);
      return html`<div part="status" class="status" role="status">
        <progress part="progress" max="100" value=${percent} aria-label="Equalizing the model">${percent}%</progress>
        <span>Equalizing… ${percent}%${progress?.text ? html` — ${progress.text}` : nothing}</span>
      </div>`;
    }
    if (status === 'error') {
      return html`<div part="status error" class="status error" role="alert">${this.task.error?.message ?? 'CLE failed.'}</div>`;
    }
    return html`<div part="status" class="status" role="status">No model to equalize.</div>`;
  }

  // ---- what CLE did ----------------------------------------------------------------------------------

  private renderSummary(report: CleReport): TemplateResult {
    const pairs = report.sets.filter((s) => s.kind === 'pair').length;
    const triplets = report.sets.length - pairs;
    const sweeps = report.chains.map((c) => c.sweeps);
    const rows = cleLayerRows(report);
    const improved = rows.filter((r) => r.changed && r.before !== null && r.after !== null && r.after < r.before).length;
    const folded = report.folded.map((f) => `${f.batchNorm} → ${f.into}`).join(', ');
    return html`<section part="summary" class="summary" aria-label="What CLE did">
      <ul part="facts" class="facts">
        <li title=${folded || nothing}>Folded <strong>${plural(report.folded.length, 'BatchNormalization')}</strong></li>
        <li>Equalized <strong>${plural(pairs, 'pair')}</strong> and <strong>${plural(triplets, 'Conv→DW→Conv triplet')}</strong>
          in ${plural(report.chains.length, 'chain')}${sweeps.length
            ? ` (${Math.min(...sweeps) === Math.max(...sweeps) ? plural(sweeps[0]!, 'sweep') : `${Math.min(...sweeps)}–${Math.max(...sweeps)} sweeps`} each)`
            : ''}</li>
        <li>${report.options.biasAbsorption
          ? html`High-bias absorption: <strong>${plural(report.biasAbsorbed.length, 'layer pair')}</strong>`
          : html`High-bias absorption: <strong>off</strong>`}</li>
        ${report.options.relu6ToRelu
          ? html`<li class="warning">Rewrote <strong>${plural(report.relu6Rewritten.length, 'Clip(0, 6) node')}</strong> to Relu: this changes the float model</li>`
          : nothing}
        ${report.rounding ? this.renderRoundingFact(report.rounding) : nothing}
        <li>Largest relative range lower in <strong>${improved} of ${plural(rows.length, 'layer')}</strong></li>
        ${this.renderSqnrFact(report)}
      </ul>
      ${report.skipped.length
        ? html`<details part="skipped" class="skipped">
            <summary>Skipped ${plural(report.skipped.length, 'candidate')}</summary>
            <ul>${report.skipped.map((s) => html`<li><span class="layers">${s.layers.join(' → ')}</span>: ${s.reason}</li>`)}</ul>
          </details>`
        : html`<p part="skipped" class="skipped muted">No candidates skipped.</p>`}
      ${this.renderDownload(report)}
    </section>`;
  }

  /** float16/bfloat16 models: writing the equalized weights back rounds them, which changes the function a little. */
  private renderRoundingFact(rounding: CleRounding) {
    const { dtypes, worst, layer } = roundingFacts(rounding);
    return html`<li title="‖stored − exact‖ / ‖exact‖ per layer; the figures after CLE are of the stored weights">
      Rounding back to ${dtypes} changed the equalized weights by up to <strong>${worst}</strong> (${layer})</li>`;
  }

  /** How CLE moved INT8 symmetric per-tensor SQNR, when the report carries quantization figures. */
  private renderSqnrFact(report: CleReport) {
    const deltas = report.layers.flatMap((l) => {
      const [b, a] = [int8PerTensor(l.before), int8PerTensor(l.after)];
      return typeof b === 'number' && typeof a === 'number' ? [a - b] : [];
    });
    if (deltas.length === 0) return nothing;
    const higher = deltas.filter((d) => d > 0.005).length;
    return html`<li>INT8 per-tensor SQNR higher in <strong>${higher} of ${plural(deltas.length, 'layer')}</strong>${Math.max(...deltas) > 0.005
      ? ` (up to +${Math.max(...deltas).toFixed(2)} dB)`
      : ''}</li>`;
  }

  private renderDownload(report: CleReport): TemplateResult {
    const outcome = this.result;
    if (!outcome) return html`<p part="download-note" class="download-note muted">Results only: no equalized model to download.</p>`;
    const data = [...outcome.dataFiles.keys()];
    const size = outcome.bytes.byteLength + data.reduce((n, k) => n + outcome.dataFiles.get(k)!.byteLength, 0);
    return html`<div class="download-row">
      <button part="download" type="button" class="primary" @click=${() => this.download()}>Download ${equalizedFileName(report.file)}</button>
      <span part="download-note" class="download-note muted">${(size / 1e6).toFixed(1)} MB${data.length
        ? html` — also downloads ${plural(data.length, 'external-data file')} (${data.join(', ')}): keep ${data.length === 1 ? 'it' : 'them'} beside the model`
        : nothing}</span>
    </div>`;
  }

  // ---- model-wide view ---------------------------------------------------------------------------------

  private renderOverview(report: CleReport): TemplateResult {
    const change = this.chooseChange(report);
    const rows = cleLayerRows(report);
    const width = this.width.value;
    const chart = this.chartFor('overview', `${width}|${change?.name}`, report, () =>
      renderChart(cleLayersPlot(report, { width, height: 200, selected: change?.name }), cleLayersText(report, change?.name), 'overview-chart', {
        [CLE_LAYER_MARKS.selected]: 'selected-layer',
        [CLE_LAYER_MARKS.change]: 'layer-changes',
        [CLE_LAYER_MARKS.before]: 'layers-before',
        [CLE_LAYER_MARKS.after]: 'layers-after',
      }),
    );
    const selected = change ? rows.findIndex((r) => r.name === change.name) : -1;
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
        @keydown=${(e: KeyboardEvent) => this.onOverviewKey(e, rows, selected)}
        @click=${(e: MouseEvent) => this.onOverviewClick(e, rows)}
        @pointermove=${(e: PointerEvent) => this.onOverviewHover(e, rows)}
        @pointerleave=${() => this.setHovered(null)}
      >
        ${chart}
      </div>
      <div part="overview-readout" class="readout" aria-live="polite" aria-atomic="true">
        ${read ? this.layerLine(read, rows.length, read.index === selected) : html`<span class="hint">Click a layer, or focus the chart and press ← →, to select it.</span>`}
      </div>
      ${this.renderOverviewTable(rows, change?.name)}
    </section>`;
  }

  private layerLine(row: CleLayerRow, total: number, selected: boolean): TemplateResult {
    return html`<strong>${row.index + 1} of ${total}</strong>: ${row.name} (${row.op})${row.sqnrBeforeText
        ? ` — INT8 SQNR before ${row.sqnrBeforeText}` : nothing} — largest relative range
      ${row.beforeText} → ${row.afterText}${selected ? html` <span class="hint">(selected)</span>` : nothing}`;
  }

  private renderOverviewTable(rows: CleLayerRow[], selected: string | undefined): TemplateResult {
    return html`<details part="overview-table" @toggle=${(e: Event) => this.toggle(e, 'overview')}>
      <summary>Data table: ${plural(rows.length, 'layer')}</summary>
      ${this.overviewTableOpen
        ? html`<div class="data-table" tabindex="0" role="region" aria-label="Data table of the layers before and after CLE">
            <table>
              <caption class="visually-hidden">Largest relative range of each layer before and after CLE</caption>
              <thead><tr><th scope="col">#</th><th scope="col">Layer</th><th scope="col">Op</th><th scope="col">INT8 SQNR before</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
              <tbody>
                ${rows.map((r) => html`<tr class=${r.name === selected ? 'selected' : ''} aria-current=${r.name === selected ? 'true' : nothing}>
                  <td>${r.index + 1}</td><th scope="row">${r.name}</th><td>${r.op}</td><td>${r.sqnrBeforeText || '—'}</td><td>${r.beforeText}</td><td>${r.afterText}</td>
                </tr>`)}
              </tbody>
            </table>
          </div>`
        : nothing}
    </details>`;
  }

  private overviewIndexAt(e: MouseEvent, rows: CleLayerRow[]): number | null {
    const chart = this.charts.get('overview')?.node;
    if (!chart || rows.length === 0) return null;
    const box = chart.getBoundingClientRect();
    if (box.width === 0) return null;
    const x = ((e.clientX - box.left) / box.width) * chart.width.baseVal.value;
    const i = Math.round(chart.scale('x')!.invert!(x) as number);
    return Math.min(rows.length - 1, Math.max(0, i));
  }

  private setHovered(i: number | null): void {
    if (i === this.hovered) return;
    this.hovered = i;
    this.requestUpdate();
  }

  private onOverviewHover(e: PointerEvent, rows: CleLayerRow[]): void {
    this.setHovered(this.overviewIndexAt(e, rows));
  }

  private onOverviewClick(e: MouseEvent, rows: CleLayerRow[]): void {
    const i = this.overviewIndexAt(e, rows);
    if (i !== null) this.selectLayer(rows[i]!.name);
  }

  private onOverviewKey(e: KeyboardEvent, rows: CleLayerRow[], selected: number): void {
    const step: Record<string, number> = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 10, PageDown: -10 };
    let next: number;
    if (e.key in step) next = selected + step[e.key]!;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = rows.length - 1;
    else return;
    e.preventDefault();
    this.hovered = null;
    const row = rows[Math.min(rows.length - 1, Math.max(0, next))];
    if (row) this.selectLayer(row.name);
  }

  // ---- one layer, per channel ----------------------------------------------------------------------------

  /** The layer named `layer` (name or weight name), else the model's selection, else the worst equalized, else the worst. */
  private chooseChange(report: CleReport): CleLayerChange | undefined {
    const wanted = this.layer || this.bound?.selectedLayer;
    if (wanted) return report.layers.find((l) => l.name === wanted) ?? report.layers.find((l) => l.before.weight === wanted);
    const equalized = new Set(report.sets.flatMap((s) => s.layers));
    const worst = worstFirst(report.layers, (l) => l.before);
    return worst.find((l) => equalized.has(l.name)) ?? worst[0];
  }

  private renderLayer(report: CleReport): TemplateResult {
    const change = this.chooseChange(report);
    if (!change) {
      const why = this.layer ? `no weight layer named "${this.layer}" (${report.layers.length} layers)` : 'no weight layers';
      return html`<div part="status error" class="status error" role="alert">${report.file}: ${why}</div>`;
    }
    // The read channel belongs to the layer it was read on: another layer starts afresh.
    this.shownChange = change;
    this.activeChange ??= change;
    if (channelCount(change.before) === 0) {
      return html`<section class="layer">${this.layerHeader(change)}<div part="status error" class="status error" role="alert">${change.name} has no channels</div></section>`;
    }
    const domain = clampDomain(change.before, null);
    const width = this.width.value;
    const chart = this.chartFor('layer', `${width}|${this.height}`, change, () =>
      renderChart(cleChannelPlot(change, { width, height: this.height, domain }), cleChannelText(change, domain), 'chart', {
        [CLE_CHANNEL_MARKS.maxChange]: 'max-change',
        [CLE_CHANNEL_MARKS.minChange]: 'min-change',
        [CLE_CHANNEL_MARKS.beforeRanges]: 'before-ranges',
        [CLE_CHANNEL_MARKS.afterRanges]: 'after-ranges',
        [CLE_CHANNEL_MARKS.beforeOutliers]: 'before-outliers',
        [CLE_CHANNEL_MARKS.afterOutliers]: 'after-outliers',
        [CLE_CHANNEL_MARKS.beforeMeans]: 'before-means',
        [CLE_CHANNEL_MARKS.afterMeans]: 'after-means',
      }),
    );
    return html`<section class="layer" aria-label=${`Changes in key stats per output channel of ${change.name}`}>
      ${this.layerHeader(change)}
      <div
        part="plot"
        class="plot"
        tabindex="0"
        role="group"
        aria-label=${`Changes per output channel of ${change.name}, channels ${formatSpan(domain)}. Arrow keys read one channel at a time.`}
        @keydown=${(e: KeyboardEvent) => this.onKey(e, domain)}
        @focus=${() => this.onFocus(domain)}
        @pointermove=${(e: PointerEvent) => this.onPointerMove(e, domain)}
      >
        ${chart}${this.renderCursor(chart)}
      </div>
      ${this.renderReadout(change)} ${this.renderTable(change, domain)}
    </section>`;
  }

  private layerHeader(change: CleLayerChange): TemplateResult {
    const { before, after } = change;
    const n = before.channels.min.length;
    const key = (icon: TemplateResult, text: string) => html`<span class="key"><svg width="14" height="14" viewBox="0 0 14 14">${icon}</svg>${text}</span>`;
    return html`<div part="header" class="header">
      <span class="layer-name">${change.name}</span>
      <span class="layer-meta">${opLabel(before)} · [${before.shape.join('×')}] · ${plural(n, 'channel')} ·
        largest relative range ${maxRelativeRangeText(before)} → ${maxRelativeRangeText(after)} ·
        outliers ${before.outliers.length} → ${after.outliers.length}${int8PerTensor(before) !== undefined
          ? ` · INT8 per-tensor SQNR ${sqnrText(before)} → ${sqnrText(after)}`
          : ''}</span>
      <span class="keys" aria-hidden="true">
        ${key(svg`<line x1="7" x2="7" y1="1" y2="13" stroke="var(--_before-color)" stroke-width="2" stroke-dasharray=${BEFORE_DASH}/>`, 'before')}
        ${key(svg`<line x1="7" x2="7" y1="1" y2="13" stroke="var(--_after-color)" stroke-width="2.5"/>`, 'after')}
        ${key(svg`<rect x="1" y="3" width="12" height="8" fill="var(--_change-color)" fill-opacity="0.45"/>`, 'change')}
        ${key(svg`<line x1="7" x2="7" y1="1" y2="13" stroke="var(--_outlier-color)" stroke-width="2.5"/>`, 'outlier')}
      </span>
    </div>`;
  }

  /** Renders a chart again only when its data or size changed. */
  private chartFor(slot: string, key: string, data: object, draw: () => Chart): Chart {
    const cached = this.charts.get(slot) as { key: string; node: Chart; data?: object } | undefined;
    if (cached?.key === key && cached.data === data) return cached.node;
    const node = draw();
    this.charts.set(slot, { key, node, data } as { key: string; node: Chart });
    return node;
  }

  /** The channel being read, if it belongs to the shown layer. */
  private get reading(): number | null {
    return this.activeChange === this.shownChange ? this.active : null;
  }

  private setReading(c: number): void {
    this.activeChange = this.shownChange;
    this.active = c;
    this.requestUpdate();
  }

  private renderCursor(chart: Chart) {
    const c = this.reading;
    if (c === null) return nothing;
    const x = chart.scale('x')!.apply(c) as number;
    return html`<div part="cursor" class="cursor" style="left: ${(x / chart.width.baseVal.value) * 100}%"></div>`;
  }

  private renderReadout(change: CleLayerChange) {
    const c = this.reading;
    if (c === null) {
      return html`<div part="readout" class="readout hint" aria-live="polite" aria-atomic="true">
        Hover the plot, or focus it and press ← →, to read a channel before and after CLE.
      </div>`;
    }
    const [row] = cleChannelRows(change, [c, c]);
    const { before: b, after: a } = row!;
    const outlier = [b.outlier ? 'before' : '', a.outlier ? 'after' : ''].filter(Boolean).join(' and ');
    return html`<div part="readout" class="readout" aria-live="polite" aria-atomic="true">
      <strong>Channel ${c}</strong> — <span class="before">before: min ${formatNumber(b.min)}, max ${formatNumber(b.max)}, mean ${formatNumber(b.mean)}</span>;
      <span class="after">after: min ${formatNumber(a.min)}, max ${formatNumber(a.max)}, mean ${formatNumber(a.mean)}</span>;
      relative range ${formatNumber(b.relativeRange)} → ${formatNumber(a.relativeRange)}${outlier
        ? html` — <span class="outlier">outlier ${outlier}</span>`
        : nothing}
    </div>`;
  }

  private renderTable(change: CleLayerChange, domain: ChannelDomain) {
    const rows = this.tableOpen ? cleChannelRows(change, domain) : [];
    const shown = rows.slice(0, MAX_TABLE_ROWS);
    const flag = (r: (typeof rows)[number]) => [r.before.outlier ? 'before' : '', r.after.outlier ? 'after' : ''].filter(Boolean).join(', ');
    return html`<details part="table" @toggle=${(e: Event) => this.toggle(e, 'layer')}>
      <summary>Data table: channels ${formatSpan(domain)}</summary>
      ${this.tableOpen
        ? html`<div class="data-table" tabindex="0" role="region" aria-label="Channel statistics of ${change.name} before and after CLE">
            <table>
              <caption class="visually-hidden">Per-channel weight statistics of ${change.name} before and after CLE</caption>
              <thead><tr>
                <th scope="col">Channel</th>
                <th scope="col">Min before</th><th scope="col">Min after</th>
                <th scope="col">Max before</th><th scope="col">Max after</th>
                <th scope="col">Mean before</th><th scope="col">Mean after</th>
                <th scope="col">Rel. range before</th><th scope="col">Rel. range after</th>
                <th scope="col">Outlier</th>
              </tr></thead>
              <tbody>
                ${shown.map((r) => html`<tr>
                  <th scope="row">${r.channel}</th>
                  <td>${formatNumber(r.before.min)}</td><td>${formatNumber(r.after.min)}</td>
                  <td>${formatNumber(r.before.max)}</td><td>${formatNumber(r.after.max)}</td>
                  <td>${formatNumber(r.before.mean)}</td><td>${formatNumber(r.after.mean)}</td>
                  <td>${formatNumber(r.before.relativeRange)}</td><td>${formatNumber(r.after.relativeRange)}</td>
                  <td>${flag(r)}</td>
                </tr>`)}
              </tbody>
            </table>
            ${rows.length > shown.length ? html`<p>First ${shown.length} of ${rows.length} channels.</p>` : nothing}
          </div>`
        : nothing}
    </details>`;
  }

  private toggle(e: Event, which: 'layer' | 'overview'): void {
    const open = (e.target as HTMLDetailsElement).open;
    if (which === 'layer') this.tableOpen = open;
    else this.overviewTableOpen = open;
    this.requestUpdate();
  }

  private onFocus([lo, hi]: ChannelDomain): void {
    const c = this.reading;
    if (c === null || c < lo || c > hi) this.setReading(lo);
  }

  private onKey(e: KeyboardEvent, domain: ChannelDomain): void {
    const next = channelAfterKey(e.key, this.reading, domain);
    if (next === null) return;
    e.preventDefault();
    this.setReading(next);
  }

  private onPointerMove(e: PointerEvent, [lo, hi]: ChannelDomain): void {
    const chart = this.charts.get('layer')?.node;
    if (!chart) return;
    const box = chart.getBoundingClientRect();
    if (box.width === 0) return;
    const x = ((e.clientX - box.left) / box.width) * chart.width.baseVal.value;
    const c = Math.round(chart.scale('x')!.invert!(x) as number);
    this.setReading(Math.min(hi, Math.max(lo, c)));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'cle-compare': CleCompare;
  }
}
