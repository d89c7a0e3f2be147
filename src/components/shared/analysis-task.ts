// A long computation owned by one element (in the spirit of @lit/task): it runs when the host's inputs
// change, reports progress, is cancelled when the inputs change again or the host leaves the page (and
// runs again when it comes back), and ends complete or in error. Nothing else — no caching or sharing.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { asWeightlensError, type WeightlensError } from '../../errors.js';
import { advanced, type Progress } from '../../progress.js';

export type TaskStatus = 'initial' | 'pending' | 'complete' | 'error';

export interface TaskRun {
  signal: AbortSignal;
  onProgress: (p: Progress) => void;
}

export interface AnalysisTaskOptions<A extends readonly unknown[], R> {
  /** The inputs, read on every host update and compared entry by entry (===); undefined: nothing to run. */
  args: () => A | undefined;
  task: (args: A, run: TaskRun) => Promise<R>;
  /** Progress of the current run: `fraction` never decreases within a run. */
  onProgress?: (p: Progress) => void;
  onComplete?: (value: R) => void;
  onError?: (error: WeightlensError) => void;
}

const sameArgs = (a: readonly unknown[] | undefined, b: readonly unknown[] | undefined) =>
  a === b || (!!a && !!b && a.length === b.length && a.every((v, i) => v === b[i]));

export class AnalysisTask<A extends readonly unknown[], R> implements ReactiveController {
  status: TaskStatus = 'initial';
  value: R | undefined;
  error: WeightlensError | undefined;
  progress: Progress | undefined;
  private lastArgs: A | undefined;
  private running: AbortController | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: AnalysisTaskOptions<A, R>,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    // Back on the page after a run was interrupted: run again on the next update.
    if (this.status === 'pending' && !this.running) this.lastArgs = undefined;
    this.host.requestUpdate();
  }

  hostUpdate(): void {
    const args = this.options.args();
    if (sameArgs(args, this.lastArgs)) return;
    this.lastArgs = args;
    if (args) void this.run(args);
    else this.reset();
  }

  hostDisconnected(): void {
    const running = this.running;
    this.running = undefined;
    running?.abort();
  }

  /** Runs the task now (cancelling a run in progress), whatever the inputs. Resolves when done; never rejects. */
  async run(args: A): Promise<void> {
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    this.status = 'pending';
    this.progress = { fraction: 0, text: 'starting' };
    this.error = undefined;
    this.value = undefined;
    const current = () => this.running === controller;
    try {
      const value = await this.options.task(args, {
        signal: controller.signal,
        onProgress: (p) => {
          if (!current()) return;
          this.progress = advanced(this.progress, p);
          this.options.onProgress?.(this.progress);
          this.host.requestUpdate();
        },
      });
      if (!current()) return;
      this.running = undefined;
      this.status = 'complete';
      this.value = value;
      this.progress = { fraction: 1, text: 'done' };
      this.options.onComplete?.(value);
    } catch (cause) {
      if (!current()) return; // superseded or cancelled: not this run's error to show
      this.running = undefined;
      this.status = 'error';
      this.error = asWeightlensError(cause);
      this.options.onError?.(this.error);
    }
    this.host.requestUpdate();
  }

  /**
   * Stops the run in progress, if any, keeping the inputs: the task ends in error with `error` (e.g. ABORTED)
   * and runs again only when the inputs change, or by run(). onError is not called: the caller asked for it.
   */
  cancel(error: WeightlensError): void {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    running.abort();
    this.status = 'error';
    this.error = error;
    this.host.requestUpdate();
  }

  /** Stops the run in progress, if any, and forgets the inputs: the task is 'initial' again. */
  reset(): void {
    this.running?.abort();
    this.running = undefined;
    this.lastArgs = undefined; // the same inputs run again
    this.status = 'initial';
    this.value = undefined;
    this.error = undefined;
    this.progress = undefined;
  }
}
