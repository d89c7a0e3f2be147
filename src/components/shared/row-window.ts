// The rows of a long table that are drawn: those in view of its scroller plus an overscan, between two
// spacer rows that keep the scrollbar's extent, so the DOM stays small with thousands of rows. Rows are
// taken to be of one height, measured on the rows drawn (once per scroller width). A short table is drawn
// whole.
import { html, nothing, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';

export interface RowWindowOptions {
  /** The scrolling box around the table; null before the first render. */
  scroller: () => HTMLElement | null;
  /** Tables of up to this many rows are drawn whole. */
  whole?: number;
  /** Rows drawn beyond each edge of the view. */
  overscan?: number;
}

/** The rows drawn, `[start, end)`, and the heights (px) of the spacers before and after them. */
export interface RowRange {
  start: number;
  end: number;
  before: number;
  after: number;
}

/** A guess at a row's height before one is measured, and at the view before layout. */
const GUESS = { row: 28, view: 600 };

export class RowWindow implements ReactiveController {
  private readonly whole: number;
  private readonly overscan: number;
  private rowHeight = 0;
  private measuredWidth = -1;
  /** The rows asked for last, and of how many: scrolling compares against them. */
  private drawn: { total: number; start: number; end: number } = { total: 0, start: 0, end: 0 };

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: RowWindowOptions,
  ) {
    this.whole = options.whole ?? 200;
    this.overscan = options.overscan ?? 10;
    host.addController(this);
  }

  /** The rows of `total` to draw now. */
  range(total: number): RowRange {
    const { start, end } = this.compute(total);
    this.drawn = { total, start, end };
    const h = this.height;
    return { start, end, before: start * h, after: (total - end) * h };
  }

  /** Rows one page key moves by: a view's worth (less one, so one row stays in sight). */
  get page(): number {
    const view = this.options.scroller()?.clientHeight || GUESS.view;
    return Math.max(1, Math.floor(view / this.height) - 1);
  }

  /** Scrolls so that row `index` is in the rows drawn next (the caller then draws and focuses it). */
  reveal(index: number): void {
    const scroller = this.options.scroller();
    if (!scroller || this.drawn.total <= this.whole) return;
    const h = this.height;
    const view = scroller.clientHeight || GUESS.view;
    const top = index * h;
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + h > scroller.scrollTop + view) scroller.scrollTop = top + h - view;
  }

  /** A spacer row of `height` px across `columns` cells, hidden from assistive technology. */
  spacer(height: number, columns: number): TemplateResult | typeof nothing {
    return height > 0
      ? html`<tr class="spacer" aria-hidden="true"><td colspan=${columns} style="height: ${height}px; padding: 0; border: 0"></td></tr>`
      : nothing;
  }

  /** The scroller's scroll listener: draws again when the rows in view are not the ones drawn. */
  readonly onScroll = (): void => {
    const { total, start, end } = this.drawn;
    const next = this.compute(total);
    if (next.start !== start || next.end !== end) this.host.requestUpdate();
  };

  hostUpdated(): void {
    const scroller = this.options.scroller();
    if (!scroller || this.drawn.total <= this.whole || scroller.clientWidth === this.measuredWidth) return;
    const rows = scroller.querySelectorAll<HTMLElement>('tbody > tr:not(.spacer)');
    if (rows.length === 0) return;
    const first = rows[0]!.getBoundingClientRect();
    const last = rows[rows.length - 1]!.getBoundingClientRect();
    const height = (last.bottom - first.top) / rows.length;
    if (height <= 0) return;
    this.measuredWidth = scroller.clientWidth;
    if (Math.abs(height - this.rowHeight) < 0.5) return;
    this.rowHeight = height;
    this.host.requestUpdate();
  }

  private get height(): number {
    return this.rowHeight || GUESS.row;
  }

  private compute(total: number): { start: number; end: number } {
    if (total <= this.whole) return { start: 0, end: total };
    const scroller = this.options.scroller();
    const h = this.height;
    const view = Math.ceil((scroller?.clientHeight || GUESS.view) / h);
    const first = Math.min(Math.floor((scroller?.scrollTop ?? 0) / h), Math.max(0, total - view));
    return {
      start: Math.max(0, first - this.overscan),
      end: Math.min(total, first + view + this.overscan),
    };
  }
}
