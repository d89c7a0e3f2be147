// What every element that shows a model's results shares: the src / model / report properties bound
// through a ModelController (one handle per model per page), the loading and error states, the width of
// the container (WidthController) and the handle's layer selection.
import { html, nothing, type PropertyDeclarations, type TemplateResult } from 'lit';
import { WeightlensElement } from './base-element.js';
import { ModelController } from '../binding/model-controller.js';
import type { ModelHandle, ModelStatus } from '../binding/model-handle.js';
import type { LayerReport, StatsReport } from '../report/stats-report.js';
import { worstFirst } from '../report/worst-layers.js';
import { WidthController } from './shared/width-controller.js';
import { errorAlert, progressStatus, sourceErrorReference } from './shared/status.js';

export class ModelViewElement extends WeightlensElement {
  static override properties: PropertyDeclarations = {
    src: { type: String, reflect: true },
    model: { type: String, reflect: true },
    report: { attribute: false },
  };

  /**
   * URL of an ONNX model or of a results JSON (`weightlens stats --json`). Elements naming the same URL
   * share one load.
   */
  declare src: string | null;

  /** The id of a `<model-source>` on the page whose model this element shows. */
  declare model: string | null;

  /** Results given directly (e.g. a parsed `weightlens stats --json`); takes precedence over `model` and `src`. */
  declare report: StatsReport | null;

  /** @internal */
  protected readonly models = new ModelController(this, {
    source: () => this,
    onSelect: (layer) => this.selectionChanged(layer),
  });

  /** @internal The container's width, to draw the charts at. */
  protected readonly width = new WidthController(this);

  constructor() {
    super();
    this.src = null;
    this.model = null;
    this.report = null;
  }

  /**
   * Each element updates in a task of its own: when a model's results arrive, every element bound to it
   * draws, and drawing them all in one task would block the page for longer than 50 ms.
   * @internal
   */
  protected override async scheduleUpdate(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    super.scheduleUpdate();
  }

  /** The bound model's state: 'empty', 'loading', 'ready' or 'error'. */
  get status(): ModelStatus {
    return this.models.handle?.status ?? 'empty';
  }

  /** The bound model's handle (shared with the other elements bound to the same model). */
  get handle(): ModelHandle | undefined {
    return this.models.handle;
  }

  /** Called when the bound handle's selected layer changes (ModelHandle.select, e.g. from <layer-table>). */
  protected selectionChanged(_layer: string | undefined): void {
    this.requestUpdate();
  }

  /** The layer named `name` (layer name or weight name), else the handle's selection, else the worst (see worstFirst). */
  protected chooseLayer(report: StatsReport, name: string | null | undefined): LayerReport | undefined {
    const wanted = name || this.models.handle?.selectedLayer;
    if (!wanted) return worstFirst(report.layers)[0];
    return report.layers.find((l) => l.name === wanted) ?? report.layers.find((l) => l.weight === wanted);
  }

  /** Progress, error or empty message; nothing once the results are ready. */
  protected renderStatus(): TemplateResult | typeof nothing {
    const handle = this.models.handle;
    if (!handle || handle.status === 'empty') {
      return html`<div part="status" class="status" role="status">No model loaded.</div>`;
    }
    if (handle.status === 'loading') return progressStatus(handle.progress, 'Loading', 'Loading the model');
    if (handle.status === 'error') {
      // Bound to a <model-source>: it shows the error in full.
      if (this.model && !this.report) return sourceErrorReference(this.model);
      return errorAlert(handle.error?.message ?? 'Loading failed.');
    }
    return nothing;
  }

  /** A problem with ready results (e.g. no such layer), shown like a load error. */
  protected renderProblem(message: string): TemplateResult {
    return errorAlert(message);
  }
}
