import { html, nothing, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { WeightlensError, asWeightlensError } from '../../errors.js';
import { planInWorker, quantizeInWorker } from '../../binding/worker-models.js';
import type { PlanJobOptions, PlanOutcome, QuantizedOutcome, QuantizeJobOptions } from '../../pipeline/analyze.js';
import type { ModelInput } from '../../pipeline/model-input.js';
import { releaseSpillFolder } from '../../pipeline/spill-folders.js';
import { QUANT_PLAN_MARKS, quantPlanPlot, quantPlanText } from '../../plot/quant-plan.js';
import { formatDb } from '../../plot/quant-error.js';
import type { Progress } from '../../progress.js';
import { checkPlan, choiceFor, withMethod, type LayerChoice, type QuantPlan } from '../../quant/plan.js';
import type { Budget, FrontPoint } from '../../quant/planner.js';
import { METHODS, schemeName, type QuantMethod, type QuantScheme } from '../../quant/scheme.js';
import { schemeSqnr } from '../../report/quant-error.js';
import type { LayerReport, StatsReport } from '../../report/stats-report.js';
import { megabytes } from '../../text/megabytes.js';
import { ModelViewElement } from '../model-view-element.js';
import { AnalysisTask } from '../shared/analysis-task.js';
import { ChartCache, markParts, renderChart } from '../shared/chart.js';
import { FolderSave } from '../shared/folder-save.js';
import { FileDownloads, exportedFileName, modelFiles, renderModelSave, type SavedFile } from '../shared/model-files.js';
import { RowWindow } from '../shared/row-window.js';
import { errorAlert, progressStatus } from '../shared/status.js';
import { chartStyles, tableStyles, themeStyles } from '../shared/theme.styles.js';
import { styles } from './quant-plan.styles.js';

type ModelJobInput = Exclude<ModelInput, { kind: 'report' }>;

/** Runs the data-free planner: `planInWorker` by default (src/worker/client.ts). */
export type Planner = (
  input: ModelJobInput,
  options: { signal: AbortSignal; onProgress: (p: Progress) => void; plan: PlanJobOptions },
) => Promise<PlanOutcome>;

/** Quantizes a model by a plan: `quantizeInWorker` by default (src/worker/client.ts). */
export type Quantizer = (
  input: ModelJobInput,
  options: { signal: AbortSignal; onProgress: (p: Progress) => void } & QuantizeJobOptions,
) => Promise<QuantizedOutcome>;

/** The methods "Quantize" offers, as the select names them. */
const METHOD_LABELS: readonly (readonly [QuantMethod, string])[] = [
  ['min-max', 'min-max'],
  ['clip', 'clipping search'],
  ['hqq', 'HQQ zero points (asymmetric per-group)'],
];

/** The schemes a layer can be given by hand: INT8/INT4 × symmetric/asymmetric × tensor/channel/group 32, 64, 128. */
export const HAND_SCHEMES: readonly QuantScheme[] = ([8, 4] as const).flatMap((bits) =>
  [true, false].flatMap((symmetric) => [
    { bits, symmetric, granularity: 'tensor' as const },
    { bits, symmetric, granularity: 'channel' as const },
    ...[32, 64, 128].map((block) => ({ bits, symmetric, granularity: 'group' as const, block })),
  ]),
);

/** The key of a choice in the select and among the planner's candidates ('float', or the scheme's name). */
const keyOf = (choice: LayerChoice): string => (choice === 'float' ? 'float' : schemeName(choice));

/** "INT4 asym g32", "INT8 sym channel": a short label for a scheme. */
function shortName(s: QuantScheme): string {
  const per = s.granularity === 'group' ? `g${s.block}` : s.granularity;
  const method = s.method && s.method !== 'min-max' ? ` ${s.method}` : '';
  return `INT${s.bits} ${s.symmetric ? 'sym' : 'asym'} ${per}${method}`;
}

const dbText = (v: number | undefined | null) =>
  v === undefined ? '—' : v === null || !Number.isFinite(v) ? 'exact' : formatDb(v);

/** What the planner task is given: which model, the budget, the statistics it already has. */
type PlanArgs = readonly [input: ModelJobInput | ModelInput, bits: number, floor: number | null, stats: StatsReport];

/**
 * A quantization plan for a model, chosen by the data-free planner or by hand, and the quantized model.
 * Set a budget — bits per weight (2–16), or an SQNR floor in dB that every layer must clear — and the
 * planner (in the page's Worker) chooses each layer's scheme: the plan whose worst layer SQNR is highest
 * within the budget, never worse than a uniform plan that fits. The chart shows the whole model's front of
 * weight size (MB) against worst-layer SQNR (dB), the chosen plan on it, the uniform plans (one scheme for
 * every layer) as labelled points, and the plan as changed by hand. The table lists every weight layer with
 * its scheme — a select changes it by hand: INT8 or INT4, symmetric or asymmetric, per tensor, per channel or
 * per group of 32, 64 or 128, or float — and the SQNR of the layer's weight under that scheme (from the
 * statistics); a long table draws only the rows in view. "Save plan" downloads the plan as JSON in the form
 * `weightlens quantize --plan` reads; "Load plan…" reads one (checked: a bad scheme is reported, nothing
 * changes). "Quantize" writes the QDQ model in the Worker, with progress and cancel, with the data-free fixes
 * chosen beside it: the method (min-max, the clipping search, or HQQ zero points) and bias correction. It
 * then saves it: into a folder the user picks where the browser has File System Access, else as downloads.
 * The result says how many layers the method raised and bias correction corrected, and the table shows each
 * layer's SQNR as stored (its min-max figure on hover).
 *
 * @tag quant-plan
 *
 * @event wl-plan-chosen - A plan was chosen: `detail.plan` (a QuantPlan), `detail.by` ('planner', 'hand' or 'file') and, from the planner, `detail.report` (front, chosen and uniform plans).
 * @event wl-quantized - The quantized model is ready: `detail.report` (a QuantizeReport).
 * @event wl-load - The model's results are ready: `detail.report`.
 * @event wl-progress - Loading advanced: `detail.fraction` (0..1, never decreasing) and `detail.text`.
 * @event wl-error - Loading, planning or quantizing failed: `detail.error` (a WeightlensError).
 *
 * @csspart base - The element's wrapper.
 * @csspart budget - The budget controls.
 * @csspart bits - The bits-per-weight number input.
 * @csspart bits-slider - The bits-per-weight slider.
 * @csspart sqnr-floor - The SQNR floor input (empty: the bits budget applies).
 * @csspart plan-summary - The chosen plan's size and worst layer, and the plan as changed.
 * @csspart front-plot - The chart area.
 * @csspart front-chart - The chart's SVG.
 * @csspart budget-rule - The budget's size on the chart.
 * @csspart front - The front of size against worst-layer SQNR.
 * @csspart uniform-plans - The uniform plans' points.
 * @csspart uniform-labels - The uniform plans' names.
 * @csspart chosen-plan - The planner's chosen plan.
 * @csspart current-plan - The plan as changed by hand or loaded.
 * @csspart actions - The save, load and quantize buttons.
 * @csspart save-plan - The button that downloads the plan as JSON.
 * @csspart load-plan - The file input that loads a plan (visually hidden: its label is the button).
 * @csspart load-plan-button - The label styled as the "Load plan…" button.
 * @csspart fixes - The data-free fixes applied when quantizing: the method select and the bias-correction box.
 * @csspart method - The method select: min-max, clipping search or HQQ zero points.
 * @csspart bias-correction - The bias-correction checkbox.
 * @csspart quantize - The button that quantizes the model by the plan.
 * @csspart plan-status - What became of a loaded plan, or why it was refused.
 * @csspart quantize-status - How quantizing goes: progress and cancel, cancelled, or the error.
 * @csspart quantize-progress - The progress bar while quantizing.
 * @csspart quantize-cancel - The button that stops quantizing.
 * @csspart result - The quantized model: what was stored, and its save button.
 * @csspart save - The button that saves the quantized model into a folder (where the browser has File System Access).
 * @csspart download - The button that saves the quantized model as downloads (elsewhere).
 * @csspart download-note - What is saved, and how.
 * @csspart save-status - How saving into a folder goes: progress and cancel, done, or the error.
 * @csspart save-progress - The progress bar while saving into a folder.
 * @csspart save-cancel - The button that stops saving into a folder.
 * @csspart scroller - The scrolling box around the layers' table.
 * @csspart table - The layers' table.
 * @csspart scheme - Each layer's scheme select.
 * @csspart status - The empty, loading, planning or error message.
 * @csspart progress - The progress bar while the model loads or the planner runs.
 *
 * @cssproperty [--wl-border-color=#d0d7de] - Borders and table rules (dark: #3d444d).
 * @cssproperty [--wl-accent-color=#0969da] - Focus ring, progress, buttons and the chosen plan (dark: #4493f8).
 * @cssproperty [--wl-outlier-color=#c8341e] - The plan as changed by hand (dark: #ff7b63).
 * @cssproperty [--wl-change-color=#d4a72c] - The budget's rule on the chart.
 * @cssproperty [--wl-per-group-color=#8250df] - The uniform plans' points.
 * @cssproperty [--wl-table-max-height=24em] - Height of the layers' table before it scrolls.
 */
export class QuantPlanElement extends ModelViewElement {
  static override styles = [themeStyles, chartStyles, tableStyles, styles];

  static override properties: PropertyDeclarations = {
    ...ModelViewElement.properties,
    bits: { type: Number, reflect: true },
    sqnrFloor: { type: Number, reflect: true, attribute: 'sqnr-floor' },
    method: { type: String, reflect: true },
    biasCorrection: { type: Boolean, reflect: true, attribute: 'bias-correction' },
    plan: { attribute: false },
    height: { type: Number },
  };

  /** The budget in bits per weight (2 to 16; codes, scales and zero points counted), when no `sqnr-floor` is set. */
  declare bits: number;

  /** The SQNR floor (dB) every layer must clear, smallest plan first; takes precedence over `bits` when set. */
  declare sqnrFloor: number | null;

  /**
   * The plan shown, saved and quantized by: the planner's for the budget, as changed by hand, or loaded.
   * Set it to show a plan of your own (it stays until the planner runs again: the budget or the model changed).
   */
  declare plan: QuantPlan | null;

  /**
   * How "Quantize" chooses the scales: 'min-max'; 'clip', the clipping search (per channel or block, the clip
   * ratio of least error, never worse than min-max); or 'hqq', HQQ zero points for the plan's asymmetric
   * per-group layers (the others min-max). The report gives each layer's SQNR before and after.
   */
  declare method: QuantMethod;

  /**
   * Whether "Quantize" corrects each layer's bias for the mean output shift its quantized weight causes (data
   * free: E[x] from the BatchNorm before the layer, or propagated from the model input).
   */
  declare biasCorrection: boolean;

  /** Height of the chart in pixels; it fills the container's width. */
  declare height: number;

  /** @internal How the planner is run; tests replace it. */
  planner: Planner = planInWorker;

  /** @internal How the model is quantized; tests replace it. */
  quantizer: Quantizer = quantizeInWorker;

  private readonly planTask = new AnalysisTask<PlanArgs, PlanOutcome>(this, {
    args: () => this.planArgs(),
    task: ([input, bits, floor, stats], { signal, onProgress }) => {
      if (input.kind === 'report') return Promise.reject(needsModel(input.report.file, 'planning'));
      const budget: Budget = floor === null ? { bitsPerWeight: bits } : { sqnrFloor: floor };
      return this.planner(input, { signal, onProgress, plan: { budget, stats } });
    },
    onComplete: (outcome) => {
      this.plan = outcome.plan;
      this.planMessage = undefined;
      this.emit('wl-plan-chosen', { plan: outcome.plan, by: 'planner', report: outcome.report });
    },
    onError: (error) => this.emit('wl-error', { error }),
  });

  private readonly quantizeTask = new AnalysisTask<readonly [ModelJobInput, QuantizeJobOptions], QuantizedOutcome>(
    this,
    {
      args: () => undefined, // runs on "Quantize" only
      task: ([input, job], { signal, onProgress }) => this.quantizer(input, { signal, onProgress, ...job }),
      onError: (error) => this.emit('wl-error', { error }),
    },
  );

  private readonly chart = new ChartCache();
  private readonly rowWindow = new RowWindow(this, {
    scroller: () => this.renderRoot.querySelector<HTMLElement>('.scroller'),
  });
  private readonly downloads = new FileDownloads();
  private readonly saver = new FolderSave<QuantizedOutcome>(this, {
    files: (outcome) => this.quantizedFiles(outcome),
    file: (outcome) => outcome.report.file,
    pickerId: 'weightlens-quantize',
  });
  /** What became of the last loaded plan: an error, or a note. */
  private planMessage: { error: boolean; text: string } | undefined;
  private cancelled = false;
  /** What the last quantization was asked with: a quantized model belongs to its plan, method and fixes. */
  private quantizedWith: { plan: QuantPlan; method: QuantMethod; biasCorrection: boolean } | null = null;
  private emittedQuantized: QuantizedOutcome | undefined;
  /** The quantized outcome this element holds: its spilled codes (OPFS files) are deleted when it is dropped. */
  private owned: QuantizedOutcome | undefined;

  constructor() {
    super();
    this.bits = 6;
    this.sqnrFloor = null;
    this.plan = null;
    this.method = 'min-max';
    this.biasCorrection = false;
    this.height = 280;
  }

  /** The planner's last answer: the plan for the budget, its front, chosen and uniform plans, each layer's candidates. */
  get planned(): PlanOutcome | undefined {
    return this.planTask.value;
  }

  /** The quantized model, once "Quantize" finished (dropped when the plan, the method or bias correction change). */
  get quantized(): QuantizedOutcome | undefined {
    return this.quantizeTask.value;
  }

  /** The error that stopped the planner or quantization, if one did. */
  get jobError(): WeightlensError | undefined {
    return this.quantizeTask.error ?? this.planTask.error;
  }

  /** The plan as JSON text, in the form `weightlens quantize --plan` reads (empty object before any plan). */
  planJson(): string {
    return `${JSON.stringify(this.plan ?? {}, null, 2)}\n`;
  }

  /** Downloads the plan as `<model>.plan.json`. */
  savePlan(): void {
    const file = this.handle?.report?.file ?? 'model';
    const name = `${
      file
        .split(/[?#]/)[0]!
        .split(/[\\/]/)
        .pop()!
        .replace(/\.onnx$/i, '') || 'model'
    }.plan.json`;
    this.downloads.save([{ name, blob: new Blob([this.planJson()], { type: 'application/json' }) }]);
  }

  /**
   * Reads a plan file (JSON, checked as `weightlens quantize --plan` checks it) and shows it; a bad file is
   * reported in the element's status and changes nothing. Resolves when done; never rejects.
   */
  async loadPlan(file: Blob & { name?: string }): Promise<void> {
    const where = file.name || 'the plan file';
    try {
      let value: unknown;
      try {
        value = JSON.parse(await file.text());
      } catch (e) {
        throw new WeightlensError('USAGE', `${where}: not JSON (${(e as Error).message})`, { file: where });
      }
      const plan = checkPlan(value, where);
      const names = new Set(this.handle?.report?.layers.map((l) => l.name) ?? []);
      const unknown = Object.keys(plan.layers ?? {}).filter((n) => names.size && !names.has(n));
      this.plan = plan;
      this.planMessage = {
        error: false,
        text: `Loaded ${where}.${unknown.length ? ` ${unknown.length} of its layer names are not in this model (e.g. "${unknown[0]}"): they are ignored.` : ''}`,
      };
      this.emit('wl-plan-chosen', { plan, by: 'file' });
    } catch (e) {
      this.planMessage = { error: true, text: asWeightlensError(e, where).message };
    }
    this.requestUpdate();
  }

  /** Gives `layer` a scheme (or 'float') by hand, as its select does (emits wl-plan-chosen). */
  choose(layer: string, choice: LayerChoice): void {
    const base = this.plan ?? { default: 'float' as const };
    const plan: QuantPlan = { ...base, layers: { ...(base.layers ?? {}), [layer]: choice } };
    this.plan = plan;
    this.emit('wl-plan-chosen', { plan, by: 'hand' });
  }

  /** Quantizes the model by the plan in the Worker, as "Quantize" does. Resolves when done; never rejects. */
  quantize(): Promise<void> {
    const input = this.models.handle?.lastInput;
    if (!this.plan || !input) return Promise.resolve();
    this.cancelled = false;
    if (input.kind === 'report') {
      this.quantizeTask.error = needsModel(input.report.file, 'quantization');
      this.quantizeTask.status = 'error';
      this.requestUpdate();
      return Promise.resolve();
    }
    const method = METHODS.includes(this.method) ? this.method : 'min-max';
    this.quantizedWith = { plan: this.plan, method, biasCorrection: this.biasCorrection };
    const job = { plan: withMethod(this.plan, method), ...(this.biasCorrection ? { biasCorrection: true } : {}) };
    return this.quantizeTask.run([input, job]);
  }

  /** Stops quantizing, if it runs. */
  cancelQuantize(): void {
    if (this.quantizeTask.status !== 'pending') return;
    this.quantizeTask.reset();
    this.cancelled = true;
    this.requestUpdate();
  }

  /** Saves the quantized model (and its new external-data files) as downloads; returns what was saved. */
  download(): SavedFile[] {
    const outcome = this.quantized;
    if (!outcome) return [];
    const files = this.quantizedFiles(outcome);
    this.downloads.save(files);
    return files;
  }

  /** Asks for a folder and saves the quantized model there (File System Access), as "Save … to a folder…" does. */
  saveToFolder(): Promise<void> {
    const outcome = this.quantized;
    return outcome ? this.saver.save(outcome) : Promise.resolve();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.downloads.revokeAll();
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.quantizeTask.reset();
      this.dropOwned(undefined);
    });
  }

  private quantizedFiles(outcome: QuantizedOutcome): SavedFile[] {
    const file = outcome.report.file;
    return modelFiles(outcome, exportedFileName(file, 'qdq'), file, 'quantized');
  }

  private dropOwned(next: QuantizedOutcome | undefined): void {
    const folder = this.owned?.spillFolder;
    this.owned = next;
    if (folder) void releaseSpillFolder(folder);
  }

  private planArgs(): PlanArgs | undefined {
    const handle = this.models.handle;
    if (!this.isConnected || handle?.status !== 'ready' || !handle.report || !handle.lastInput) return undefined;
    const floor = typeof this.sqnrFloor === 'number' && Number.isFinite(this.sqnrFloor) ? this.sqnrFloor : null;
    const bits = Math.min(16, Math.max(2, Number.isFinite(this.bits) ? this.bits : 6));
    return [handle.lastInput, bits, floor, handle.report];
  }

  protected override willUpdate(changed: PropertyValues): void {
    super.willUpdate(changed);
    // A quantized model belongs to the plan, method and fixes it was made with.
    const made = this.quantizedWith;
    const differs =
      !made || made.plan !== this.plan || made.method !== this.method || made.biasCorrection !== this.biasCorrection;
    if (
      (changed.has('plan') || changed.has('method') || changed.has('biasCorrection')) &&
      this.quantizeTask.status !== 'initial' &&
      differs
    ) {
      this.quantizeTask.reset();
    }
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const outcome = this.quantizeTask.value;
    if (outcome !== this.owned) this.dropOwned(outcome);
    if (outcome && outcome !== this.emittedQuantized) {
      this.emittedQuantized = outcome;
      this.emit('wl-quantized', { report: outcome.report });
    }
  }

  override render() {
    const status = this.renderStatus();
    const report = this.handle?.status === 'ready' ? this.handle.report : undefined;
    if (status !== nothing || !report) return html`<div part="base">${status}</div>`;
    return html`<div part="base">
      ${this.renderBudget()} ${this.renderPlanner(report)} ${this.renderActions()} ${this.renderQuantized()}
      ${this.renderTable(report)}
    </div>`;
  }

  private renderBudget(): TemplateResult {
    const floor = this.sqnrFloor;
    const setBits = (e: Event) => {
      const v = Number((e.target as HTMLInputElement).value);
      if (Number.isFinite(v) && v >= 2 && v <= 16) this.bits = v;
    };
    return html`<div part="budget" class="budget">
      <label
        >Budget
        <input part="bits" type="number" min="2" max="16" step="0.25" .value=${String(this.bits)} ?disabled=${floor !== null} @change=${setBits} />
        bits per weight</label
      >
      <input part="bits-slider" type="range" min="2" max="16" step="0.25" aria-label="Bits per weight" .value=${String(this.bits)} ?disabled=${floor !== null} @change=${setBits} />
      <label
        >or every layer at least
        <input
          part="sqnr-floor"
          type="number"
          step="1"
          placeholder="—"
          .value=${floor === null ? '' : String(floor)}
          @change=${(e: Event) => {
            const raw = (e.target as HTMLInputElement).value;
            this.sqnrFloor = raw === '' ? null : Number(raw);
          }}
        />
        dB SQNR</label
      >
    </div>`;
  }

  private renderPlanner(report: StatsReport): TemplateResult {
    const task = this.planTask;
    if (task.status === 'pending') return progressStatus(task.progress, 'Planning', 'Running the planner');
    if (task.status === 'error') return errorAlert(task.error?.message ?? 'The planner failed.');
    const planned = task.value;
    if (!planned) return html`<div part="status" class="status" role="status">No plan yet.</div>`;
    const weights = planned.layers.reduce((n, l) => n + l.weights, 0);
    const budgetBytes = this.sqnrFloor === null || !Number.isFinite(this.sqnrFloor) ? (this.bits * weights) / 8 : null;
    const current = this.plan && this.plan !== planned.plan ? this.pointOf(this.plan, planned) : null;
    const width = this.width.value;
    const chart = this.chart.get(
      `${width}|${this.height}|${budgetBytes}|${current?.bytes}|${current?.worstSqnr}`,
      planned,
      () =>
        renderChart(
          quantPlanPlot(planned.report, { width, height: this.height, current, budgetBytes }),
          quantPlanText(planned.report, report.file, current),
          'front-chart',
          markParts(QUANT_PLAN_MARKS, {
            budget: 'budget-rule',
            uniform: 'uniform-plans',
            uniformLabels: 'uniform-labels',
            chosen: 'chosen-plan',
            current: 'current-plan',
          }),
        ),
    );
    const line = (p: FrontPoint) =>
      `${megabytes(p.bytes)} MB (${((p.bytes * 8) / Math.max(1, weights)).toFixed(2)} bits per weight), worst layer ${dbText(p.worstSqnr)}`;
    const { chosen } = planned.report;
    const misses = budgetBytes !== null && chosen.bytes > budgetBytes;
    return html`<p part="plan-summary" class="summary" role="status">
        Planner's plan: ${line(chosen)} of ${megabytes(planned.report.floatBytes)} MB float.${
          misses ? html` <span class="warning">No plan fits the budget: this is the smallest there is.</span>` : nothing
        }${current ? html`<br />As changed: ${line(current)}.` : nothing}
      </p>
      <div part="front-plot" class="plot">${chart}</div>`;
  }

  /** A plan's size and worst layer from the planner's candidates (a scheme that is no candidate counts as float). */
  private pointOf(plan: QuantPlan, planned: PlanOutcome): FrontPoint {
    let bits = 0;
    let worst = Infinity;
    for (const l of planned.layers) {
      const want = keyOf(choiceFor(plan, l.name));
      const c = l.candidates.find((c) => keyOf(c.choice) === want) ?? l.candidates.find((c) => c.choice === 'float')!;
      bits += c.bits;
      worst = Math.min(worst, c.sqnr);
    }
    return { bytes: bits / 8, worstSqnr: worst };
  }

  private renderActions(): TemplateResult {
    const running = this.quantizeTask.status === 'pending';
    const message = this.planMessage;
    return html`<div part="actions" class="actions">
        <button part="save-plan" type="button" ?disabled=${!this.plan} @click=${() => this.savePlan()}>Save plan</button>
        <input
          part="load-plan"
          id="plan-file"
          class="file-input visually-hidden"
          type="file"
          accept=".json,application/json"
          @change=${(e: Event) => {
            const input = e.target as HTMLInputElement;
            const file = input.files?.[0];
            input.value = '';
            if (file) void this.loadPlan(file);
          }}
        />
        <label part="load-plan-button" class="file-button" for="plan-file">Load plan…</label>
        <span part="fixes" class="fixes">
          <label
            >Method
            <select
              part="method"
              @change=${(e: Event) => (this.method = (e.target as HTMLSelectElement).value as QuantMethod)}
            >
              ${METHOD_LABELS.map(
                ([value, label]) => html`<option value=${value} ?selected=${value === this.method}>${label}</option>`,
              )}
            </select></label
          >
          <label
            ><input
              part="bias-correction"
              type="checkbox"
              .checked=${this.biasCorrection}
              @change=${(e: Event) => (this.biasCorrection = (e.target as HTMLInputElement).checked)}
            />
            Bias correction</label
          >
        </span>
        <button part="quantize" type="button" class="primary" ?disabled=${!this.plan || running} @click=${() => void this.quantize()}>
          Quantize
        </button>
      </div>
      ${
        message
          ? message.error
            ? errorAlert(message.text, 'plan-status error')
            : html`<div part="plan-status" class="status" role="status">${message.text}</div>`
          : nothing
      }`;
  }

  private renderQuantized(): TemplateResult | typeof nothing {
    const task = this.quantizeTask;
    if (task.status === 'pending') {
      return html`<div part="quantize-status" class="status" role="status">
        <progress part="quantize-progress" max="100" value=${Math.round((task.progress?.fraction ?? 0) * 100)} aria-label="Quantizing the model"></progress>
        <span>Quantizing… ${Math.round((task.progress?.fraction ?? 0) * 100)}%${task.progress?.text ? ` — ${task.progress.text}` : ''}</span>
        <button part="quantize-cancel" type="button" @click=${() => this.cancelQuantize()}>Cancel</button>
      </div>`;
    }
    if (task.status === 'error')
      return errorAlert(task.error?.message ?? 'Quantization failed.', 'quantize-status error');
    if (this.cancelled)
      return html`<div part="quantize-status" class="status" role="status">Quantization cancelled.</div>`;
    const outcome = task.value;
    if (!outcome) return nothing;
    const r = outcome.report;
    const worstOf = (sqnr: (l: (typeof r.layers)[number]) => number | null) =>
      r.layers.reduce<number | null>((w, l) => {
        const v = sqnr(l);
        return v === null ? w : w === null ? v : Math.min(w, v);
      }, null);
    const [worst, worstMinMax] = [worstOf((l) => l.sqnr), worstOf((l) => l.minMaxSqnr)];
    const improved = r.layers.filter((l) => l.sqnr !== null && l.minMaxSqnr !== null && l.sqnr > l.minMaxSqnr).length;
    const bc = r.biasCorrection;
    const name = exportedFileName(r.file, 'qdq');
    return html`<div part="result" class="result">
      <p>
        Quantized ${r.layers.length} ${r.layers.length === 1 ? 'layer' : 'layers'}${r.kept.length ? `, ${r.kept.length} kept float` : ''} (opset
        ${r.opset.before}${r.opset.after !== r.opset.before ? ` → ${r.opset.after}` : ''}); worst stored SQNR ${dbText(worst)}${
          improved
            ? ` (min-max ${dbText(worstMinMax)}; the method raised ${improved} of ${r.layers.length} layers)`
            : ''
        }.${
          bc
            ? ` Bias correction: ${bc.layers.length} ${bc.layers.length === 1 ? 'layer' : 'layers'} corrected${bc.skipped.length ? `, ${bc.skipped.length} left alone (${bc.skipped[0]!.name}: ${bc.skipped[0]!.reason})` : ''}.`
            : ''
        }
      </p>
      ${renderModelSave(
        outcome,
        name,
        'quantized',
        this.saver.actionsFor(outcome, () => this.download()),
      )}
    </div>`;
  }

  private renderTable(report: StatsReport): TemplateResult {
    const layers = report.layers;
    const planned = this.planTask.value;
    const candidates = new Map(planned?.layers.map((l) => [l.name, new Set(l.candidates.map((c) => keyOf(c.choice)))]));
    const stored = new Map(this.quantized?.report.layers.map((l) => [l.name, l]));
    const kept = new Map(this.quantized?.report.kept.map((k) => [k.name, k.reason]));
    const hasStored = !!this.quantized;
    const columns = hasStored ? 5 : 4;
    const { start, end, before, after } = this.rowWindow.range(layers.length);
    return html`<div part="scroller" class="scroller" @scroll=${this.rowWindow.onScroll}>
      <table part="table" aria-label=${`Quantization plan of ${report.file}`} aria-rowcount=${layers.length + 1}>
        <thead>
          <tr aria-rowindex="1">
            <th scope="col">#</th>
            <th scope="col" class="text">Layer</th>
            <th scope="col" class="text">Scheme</th>
            <th scope="col">SQNR</th>
            ${hasStored ? html`<th scope="col">Stored SQNR</th>` : nothing}
          </tr>
        </thead>
        <tbody>
          ${this.rowWindow.spacer(before, columns)}
          ${repeat(
            layers.slice(start, end),
            (l) => l.name,
            (l, i) =>
              this.renderRow(l, start + i, candidates.get(l.name), hasStored, stored.get(l.name), kept.get(l.name)),
          )}
          ${this.rowWindow.spacer(after, columns)}
        </tbody>
      </table>
    </div>`;
  }

  private renderRow(
    layer: LayerReport,
    index: number,
    allowed: Set<string> | undefined,
    hasStored: boolean,
    stored: { sqnr: number | null; minMaxSqnr: number | null } | undefined,
    keptReason: string | undefined,
  ): TemplateResult {
    const choice = this.plan ? choiceFor(this.plan, layer.name) : 'float';
    const key = keyOf(choice);
    const known = key === 'float' || HAND_SCHEMES.some((s) => schemeName(s) === key);
    const sqnr = choice === 'float' ? undefined : schemeSqnr(layer, choice);
    const option = (s: QuantScheme) => {
      const k = schemeName(s);
      return html`<option value=${k} ?disabled=${!!allowed && !allowed.has(k)} ?selected=${k === key}>${shortName(s)}</option>`;
    };
    return html`<tr aria-rowindex=${index + 2}>
      <td>${index + 1}</td>
      <th scope="row" class="text">${layer.name}</th>
      <td class="text">
        <select
          part="scheme"
          aria-label=${`Scheme of ${layer.name}`}
          data-layer=${layer.name}
          @change=${(e: Event) => {
            const value = (e.target as HTMLSelectElement).value;
            this.choose(layer.name, value === 'float' ? 'float' : HAND_SCHEMES.find((s) => schemeName(s) === value)!);
          }}
        >
          <option value="float" ?selected=${key === 'float'}>float</option>
          ${known ? nothing : html`<option value=${key} selected>${shortName(choice as QuantScheme)}</option>`}
          ${HAND_SCHEMES.map(option)}
        </select>
      </td>
      <td>${choice === 'float' ? 'float' : dbText(sqnr)}</td>
      ${
        hasStored
          ? html`<td title=${keptReason ?? (stored && stored.minMaxSqnr !== stored.sqnr ? `min-max: ${dbText(stored.minMaxSqnr)}` : nothing)}>
            ${keptReason || (choice === 'float' && stored === undefined) ? 'float' : stored === undefined ? '—' : dbText(stored.sqnr)}
          </td>`
          : nothing
      }
    </tr>`;
  }
}

const needsModel = (file: string, what: string) =>
  new WeightlensError('USAGE', `${file}: ${what} needs the ONNX model itself (.onnx), not its results JSON`, { file });

declare global {
  interface HTMLElementTagNameMap {
    'quant-plan': QuantPlanElement;
  }
}
