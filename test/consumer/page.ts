// The browser half of the consumer app: the kit's elements on a page, bound to one <model-source>.
import { WeightlensError, type StatsReport } from 'weightlens';
// Defines the elements; the named imports below are types only, which bundlers drop.
import 'weightlens/elements';
import type { LayerTable, ModelSource, ModelStatus, WeightRangePlot } from 'weightlens/elements';

document.body.innerHTML = `<model-source id="model"></model-source>
  <layer-table model="model"></layer-table>
  <weight-range-plot model="model"></weight-range-plot>`;
const source = document.querySelector('model-source') as ModelSource;
const table = document.querySelector('layer-table') as LayerTable;
const plot = document.querySelector('weight-range-plot') as WeightRangePlot;
await source.handle.load({ kind: 'url', url: '/model.onnx' });
const status: ModelStatus = source.handle.status;
if (status !== 'ready') throw source.handle.error ?? new WeightlensError('INTERNAL', 'no error and not ready');
const report: StatsReport = source.handle.report!;
Object.assign(window, {
  consumer: { status, layers: report.layers.length, tableRows: table.rows.length, plotStatus: plot.status },
});
