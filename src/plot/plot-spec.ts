// What the plot functions return: Observable Plot options, declared without Plot's types. Plot's own
// declarations import d3's, which neither Plot nor d3 ships, so an app that type-checks the kit's public
// declarations (skipLibCheck: false) would fail for want of @types/d3 if any of ours named a Plot type.
// `any` values keep a PlotSpec assignable to Plot.plot()'s options where the chart is drawn; plotSpec()
// (plot-options.ts) checks each one against Plot's types where it is made.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type PlotSpec = { [option: string]: any };
