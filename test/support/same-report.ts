// Comparing results objects across engines: Chromium runs the relaxed-SIMD (FMA) kernel build and Node
// the plain one, so mean and std may differ in the last digits.
import { expect } from 'chai';
import type { StatsReport } from '../../src/index.js';

/** JSON round trip: what a page would save or post, and how Node's report was stored. */
export const plain = (r: StatsReport) => JSON.parse(JSON.stringify(r)) as StatsReport;

/** Everything identical, mean/std within 1e-6 x absMax (docs/definitions.md, "Accuracy"), SQNR within 1e-6 dB (log10 differs by engine). */
export function expectSameReport(actual: StatsReport, expected: StatsReport): void {
  const strip = (r: StatsReport) => ({
    ...r,
    layers: r.layers.map((l) => ({
      ...l,
      channels: { ...l.channels, mean: [], std: [] },
      quant: l.quant === undefined ? undefined : l.quant === null,
    })),
  });
  expect(strip(plain(actual))).to.deep.equal(strip(expected));
  actual.layers.forEach((layer, i) => {
    const [a, b] = [layer.quant, expected.layers[i]!.quant];
    if (!a || !b) return; // null/undefined already compared above
    for (const bits of ['int8', 'int4'] as const) {
      for (const mode of ['symmetric', 'asymmetric'] as const) {
        for (const g of ['perTensor', 'perChannel'] as const) {
          const [x, y] = [a[bits][mode][g], b[bits][mode][g]];
          const where = `${layer.name} ${bits} ${mode} ${g}`;
          if (y === null) expect(x, where).to.equal(null);
          else expect(x, where).to.be.closeTo(y, 1e-6);
        }
      }
    }
  });
  actual.layers.forEach((layer, i) => {
    const ref = expected.layers[i]!.channels;
    layer.channels.absMax.forEach((absMax, c) => {
      expect(Math.abs(layer.channels.mean[c]! - ref.mean[c]!), `${layer.name} mean[${c}]`).to.be.at.most(
        1e-6 * absMax!,
      );
      expect(Math.abs(layer.channels.std[c]! - ref.std[c]!), `${layer.name} std[${c}]`).to.be.at.most(1e-6 * absMax!);
    });
  });
}
