// <quant-error-plot>'s data table: every layer's figures (INT8 and INT4, symmetric and asymmetric,
// per-tensor, per-channel and per-group for the block size shown), and when comparing with CLE the shown
// figures before it.
import { html, nothing, type TemplateResult } from 'lit';
import { formatDb, schemeLabel, type QuantBits, type QuantErrorRow, type QuantScheme } from '../../plot/quant-error.js';
import { groupSqnr, type QuantFigures } from '../../report/quant-error.js';
import { plural } from '../../text/plural.js';
import { layerRow, type DataTable } from '../shared/data-table.js';

const FIGURES = [
  ['int8', 'symmetric'],
  ['int8', 'asymmetric'],
  ['int4', 'symmetric'],
  ['int4', 'asymmetric'],
] as const;

const cells = (f: QuantFigures | undefined) =>
  f ? html`<td>${formatDb(f.perTensor)}</td><td>${formatDb(f.perChannel)}</td>` : html`<td>n/a</td><td>n/a</td>`;

/** The per-group cell for `block`: "n/a" where the results have no such figure. */
const groupCell = (f: QuantFigures | undefined, block: number) => {
  const v = groupSqnr(f, block);
  return html`<td>${v === undefined ? 'n/a' : formatDb(v)}</td>`;
};

export interface QuantErrorTableOptions {
  /** The figures the chart shows: their "before CLE" columns are added when comparing. */
  bits: QuantBits;
  scheme: QuantScheme;
  /** The block size of the per-group columns; null: the results have none. */
  block: number | null;
  selected: string | undefined;
  comparing: boolean;
}

export function quantErrorTable(
  table: DataTable,
  rows: QuantErrorRow[],
  { bits, scheme, block, selected, comparing }: QuantErrorTableOptions,
): TemplateResult {
  const span = block === null ? 2 : 3;
  return table.render({
    part: 'table',
    summary: `Data table: SQNR of ${plural(rows.length, 'layer')}, INT8 and INT4, symmetric and asymmetric`,
    label: 'SQNR of every layer',
    caption:
      `SQNR in dB of each layer's fake-quantized weights, per-tensor, per-channel` +
      `${block === null ? '' : ` and per-group in blocks of ${block}`} ("exact": no error)`,
    head: html`<tr>
        <td colspan="2"></td>
        ${FIGURES.map(([b, s]) => html`<th scope="colgroup" colspan=${span}>${b.toUpperCase()} ${s}${comparing ? ' after CLE' : ''}</th>`)}
        ${comparing ? html`<th scope="colgroup" colspan="2">${schemeLabel(bits, scheme)} before CLE</th>` : nothing}
      </tr>
      <tr>
        <th scope="col">#</th><th scope="col">Layer</th>
        ${FIGURES.map(
          () =>
            html`<th scope="col">per-tensor</th><th scope="col">per-channel</th>${block === null ? nothing : html`<th scope="col">per-group g${block}</th>`}`,
        )}
        ${comparing ? html`<th scope="col">per-tensor</th><th scope="col">per-channel</th>` : nothing}
      </tr>`,
    rows: () => rows,
    row: (r) =>
      layerRow(
        r,
        selected,
        html`${FIGURES.map(([b, s]) => html`${cells(r.quant?.[b][s])}${block === null ? nothing : groupCell(r.quant?.[b][s], block)}`)}
        ${comparing ? cells(r.before ?? undefined) : nothing}`,
      ),
  });
}
