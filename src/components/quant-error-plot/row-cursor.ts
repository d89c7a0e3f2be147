// The cursor over <quant-error-plot>'s rows (one a layer, top to bottom): ↑/↓ (or →/←) one row,
// PageDown/PageUp ten, Home/End the ends, Enter or Space chooses the row; the pointer moves the cursor to
// the row under it and a click chooses that row. Unlike a channel readout, down is forward here.
import type { ReactiveControllerHost } from 'lit';
import { quantRowGeometry } from '../../plot/quant-error.js';
import type { Chart } from '../shared/chart.js';

const STEPS: Record<string, number> = {
  ArrowDown: 1,
  ArrowRight: 1,
  ArrowUp: -1,
  ArrowLeft: -1,
  PageDown: 10,
  PageUp: -10,
};

export interface RowCursorOptions<R> {
  /** The chart drawn last, to find the row under the pointer. */
  chart: () => Chart | undefined;
  /** Chooses a row (clicked, or Enter on it). */
  choose: (row: R) => void;
}

export class RowCursor<R> {
  private rank: number | null = null;

  constructor(
    private readonly host: ReactiveControllerHost & { readonly renderRoot: ParentNode },
    private readonly options: RowCursorOptions<R>,
  ) {}

  /** The row under the cursor, if any and if there are that many rows. */
  at(rows: number): number | null {
    return this.rank !== null && this.rank < rows ? this.rank : null;
  }

  /** Moves (null: hides) the cursor. */
  set(rank: number | null): void {
    if (rank === this.rank) return;
    this.rank = rank;
    this.host.requestUpdate();
  }

  /** The row under the pointer, of `rows`; null off the rows or before layout. */
  rankAt(e: MouseEvent, rows: number): number | null {
    const chart = this.options.chart();
    if (!chart || rows === 0) return null;
    const box = chart.getBoundingClientRect();
    if (box.height === 0) return null;
    const y = ((e.clientY - box.top) / box.height) * chart.height.baseVal.value;
    const { top, rowHeight } = quantRowGeometry(rows);
    const rank = Math.floor((y - top) / rowHeight);
    return rank >= 0 && rank < rows ? rank : null;
  }

  onClick(e: MouseEvent, rows: readonly R[]): void {
    const rank = this.rankAt(e, rows.length);
    if (rank !== null) this.options.choose(rows[rank]!);
  }

  /** A key on the plot: the cursor starts from the chosen row (`chosen`, -1 for none). */
  onKey(e: KeyboardEvent, rows: readonly R[], chosen: number): void {
    const from = this.rank ?? (chosen >= 0 ? chosen : -1);
    let next: number;
    if (e.key in STEPS) next = from < 0 ? 0 : from + STEPS[e.key]!;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = rows.length - 1;
    else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const row = rows[from];
      if (row) this.options.choose(row);
      return;
    } else return;
    e.preventDefault();
    this.set(Math.min(rows.length - 1, Math.max(0, next)));
    void this.host.updateComplete.then(() =>
      this.host.renderRoot.querySelector('.cursor')?.scrollIntoView({ block: 'nearest' }),
    );
  }
}
