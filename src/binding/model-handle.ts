// One model as the elements of a page see it: its loading state, its results and the selected layer.
// Elements bound to the same handle read the model once and follow one selection.
import { WeightlensError, asWeightlensError } from '../errors.js';
import type { StatsReport } from '../report/stats-report.js';
import { needsModelError, type HistogramRequest, type LayerHistogram } from '../report/weight-histogram.js';
import type { Analyzer, ModelWeights } from '../pipeline/analyzer.js';
import { modelInputName, type ModelInput } from '../pipeline/model-input.js';
import { advanced, type Progress } from '../progress.js';

export type ModelStatus = 'empty' | 'loading' | 'ready' | 'error';

/** Sessions are unique in the page: one per load, so a histogram never reads a model loaded after it was asked. */
let nextSession = 1;

/**
 * Events (plain Event, read the handle's fields): 'change' on any state change, 'select' when the
 * selected layer changes.
 */
export class ModelHandle extends EventTarget {
  status: ModelStatus = 'empty';
  progress: Progress | undefined;
  report: StatsReport | undefined;
  error: WeightlensError | undefined;
  selectedLayer: string | undefined;
  /**
   * What was last loaded (a URL, files or results), so another computation — e.g. <cle-compare>'s CLE —
   * can start from the same model. Bytes were transferred to the Worker: they are not kept.
   */
  lastInput: ModelInput | undefined;
  /** The session under which the analyzer keeps the shown model's weights; undefined for results given as such. */
  session: number | undefined;
  private running: AbortController | undefined;

  constructor(
    private readonly analyzer: Analyzer,
    private readonly weights?: ModelWeights,
  ) {
    super();
  }

  /** Loads `input`, cancelling any load in progress. Resolves when done; never rejects (see status). */
  async load(input: ModelInput): Promise<void> {
    this.cancel();
    this.lastInput = input;
    if (input.kind === 'report') {
      this.finish(input.report, undefined);
      return;
    }
    const session = this.weights ? nextSession++ : undefined;
    const controller = new AbortController();
    this.running = controller;
    this.status = 'loading';
    this.progress = { fraction: 0, text: 'starting' };
    this.error = undefined;
    this.changed();
    try {
      const report = await this.analyzer(input, {
        signal: controller.signal,
        onProgress: (p) => {
          if (this.running !== controller) return;
          this.progress = advanced(this.progress, p);
          this.changed();
        },
        ...(session === undefined ? {} : { session }),
      });
      if (this.running === controller) this.finish(report, session);
      else if (session !== undefined) this.weights!.release(session); // superseded: kept for nobody
    } catch (cause) {
      if (session !== undefined) this.weights!.release(session);
      if (this.running !== controller) return; // superseded or cancelled: not this load's error to show
      this.running = undefined;
      this.status = 'error';
      this.error = asWeightlensError(cause, modelInputName(input));
      this.changed();
    }
  }

  /** Stops the load in progress, if any; the handle goes back to empty (or keeps its last results). */
  cancel(): void {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    running.abort();
    this.status = this.report ? 'ready' : 'empty';
    this.progress = undefined;
    this.changed();
  }

  /**
   * Histogram of a layer's weights in the shown model, computed where the model was analysed (the Worker).
   * Rejects NO_WEIGHTS when the shown results came without a model (results JSON).
   */
  histogram(request: HistogramRequest, signal: AbortSignal): Promise<LayerHistogram> {
    const file = this.report?.file ?? 'the model';
    if (this.status !== 'ready' || !this.weights) {
      return Promise.reject(
        new WeightlensError('USAGE', `${file}: no model is ready for a histogram (status "${this.status}")`, { file }),
      );
    }
    if (this.session === undefined) {
      return Promise.reject(needsModelError(file));
    }
    return this.weights
      .histogram(this.session, request, signal)
      .catch((e: unknown) => Promise.reject(asWeightlensError(e, file)));
  }

  /** Stops any load and lets go of the model (its kept weights too): the handle is empty again. */
  dispose(): void {
    this.cancel();
    this.releaseWeights();
    this.report = undefined;
    this.status = 'empty';
    this.progress = undefined;
    this.changed();
  }

  select(layer: string): void {
    if (layer === this.selectedLayer) return;
    this.selectedLayer = layer;
    this.dispatchEvent(new Event('select'));
    this.changed();
  }

  private finish(report: StatsReport, session: number | undefined): void {
    this.releaseWeights();
    this.session = session;
    this.running = undefined;
    this.report = report;
    this.status = 'ready';
    this.progress = { fraction: 1, text: 'done' };
    this.error = undefined;
    if (this.selectedLayer && !report.layers.some((l) => l.name === this.selectedLayer)) this.selectedLayer = undefined;
    this.changed();
  }

  private releaseWeights(): void {
    if (this.session !== undefined) this.weights?.release(this.session);
    this.session = undefined;
  }

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }
}
