// 'weightlens/elements': registers the kit's custom elements (a no-op in Node, where there is no
// registry, so static-site builds can import it).
import { CleCompare } from './components/cle-compare/cle-compare.js';
import { CompressibilityPlot } from './components/compressibility-plot/compressibility-plot.js';
import { LayerTable } from './components/layer-table/layer-table.js';
import { ModelCompare } from './components/model-compare/model-compare.js';
import { ModelSource } from './components/model-source/model-source.js';
import { QuantErrorPlot } from './components/quant-error-plot/quant-error-plot.js';
import { QuantPlanElement } from './components/quant-plan/quant-plan.js';
import { RelativeRangePlot } from './components/relative-range-plot/relative-range-plot.js';
import { WeightHistogram } from './components/weight-histogram/weight-histogram.js';
import { WeightRangePlot } from './components/weight-range-plot/weight-range-plot.js';

ModelSource.define('model-source');
LayerTable.define('layer-table');
WeightRangePlot.define('weight-range-plot');
RelativeRangePlot.define('relative-range-plot');
CleCompare.define('cle-compare');
QuantErrorPlot.define('quant-error-plot');
WeightHistogram.define('weight-histogram');
QuantPlanElement.define('quant-plan');
ModelCompare.define('model-compare');
CompressibilityPlot.define('compressibility-plot');

export {
  CleCompare,
  CompressibilityPlot,
  LayerTable,
  ModelCompare,
  ModelSource,
  QuantErrorPlot,
  QuantPlanElement,
  RelativeRangePlot,
  WeightHistogram,
  WeightRangePlot,
};
export {
  equalizedFileName,
  equalizedFiles,
  type EqualizedFile,
  type Equalizer,
} from './components/cle-compare/cle-compare.js';
export type { CompareSort, Differ } from './components/model-compare/model-compare.js';
export type { Compressor } from './components/compressibility-plot/compressibility-plot.js';
export { ModelHandle, type ModelStatus } from './binding/model-handle.js';
export type { Progress as LoadProgress } from './progress.js';
export type { ModelInput } from './pipeline/model-input.js';
export type * from './events/index.js';
