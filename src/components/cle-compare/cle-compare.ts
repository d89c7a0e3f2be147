import { html, type PropertyValues, type TemplateResult } from 'lit';
import { WeightlensError } from '../../errors.js';
import { ModelController } from '../../binding/model-controller.js';
import type { Progress } from '../../progress.js';
import type { ModelStatus } from '../../binding/model-handle.js';
import type { ModelInput } from '../../pipeline/model-input.js';
import type { CleLayerChange, CleOptions, CleOutcome, CleReport } from '../../report/cle-report.js';
import { worstFirst } from '../../report/worst-layers.js';
import { equalizeInWorker } from '../../binding/worker-models.js';
import { releaseSpillFolder } from '../../pipeline/spill-folders.js';
import { WeightlensElement } from '../base-element.js';
import { AnalysisTask } from '../shared/analysis-task.js';
import { errorAlert, progressStatus, sourceErrorReference } from '../shared/status.js';
import { changeStyles, chartStyles, headerStyles, themeStyles } from '../shared/theme.styles.js';
import { WidthController } from '../shared/width-controller.js';
import { equalizedFiles, renderDownload, type EqualizedFile } from './cle-download.js';
import { FolderSave } from '../shared/folder-save.js';
import { FileDownloads } from '../shared/model-files.js';
import { renderFacts } from './cle-facts.js';
import { LayerChangeView } from '../shared/layer-change-view.js';
import { CLE_SIDES } from '../../plot/cle-channels.js';
import { CleOverview } from './cle-overview.js';
import { styles } from './cle-compare.styles.js';

export { equalizedFileName, equalizedFiles, type EqualizedFile } from './cle-download.js';

/** Runs CLE on a model: `equalizeInWorker` by default (src/worker/client.ts). */
export type Equalizer = (
  input: Exclude<ModelInput, { kind: 'report' }>,
  options: { signal: AbortSignal; onProgress: (p: Progress) => void; cle: CleOptions },
) => Promise<CleOutcome>;

/** What the task is given: which model, from where, with which options. */
type CleArgs = readonly [
  source: 'src' | 'model',
  input: string | ModelInput,
  biasAbsorption: boolean,
  relu6ToRelu: boolean,
];

/**
 * Cross Layer Equalization of a model, before against after. At the top, what CLE did (BatchNorms folded,
 * pairs and Conv→DW→Conv triplets equalized, chains and their sweeps, candidates skipped and why, bias
 * absorbed, Relu6 rewrites, and for float16/bfloat16 models how much rounding the equalized weights back
 * to their type changed them) and a button that saves the equalized model: into a folder the user picks
 * where the browser has File System Access (Chromium), streamed to disk with progress and cancel, never
 * over an existing file; elsewhere as the browser's downloads, with a note saying so. A model opened from
 * files (with its external data) is saved as one model and one data file holding every tensor; one opened
 * by URL keeps reading its unchanged tensors from the original data files, and the note says so. Then every weight layer's
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
 * @csspart save - The button that saves the equalized model into a folder (where the browser has File System Access).
 * @csspart download - The button that saves the equalized model as downloads (where the browser has no File System Access).
 * @csspart download-note - What is saved, and how (or why there is nothing to save).
 * @csspart save-status - How saving into a folder goes: progress and cancel, done, or the error.
 * @csspart save-progress - The progress bar while saving into a folder.
 * @csspart save-cancel - The button that stops saving into a folder (the files begun are removed).
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
 * @cssproperty [--wl-border-color=#d0d7de] - Borders and table rules (dark: #3d444d).
 * @cssproperty [--wl-accent-color=#0969da] - Focus ring, progress and the selected layer's edge (dark: #4493f8).
 * @cssproperty [--wl-selected-background=#ddf4ff] - The selected layer's band (dark: #1f3a5f).
 * @cssproperty [--wl-before-color=#6e7781] - Figures before CLE (dark: #9ea7b3).
 * @cssproperty [--wl-after-color=#0969da] - Figures after CLE (dark: #58a6ff).
 * @cssproperty [--wl-change-color=#d4a72c] - The shaded change and the arrows (dark: #d29922).
 * @cssproperty [--wl-outlier-color=#c8341e] - Outlier channels (dark: #ff7b63).
 * @cssproperty [--wl-error-color=#b42318] - Error messages and the Relu6 warning (dark: #ff8f80).
 * @cssproperty [--wl-table-max-height=20em] - Height of the data tables before they scroll.
 */
export class CleCompare extends WeightlensElement {
  static override styles = [themeStyles, changeStyles, headerStyles, chartStyles, styles];

  static override properties = {
    src: { type: String, reflect: true },
    model: { type: String, reflect: true },
    layer: { type: String, reflect: true },
    biasAbsorption: {
      type: Boolean,
      reflect: true,
      attribute: 'no-bias-absorption',
      converter: {
        fromAttribute: (value: string | null) => value === null,
        toAttribute: (value: boolean) => (value ? null : ''),
      },
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

  /** The `<model-source>` named by `model`, if any: its model is equalized and its selection shared. */
  private readonly models = new ModelController(this, {
    source: () => ({ model: this.outcome || this.report ? null : this.model }),
    emitEvents: false,
    onSelect: (name) => {
      if (name && this.shownReport?.layers.some((l) => l.name === name)) this.layer = name;
    },
  });
  private readonly width = new WidthController(this);
  private readonly task = new AnalysisTask<CleArgs, CleOutcome>(this, {
    args: () => this.taskArgs(),
    task: ([, input, biasAbsorption, relu6ToRelu], { signal, onProgress }) => {
      const resolved: ModelInput = typeof input === 'string' ? { kind: 'url', url: input } : input;
      if (resolved.kind === 'report') {
        return Promise.reject(
          new WeightlensError(
            'USAGE',
            `<model-source id="${this.model}"> holds results JSON (${resolved.report.file}): CLE needs the model itself (.onnx)`,
            {
              file: resolved.report.file,
            },
          ),
        );
      }
      return this.equalizer(resolved, { signal, onProgress, cle: { biasAbsorption, relu6ToRelu } });
    },
    onProgress: (p) => this.emit('wl-progress', p),
    onError: (error) => this.emit('wl-error', { error }),
  });
  private readonly overview = new CleOverview(this, (name) => this.selectLayer(name));
  private readonly layerView = new LayerChangeView(this, CLE_SIDES);
  private readonly downloads = new FileDownloads();
  private readonly saver = new FolderSave<CleOutcome>(this, {
    files: equalizedFiles,
    file: (outcome) => outcome.report.file,
    pickerId: 'weightlens-cle',
  });
  private emitted: CleReport | undefined;
  /** The outcome this element computed: its spilled weights (OPFS files) are deleted when it is dropped. */
  private owned: CleOutcome | undefined;

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
    this.downloads.save(files);
    return files;
  }

  /**
   * Asks for a folder and saves the equalized model and its data files there (File System Access), as the
   * "Save … to a folder…" button does; resolves when the save ended (the element shows how). Does nothing
   * where the browser has no `showDirectoryPicker`.
   */
  saveToFolder(): Promise<void> {
    const outcome = this.result;
    return outcome ? this.saver.save(outcome) : Promise.resolve();
  }

  /** Chooses the layer shown per channel, as a click in the model-wide view does (emits wl-layer-select). */
  selectLayer(name: string): void {
    const change = this.shownReport?.layers.find((l) => l.name === name);
    if (!change) return;
    this.layer = name;
    this.emit('wl-layer-select', { layer: name, report: change.before });
    this.models.handle?.select(name);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.downloads.revokeAll();
    // Removed from the page (a move reconnects before this microtask): its equalized files go, and CLE runs
    // again should it come back. Without this they would stay on disk as long as the page is open.
    queueMicrotask(() => {
      if (this.isConnected || !this.owned) return;
      this.dropOwned(undefined);
      this.task.reset();
    });
  }

  /** Releases the spilled weights of the outcome this element computed, which `next` replaces. */
  private dropOwned(next: CleOutcome | undefined): void {
    const folder = this.owned?.spillFolder;
    this.owned = next;
    if (folder) void releaseSpillFolder(folder);
  }

  private taskArgs(): CleArgs | undefined {
    if (!this.isConnected || this.outcome || this.report) return undefined;
    const options = [this.biasAbsorption, this.relu6ToRelu] as const;
    if (this.model) {
      const input = this.models.handle?.lastInput;
      return input ? ['model', input, ...options] : undefined;
    }
    if (this.src) return ['src', new URL(this.src, document.baseURI).href, ...options];
    return undefined;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (this.task.value !== this.owned) this.dropOwned(this.task.value); // a new run, or its inputs went away
    const report = this.shownReport;
    if (report && report !== this.emitted && this.status === 'ready') {
      this.emitted = report;
      this.emit('wl-cle-applied', { report });
    }
  }

  override render() {
    const report = this.status === 'ready' ? this.shownReport : undefined;
    if (!report) return html`<div part="base">${this.renderStatus()}</div>`;
    const change = this.chooseChange(report);
    return html`<div part="base">
      ${renderFacts(report, this.renderDownload(report))}
      ${this.overview.render(report, change?.name, this.width.value)} ${change ? this.layerView.render(change, this.width.value, this.height) : this.missingLayer(report)}
    </div>`;
  }

  /** No layer to show per channel: the one asked for is not in the report, or there is none. */
  private missingLayer(report: CleReport): TemplateResult {
    const wanted = this.layer;
    const why = wanted ? `no weight layer named "${wanted}" (${report.layers.length} layers)` : 'no weight layers';
    return errorAlert(`${report.file}: ${why}`);
  }

  private renderDownload(report: CleReport): TemplateResult {
    const outcome = this.result;
    return renderDownload(
      report,
      outcome && { outcome, actions: this.saver.actionsFor(outcome, () => this.download()) },
    );
  }

  private renderStatus(): TemplateResult {
    const status = this.status;
    if (status === 'loading') return progressStatus(this.task.progress, 'Equalizing', 'Equalizing the model');
    if (status === 'error') {
      // The <model-source> could not read the model either: it shows why.
      if (this.model && this.models.handle?.status === 'error') return sourceErrorReference(this.model);
      return errorAlert(this.task.error?.message ?? 'CLE failed.');
    }
    return html`<div part="status" class="status" role="status">No model to equalize.</div>`;
  }

  /** The layer named `layer` (name or weight name), else the model's selection, else the worst equalized, else the worst. */
  private chooseChange(report: CleReport): CleLayerChange | undefined {
    const wanted = this.layer || this.models.handle?.selectedLayer;
    if (wanted)
      return report.layers.find((l) => l.name === wanted) ?? report.layers.find((l) => l.before.weight === wanted);
    const equalized = new Set(report.sets.flatMap((s) => s.layers));
    const worst = worstFirst(report.layers, (l) => l.before);
    return worst.find((l) => equalized.has(l.name)) ?? worst[0];
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'cle-compare': CleCompare;
  }
}
