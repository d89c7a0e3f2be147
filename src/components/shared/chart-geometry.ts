// Between the page and a rendered chart's x scale: the value under a pointer, the place of a value.
import type { Chart } from './chart.js';

/** The x-scale value under the pointer, or null before the chart is laid out. */
export function xValueAt(chart: Chart, e: { clientX: number }): number | null {
  const box = chart.getBoundingClientRect();
  if (box.width === 0) return null;
  return chart.scale('x')!.invert!(((e.clientX - box.left) / box.width) * chart.width.baseVal.value) as number;
}

/** Where value `v` is drawn, as a percentage of the chart's width (the chart scales with its container). */
export function xPercent(chart: Chart, v: number): number {
  return ((chart.scale('x')!.apply(v) as number) / chart.width.baseVal.value) * 100;
}
