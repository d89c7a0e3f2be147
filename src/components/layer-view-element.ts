// What the elements that show one layer of a model share: the `layer` property, which follows the layer
// selected on the model, and the choice of the layer to draw (or the status or problem shown instead).
import { html, nothing, type PropertyDeclarations, type TemplateResult } from 'lit';
import type { LayerReport } from '../report/stats-report.js';
import { ModelViewElement } from './model-view-element.js';

export class LayerViewElement extends ModelViewElement {
  static override properties: PropertyDeclarations = {
    layer: { type: String, reflect: true },
  };

  /**
   * The layer to show (its name, or its weight's name). When unset: the layer selected on the model,
   * else the worst (lowest INT8 per-tensor SQNR). Updated when the model's selection changes, so the
   * element follows a `<layer-table>` bound to the same model.
   */
  declare layer: string | null;

  constructor() {
    super();
    this.layer = null;
  }

  protected override selectionChanged(layer: string | undefined): void {
    if (layer) this.layer = layer;
  }

  /** The layer to draw, or what to show instead: progress, a load error, or that no layer has that name. */
  protected layerToDraw(): { layer: LayerReport } | { instead: TemplateResult } {
    const status = this.renderStatus();
    const report = this.models.report;
    if (status !== nothing || !report) return { instead: html`<div part="base">${status}</div>` };
    const layer = this.chooseLayer(report, this.layer);
    if (layer) return { layer };
    const problem = `${report.file}: no weight layer named "${this.layer}" (${report.layers.length} layers)`;
    return { instead: html`<div part="base">${this.renderProblem(problem)}</div>` };
  }
}
