// <quant-error-plot>'s data table: all eight figures of every layer (INT8 and INT4, symmetric and
// asymmetric, per-tensor and per-channel), and when comparing with CLE the shown figures before it.
import { html, nothing, type TemplateResult } from 'lit';
import { formatDb, schemeLabel, type QuantBits, type QuantErrorRow, type QuantScheme } from '../../plot/quant-error.js';
import type { QuantFigures } from '../../report/quant-error.js';
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

export interface QuantErrorTableOptions {
  /** The figures the chart shows: their "before CLE" columns are added when comparing. */
  bits: QuantBits;
  scheme: QuantScheme;
  selected: string | undefined;
  comparing: boolean;
}

export function quantErrorTable(
  table: DataTable,
  rows: QuantErrorRow[],
  { bits, scheme, selected, comparing }: QuantErrorTableOptions,
): TemplateResult {
  return table.render({
    part: 'table',
    summary: `Data table: SQNR of ${plural(rows.length, 'layer')}, INT8 and INT4, symmetric and asymmetric`,
    label: 'SQNR of every layer',
    caption: `SQNR in dB of each layer's fake-quantized weights, per-tensor and per-channel ("exact": no error)`,
    head: html`<tr>
        <td colspan="2"></td>
        ${FIGURES.map(([b, s]) => html`<th scope="colgroup" colspan="2">${b.toUpperCase()} ${s}${comparing ? ' after CLE' : ''}</th>`)}
        ${comparing ? html`<th scope="colgroup" colspan="2">${schemeLabel(bits, scheme)} before CLE</th>` : nothing}
      </tr>
      <tr>
        <th scope="col">#</th><th scope="col">Layer</th>
        ${FIGURES.map(() => html`<th scope="col">per-tensor</th><th scope="col">per-channel</th>`)}
        ${comparing ? html`<th scope="col">per-tensor</th><th scope="col">per-channel</th>` : nothing}
      </tr>`,
    rows: () => rows,
    row: (r) =>
      layerRow(
        r,
        selected,
        html`${FIGURES.map(([b, s]) => cells(r.quant?.[b][s]))} ${comparing ? cells(r.before ?? undefined) : nothing}`,
      ),
  });
}
