// Turns Plot options (from src/plot/) into an accessible SVG: role="img" with <title> and <desc> as its
// text alternative, and a `part` on the chart and on each named mark layer (found by its aria-description).
import * as Plot from '@observablehq/plot';

const SVG = 'http://www.w3.org/2000/svg';

/** The rendered chart; Plot attaches scale(name) to it. */
export type Chart = SVGSVGElement & { scale(name: 'x' | 'y'): Plot.Scale | undefined };

/**
 * The part of each mark layer, from a plot module's MARKS (key -> aria-description): the key in kebab
 * case (`outlierRanges` -> `outlier-ranges`) unless `renamed` says otherwise.
 */
export function markParts(marks: Record<string, string>, renamed: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(marks).map(([key, description]) => [
      description,
      renamed[key] ?? key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
    ]),
  );
}

export function renderChart(
  options: Plot.PlotOptions,
  text: { title: string; description: string },
  part: string,
  parts: Record<string, string> = {},
): Chart {
  const chart = Plot.plot(options) as Chart;
  chart.setAttribute('role', 'img');
  chart.setAttribute('part', part);
  const title = document.createElementNS(SVG, 'title');
  title.textContent = text.title;
  const desc = document.createElementNS(SVG, 'desc');
  desc.textContent = text.description;
  chart.prepend(title, desc);
  for (const g of chart.querySelectorAll('g[aria-description]')) {
    const name = parts[g.getAttribute('aria-description')!];
    if (name) g.setAttribute('part', name);
  }
  // Inside role="img" the shapes are presentational: Plot's per-group labels would only be invalid ARIA.
  for (const el of chart.querySelectorAll('[aria-label], [aria-description]')) {
    el.removeAttribute('aria-label');
    el.removeAttribute('aria-description');
  }
  return chart;
}

/** One chart of an element, drawn again only when its data (by identity) or its key (size, options) change. */
export class ChartCache {
  private cached: { key: string; data: object; node: Chart } | undefined;

  /** The chart drawn last, if any. */
  get node(): Chart | undefined {
    return this.cached?.node;
  }

  get(key: string, data: object, draw: () => Chart): Chart {
    if (this.cached?.key !== key || this.cached.data !== data) this.cached = { key, data, node: draw() };
    return this.cached.node;
  }
}
