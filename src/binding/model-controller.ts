// Binds a kit element to its model: from `report` (results given directly), `model` (the id of a
// <model-source> on the page) or `src` (a URL, shared with other elements naming it). Re-renders the
// host on changes, re-emits them as the host's wl-load / wl-progress / wl-error events (unless told not
// to) and tells the host when the model's selected layer changes.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { WlEventDetails } from '../events/index.js';
import type { StatsReport } from '../report/stats-report.js';
import { elementById } from './element-by-id.js';
import { ModelHandle } from './model-handle.js';
import { acquireUrlModel, releaseUrlModel } from './shared-models.js';
import { workerModelHandle } from './worker-models.js';

/** The element a ModelController serves: it can emit the kit's events (every WeightlensElement can). */
export interface ModelHost extends ReactiveControllerHost, HTMLElement {
  emit<K extends keyof WlEventDetails>(name: K, detail: WlEventDetails[K]): unknown;
}

/** The properties a host exposes to say where its model comes from. */
export interface ModelSourceProps {
  src?: string | null;
  model?: string | null;
  report?: StatsReport | null;
}

/** Anything with a `handle`: <model-source> is one. */
interface HandleOwner extends HTMLElement {
  readonly handle: ModelHandle;
}

type Binding = { key: string; handle: ModelHandle; release(): void };

export interface ModelControllerOptions {
  /** Where the model comes from (e.g. the host's own `src`, `model` and `report`), read on every update. */
  source: () => ModelSourceProps;
  /** Re-emit the model's load, progress and error as the host's wl-* events (default true). */
  emitEvents?: boolean;
  /** Called when the bound model's selected layer changes (ModelHandle.select, e.g. from <layer-table>). */
  onSelect?: (layer: string | undefined) => void;
}

export class ModelController implements ReactiveController {
  private binding: Binding | undefined;
  private lastStatus: string | undefined;
  private lastProgress = -1;
  private readonly onChange = () => this.changed();
  private readonly onSelect = () => this.options.onSelect?.(this.handle?.selectedLayer);

  constructor(
    private readonly host: ModelHost,
    private readonly options: ModelControllerOptions,
  ) {
    host.addController(this);
  }

  private get source(): ModelSourceProps {
    return this.options.source();
  }

  get handle(): ModelHandle | undefined {
    return this.binding?.handle;
  }

  get report(): StatsReport | undefined {
    return this.binding?.handle.report;
  }

  hostConnected(): void {
    this.rebind();
  }

  hostUpdate(): void {
    this.rebind();
  }

  hostDisconnected(): void {
    this.unbind();
  }

  private keyOf(): string {
    const { report, model, src } = this.source;
    if (report) return 'report';
    if (model) return `model:${model}`;
    if (src) return `src:${new URL(src, document.baseURI).href}`;
    return '';
  }

  private rebind(): void {
    if (!this.host.isConnected) return;
    const key = this.keyOf();
    if (key === 'report' && this.binding?.key === 'report') {
      const report = this.source.report!;
      if (this.binding.handle.report !== report) void this.binding.handle.load({ kind: 'report', report });
      return;
    }
    if (key === this.binding?.key) return;
    this.unbind();
    const binding = this.bindTo(key);
    if (!binding) return;
    this.binding = binding;
    this.lastStatus = undefined;
    this.lastProgress = -1;
    binding.handle.addEventListener('change', this.onChange);
    binding.handle.addEventListener('select', this.onSelect);
    this.changed();
  }

  private bindTo(key: string): Binding | undefined {
    if (key === 'report') {
      const handle = workerModelHandle();
      void handle.load({ kind: 'report', report: this.source.report! });
      return { key, handle, release() {} };
    }
    if (key.startsWith('model:')) {
      const owner = elementById(this.host, key.slice('model:'.length)) as Partial<HandleOwner> | null;
      return owner?.handle instanceof ModelHandle ? { key, handle: owner.handle, release() {} } : undefined;
    }
    if (key.startsWith('src:')) {
      const url = key.slice('src:'.length);
      return { key, handle: acquireUrlModel(url), release: () => releaseUrlModel(url) };
    }
    return undefined;
  }

  private unbind(): void {
    if (!this.binding) return;
    this.binding.handle.removeEventListener('change', this.onChange);
    this.binding.handle.removeEventListener('select', this.onSelect);
    this.binding.release();
    this.binding = undefined;
  }

  private changed(): void {
    const handle = this.binding?.handle;
    if (!handle) return;
    if (this.options.emitEvents !== false) this.emitChange(handle);
    this.host.requestUpdate();
  }

  private emitChange(handle: ModelHandle): void {
    if (handle.status === 'loading' && handle.progress && handle.progress.fraction !== this.lastProgress) {
      this.lastProgress = handle.progress.fraction;
      this.host.emit('wl-progress', handle.progress);
    }
    if (handle.status !== this.lastStatus) {
      this.lastStatus = handle.status;
      if (handle.status === 'ready' && handle.report) this.host.emit('wl-load', { report: handle.report });
      if (handle.status === 'error' && handle.error) this.host.emit('wl-error', { error: handle.error });
      if (handle.status === 'loading') this.lastProgress = -1;
    }
  }
}
