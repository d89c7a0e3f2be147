// Progress as every layer reports it, from reading bytes to an element's progress bar, and the meter
// that turns steps into one throttled overall figure: a 100 MB model read in 64 KB chunks would
// otherwise post thousands of messages and re-render an element for each.

/** How far a task is: `fraction` 0..1 (never decreasing within one task) and what is being done. */
export interface Progress {
  fraction: number;
  text: string;
  /** Seconds left at the pace so far: set once a task has run a few seconds (etaSeconds). */
  eta?: number;
}

/** A task is timed only after this long and this far: earlier, the pace says little. */
const ETA_AFTER_MS = 2000;
const ETA_AFTER_FRACTION = 0.01;

/** Seconds left for a task started at `startedAt` (ms) that is `fraction` done at `now`; undefined early on. */
export function etaSeconds(startedAt: number, now: number, fraction: number): number | undefined {
  const elapsed = now - startedAt;
  if (elapsed < ETA_AFTER_MS || fraction < ETA_AFTER_FRACTION || fraction >= 1) return undefined;
  return Math.round((elapsed * (1 - fraction)) / fraction / 1000);
}

export const PROGRESS_INTERVAL_MS = 50;

/**
 * What a listener shows after `next` arrives: its text, and a fraction that never goes back (messages from a
 * Worker or a retried step may arrive out of order or restart a phase).
 */
export function advanced(shown: Progress | undefined, next: Progress): Progress {
  const fraction = Math.max(next.fraction, shown?.fraction ?? 0);
  return { fraction, text: next.text, ...(next.eta === undefined ? {} : { eta: next.eta }) };
}

export class ProgressMeter {
  private last = -1;
  private lastAt = -Infinity;
  private startedAt?: number;

  constructor(
    private readonly emit: (p: Progress) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Reports `fraction` (clamped below 1) unless it does not advance or the previous message is less
   * than PROGRESS_INTERVAL_MS old: what listeners see is strictly increasing and at most ~20 per second.
   */
  report(fraction: number, text: string): void {
    const f = Math.min(Math.max(fraction, 0), 0.999);
    if (f <= this.last) return;
    const t = this.now();
    this.startedAt ??= t;
    if (t - this.lastAt < PROGRESS_INTERVAL_MS) return;
    this.last = f;
    this.lastAt = t;
    const eta = etaSeconds(this.startedAt, t, f);
    this.emit({ fraction: f, text, ...(eta === undefined ? {} : { eta }) });
  }

  /** The final 1.0, always sent once. */
  done(text = 'done'): void {
    if (this.last >= 1) return;
    this.last = 1;
    this.emit({ fraction: 1, text });
  }

  /** A reporter for one phase occupying [from, to] of the whole; `part` is 0..1 within the phase. */
  span(from: number, to: number): (part: number, text: string) => void {
    return (part, text) => this.report(from + (to - from) * Math.min(Math.max(part, 0), 1), text);
  }
}
