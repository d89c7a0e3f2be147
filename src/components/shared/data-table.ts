// The data table inside a <details> that every chart has as its text alternative. Its rows are made only
// while it is open (a layer can have thousands of channels), and at most `limit` of them.
import { html, nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';

export interface DataTableContent<R> {
  /** The `<details>` element's part. */
  part: string;
  summary: unknown;
  /** The scrolling region's accessible name. */
  label: string;
  /** The table's caption (read by screen readers, not shown). */
  caption: string;
  /** The `<thead>` rows. */
  head: TemplateResult;
  /** The rows, asked for only while the table is open. */
  rows: () => readonly R[];
  row: (r: R) => TemplateResult;
  /** Rows shown at most, and what is said when there are more. */
  limit?: { rows: number; note: (shown: number, total: number) => string };
}

export class DataTable {
  /** Whether the `<details>` is open. */
  open = false;

  constructor(private readonly host: ReactiveControllerHost) {}

  render<R>(content: DataTableContent<R>): TemplateResult {
    return html`<details part=${content.part} @toggle=${this.onToggle}>
      <summary>${content.summary}</summary>
      ${this.open ? this.renderTable(content) : nothing}
    </details>`;
  }

  private renderTable<R>({ label, caption, head, rows, row, limit }: DataTableContent<R>): TemplateResult {
    const all = rows();
    const shown = limit ? all.slice(0, limit.rows) : all;
    return html`<div class="data-table" tabindex="0" role="region" aria-label=${label}>
      <table>
        <caption class="visually-hidden">${caption}</caption>
        <thead>${head}</thead>
        <tbody>${shown.map(row)}</tbody>
      </table>
      ${limit && all.length > shown.length ? html`<p>${limit.note(shown.length, all.length)}</p>` : nothing}
    </div>`;
  }

  private readonly onToggle = (e: Event): void => {
    this.open = (e.target as HTMLDetailsElement).open;
    this.host.requestUpdate();
  };
}

/** A row about one layer of a model-wide table: its position, its name as the row header, then `cells`. */
export function layerRow(
  r: { index: number; name: string },
  selected: string | undefined,
  cells: unknown,
): TemplateResult {
  const current = r.name === selected;
  return html`<tr class=${current ? 'selected' : ''} aria-current=${current ? 'true' : nothing}>
    <td>${r.index + 1}</td>
    <th scope="row">${r.name}</th>
    ${cells}
  </tr>`;
}
