import { html, nothing, type PropertyValues } from 'lit';
import type { ModelHandle, ModelStatus } from '../../binding/model-handle.js';
import { workerModelHandle } from '../../binding/worker-models.js';
import { WeightlensElement } from '../base-element.js';
import { errorAlert, progressStatus } from '../shared/status.js';
import { themeStyles } from '../shared/theme.styles.js';
import { styles } from './model-source.styles.js';

const integer = new Intl.NumberFormat('en-US');

/**
 * The page's model picker: open an ONNX model (with its external-data files, if any) or a results JSON
 * from a file input, by dropping the files, or from a URL. Shows the loading progress with a cancel
 * button and any error. Other kit elements show its model with `model="<this element's id>"`; they all
 * share its one load and its selected layer. The analysis runs in a Worker; removing the element cancels
 * a load in progress and lets go of the model (put back, it loads it again).
 *
 * @tag model-source
 *
 * @event wl-load - The model's results are ready: `detail.report`.
 * @event wl-progress - Loading advanced: `detail.fraction` (0..1, never decreasing) and `detail.text`.
 * @event wl-error - Loading failed: `detail.error` (a WeightlensError naming the file).
 *
 * @csspart base - The element's wrapper.
 * @csspart dropzone - The area that takes dropped files, holding the file button.
 * @csspart file-button - The label styled as the "Open files" button.
 * @csspart folder-button - The label styled as the "Open a folder" button: a model and its external data in
 *   one folder (subfolders included), where the browser offers folder picking.
 * @csspart url-form - The URL field and its button.
 * @csspart url-input - The URL field.
 * @csspart load-button - The button loading the URL.
 * @csspart status - The progress, error or loaded-model line.
 * @csspart progress - The loading progress bar.
 * @csspart cancel-button - The button cancelling the load.
 *
 * @cssproperty [--wl-border-color=#d0d7de] - Borders, the drop zone's outline (dark: #3d444d).
 * @cssproperty [--wl-accent-color=#0969da] - File button, focus ring, drop highlight, progress (dark: #4493f8).
 * @cssproperty [--wl-selected-background=#ddf4ff] - The drop zone while files are dragged over it (dark: #1f3a5f).
 */
export class ModelSource extends WeightlensElement {
  static override styles = [themeStyles, styles];

  static override properties = {
    src: { type: String, reflect: true },
  };

  /** URL of the model (or results JSON) to load first; setting it loads that URL. */
  declare src: string | null;

  /** The model this element loads; other elements bound with `model="<id>"` use it. */
  readonly handle: ModelHandle = workerModelHandle();

  private lastStatus: ModelStatus = 'empty';
  private lastProgress = -1;
  private readonly onChange = () => this.changed();

  private dragOver = false;

  constructor() {
    super();
    this.src = null;
  }

  /** The model's state: 'empty', 'loading', 'ready' or 'error'. */
  get status(): ModelStatus {
    return this.handle.status;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.handle.addEventListener('change', this.onChange);
    // Back in the page after a removal let go of the model: load it again (a URL or the same Files).
    const input = this.handle.lastInput;
    if (this.hasUpdated && input && this.handle.status === 'empty') void this.handle.load(input);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.handle.removeEventListener('change', this.onChange);
    // After a microtask, so moving the element within the page does not cancel its load. Disposing also
    // frees the decoded model the Worker keeps for histograms.
    queueMicrotask(() => {
      if (!this.isConnected) this.handle.dispose();
    });
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('src') && this.src) void this.handle.load({ kind: 'url', url: this.src });
  }

  override render() {
    return html`<div part="base" class="base">
      <div
        part="dropzone"
        class="drop ${this.dragOver ? 'over' : ''}"
        @dragenter=${this.onDragOver}
        @dragover=${this.onDragOver}
        @dragleave=${() => this.setDragOver(false)}
        @drop=${this.onDrop}
      >
        <input id="files" class="file-input visually-hidden" type="file" multiple @change=${this.onFiles} />
        <label part="file-button" class="file-button" for="files">Open model files…</label>
        <input id="folder" class="file-input visually-hidden" type="file" webkitdirectory @change=${this.onFiles} />
        <label part="folder-button" class="file-button" for="folder">Open a folder…</label>
        <span class="hint">or drop them here: the .onnx file and any external-data files, or a weightlens JSON</span>
      </div>
      <form part="url-form" @submit=${this.onSubmit}>
        <label for="url">Model URL</label>
        <input part="url-input" id="url" name="url" type="text" inputmode="url" autocomplete="url" spellcheck="false" placeholder="https://…/model.onnx" />
        <button part="load-button" type="submit">Load</button>
      </form>
      ${this.renderStatus()}
    </div>`;
  }

  private renderStatus() {
    const h = this.handle;
    switch (h.status) {
      case 'loading':
        return progressStatus(
          h.progress,
          'Loading',
          'Loading the model',
          html`<button part="cancel-button" type="button" @click=${() => h.cancel()}>Cancel</button>`,
        );
      case 'error':
        return errorAlert(h.error?.message ?? 'Loading failed.', 'status');
      case 'ready': {
        const r = h.report!;
        return html`<div part="status" class="status done" role="status">
          Loaded ${r.file}: ${r.layers.length} weight layers, ${integer.format(r.model.parameters)} parameters.
        </div>`;
      }
      default:
        return nothing;
    }
  }

  private onDragOver(e: DragEvent): void {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    this.setDragOver(true);
  }

  private setDragOver(over: boolean): void {
    if (over === this.dragOver) return;
    this.dragOver = over;
    this.requestUpdate();
  }

  private onDrop(e: DragEvent): void {
    e.preventDefault();
    this.setDragOver(false);
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) void this.handle.load({ kind: 'files', files });
  }

  private onFiles(e: Event): void {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length) void this.handle.load({ kind: 'files', files });
  }

  private onSubmit(e: SubmitEvent): void {
    e.preventDefault();
    const url = (new FormData(e.target as HTMLFormElement).get('url') as string | null)?.trim();
    if (url) void this.handle.load({ kind: 'url', url });
  }

  private changed(): void {
    const h = this.handle;
    if (h.status !== this.lastStatus) {
      this.lastStatus = h.status;
      if (h.status === 'ready' && h.report) this.emit('wl-load', { report: h.report });
      if (h.status === 'error' && h.error) this.emit('wl-error', { error: h.error });
      if (h.status === 'loading') this.lastProgress = -1;
    }
    if (h.status === 'loading' && h.progress && h.progress.fraction !== this.lastProgress) {
      this.lastProgress = h.progress.fraction;
      this.emit('wl-progress', h.progress);
    }
    this.requestUpdate();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'model-source': ModelSource;
  }
}
