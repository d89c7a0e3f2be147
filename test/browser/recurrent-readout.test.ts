// The readouts of <weight-range-plot> and <weight-histogram> name a recurrent channel's direction, gate and
// hidden unit, on a bidirectional LSTM built in memory; the layer header and table show "LSTM W".
import { after, describe, it } from 'node:test';
import { expect } from 'chai';
import { WeightHistogram } from '../../src/components/weight-histogram/weight-histogram.js';
import { WeightRangePlot } from '../../src/components/weight-range-plot/weight-range-plot.js';
import { attr, f32Tensor, oneNodeModel } from '../fixtures/onnx-bytes.js';
import { ElementHarness } from '../harness/element-harness.js';

WeightRangePlot.define('weight-range-plot');
WeightHistogram.define('weight-histogram');

/** LSTM "lstm": hidden 3, bidirectional, input 2: W [2, 12, 2], R [2, 12, 3]. */
function lstmUrl(): string {
  const values = (n: number) => Array.from({ length: n }, (_, i) => ((i * 7) % n) / n - 0.5);
  const bytes = oneNodeModel(
    'LSTM',
    'lstm',
    ['x', 'W', 'R'],
    [f32Tensor('W', [2, 12, 2], values(48)), f32Tensor('R', [2, 12, 3], values(72))],
    [attr.int('hidden_size', 3), attr.string('direction', 'bidirectional')],
  );
  return URL.createObjectURL(new Blob([bytes]));
}

describe('recurrent channels in the readouts', () => {
  after(() => ElementHarness.cleanup());

  it('<weight-range-plot>: "Channel 19 (reverse, gate f, unit 1)"; the header says LSTM W', async () => {
    const h = await ElementHarness.mount('weight-range-plot', {
      attributes: { src: lstmUrl(), layer: 'lstm/W' },
    }).ready();
    expect(h.part('header')!.textContent).to.contain('lstm/W').and.contain('LSTM W');
    await h.focus('plot');
    await h.press('Home');
    expect(h.readout()).to.contain('Channel 0 (forward, gate i, unit 0):');
    for (let i = 0; i < 19; i++) await h.press('ArrowRight');
    expect(h.readout()).to.contain('Channel 19 (reverse, gate f, unit 1):');
    ElementHarness.cleanup();
  });

  it("<weight-histogram> of one channel: the bin readout names the channel's gate", async () => {
    const h = await ElementHarness.mount('weight-histogram', {
      attributes: { src: lstmUrl(), layer: 'lstm/R', channel: '14', bins: '4' },
    }).ready();
    await h.focus('plot');
    await h.settled();
    expect(h.readout()).to.contain('Channel 14 (reverse, gate i, unit 2), bin 1 of 4');
    ElementHarness.cleanup();
  });
});
