import type * as Plot from '@observablehq/plot';
import type { PlotSpec } from './plot-spec.js';

/** Options checked against Plot's types, handed on as a PlotSpec (plot-spec.ts says why). */
export const plotSpec = (options: Plot.PlotOptions): PlotSpec => options as PlotSpec;
