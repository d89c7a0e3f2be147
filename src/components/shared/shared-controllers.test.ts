// The shared pieces every element is built from, on a bare host: the channel readout (focus, keys,
// pointer, subject), the drag-to-zoom brush and the data table inside <details>.
import { describe, it, afterEach } from 'node:test';
import { expect } from 'chai';
import * as Plot from '@observablehq/plot';
import { LitElement, html } from 'lit';
import { ElementHarness, waitFor } from '../../../test/harness/element-harness.js';
import { Brush } from './brush.js';
import { ChannelReadout } from './channel-readout.js';
import { renderChart, type Chart } from './chart.js';
import { DataTable } from './data-table.js';
import { chartStyles, themeStyles } from './theme.styles.js';

interface Subject {
  name: string;
  channels: number;
}

/** Ten channels (0..9) on a linear x scale; a drag of two or more channels zooms. */
class ReadoutProbe extends LitElement {
  static override styles = [themeStyles, chartStyles];
  readonly status = 'ready' as const;
  subject: Subject = { name: 'a', channels: 10 };
  domain: [number, number] = [0, 9];
  zooms: [number, number][] = [];
  readonly readout = new ChannelReadout<Subject>(this);
  readonly brush = new Brush(this, {
    valueAt: (e) => this.readout.indexAt(e),
    isZoom: (a, b) => Math.abs(a - b) >= 2,
    zoom: (s) => this.zooms.push(s),
    pad: 0.5,
  });
  readonly table = new DataTable(this);
  private chart: Chart | undefined;

  override render() {
    this.chart ??= renderChart(
      { width: 400, height: 100, x: { domain: [-0.5, 9.5] }, marks: [Plot.ruleX([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])] },
      { title: 't', description: 'd' },
      'chart',
    );
    this.readout.show(this.subject, this.domain, this.chart);
    return html`${this.readout.plot('Probe', this.chart, this.brush)}
      ${this.readout.readout((c) => `${this.subject.name}: channel ${c}`, 'Hover to read.')}
      ${this.table.render({
        part: 'table',
        summary: 'Data table',
        label: 'Channels',
        caption: 'Channels',
        head: html`<tr><th scope="col">Channel</th></tr>`,
        rows: () => Array.from({ length: this.subject.channels }, (_, i) => i),
        row: (i) => html`<tr><td>${i}</td></tr>`,
        limit: { rows: 4, note: (shown, total) => `First ${shown} of ${total}.` },
      })}`;
  }
}
customElements.define('readout-probe', ReadoutProbe);

declare global {
  interface HTMLElementTagNameMap {
    'readout-probe': ReadoutProbe;
  }
}

const mount = async () => {
  const h = ElementHarness.mount('readout-probe', { width: 400 });
  await h.settled();
  return h;
};
/** The chart's own x pixel of channel `c`. */
const xOf = (h: ElementHarness<ReadoutProbe>, c: number) => h.chart().scale('x')!.apply(c) as number;

describe('ChannelReadout', () => {
  afterEach(() => ElementHarness.cleanup());

  it('focus reads the first channel of the span; the arrow keys, PageUp/PageDown and Home/End move, clamped', async () => {
    const h = await mount();
    expect(h.readout()).to.equal('Hover to read.');
    expect(h.part('cursor')).to.equal(null);
    await h.focus('plot');
    expect(h.readout()).to.equal('a: channel 0');
    await h.press('ArrowRight');
    await h.press('ArrowUp');
    expect(h.readout()).to.equal('a: channel 2');
    await h.press('PageUp');
    expect(h.readout()).to.equal('a: channel 9');
    await h.press('ArrowLeft');
    await h.press('Home');
    expect(h.readout()).to.equal('a: channel 0');
    await h.press('ArrowDown');
    expect(h.readout()).to.equal('a: channel 0');
    await h.press('End');
    expect(h.readout()).to.equal('a: channel 9');
    expect(h.part('readout')!.getAttribute('aria-live')).to.equal('polite');
  });

  it('the pointer reads the nearest channel and the cursor stands at it', async () => {
    const h = await mount();
    await h.pointer('pointermove', xOf(h, 6) + 5);
    expect(h.readout()).to.equal('a: channel 6');
    const cursor = h.part('cursor')!.getBoundingClientRect();
    const chart = h.chart().getBoundingClientRect();
    expect(cursor.left - chart.left).to.be.closeTo((xOf(h, 6) / 400) * chart.width, 1);
  });

  it('a reading belongs to its subject and span: another subject, or a span without it, starts afresh', async () => {
    const h = await mount();
    await h.pointer('pointermove', xOf(h, 7));
    expect(h.readout()).to.equal('a: channel 7');
    h.element.domain = [0, 4];
    h.element.requestUpdate();
    await h.settled();
    expect(h.readout()).to.equal('Hover to read.');
    h.element.domain = [0, 9];
    h.element.subject = { name: 'b', channels: 10 };
    h.element.requestUpdate();
    await h.settled();
    expect(h.readout()).to.equal('Hover to read.');
  });
});

describe('Brush', () => {
  afterEach(() => ElementHarness.cleanup());

  it('a drag draws a band and zooms to the span dragged; a short drag is a click', async () => {
    const h = await mount();
    await h.pointer('pointerdown', xOf(h, 2));
    expect(h.part('brush')).to.equal(null);
    await h.pointer('pointermove', xOf(h, 5));
    expect(h.part('brush')).to.not.equal(null);
    await h.pointer('pointerup', xOf(h, 5));
    expect(h.part('brush')).to.equal(null);
    expect(h.element.zooms).to.deep.equal([[2, 5]]);
    await h.pointer('pointerdown', xOf(h, 5));
    await h.pointer('pointermove', xOf(h, 6));
    await h.pointer('pointerup', xOf(h, 6));
    expect(h.element.zooms, 'one channel is not a zoom here').to.have.length(1);
  });
});

describe('DataTable', () => {
  afterEach(() => ElementHarness.cleanup());

  it('makes its rows only while open, at most `limit`, and says how many there are', async () => {
    const h = await mount();
    expect(h.part('table')!.querySelector('table')).to.equal(null);
    expect((await h.tableRows()).map((r) => r[0])).to.deep.equal(['0', '1', '2', '3']);
    expect(h.part('table')!.textContent).to.contain('First 4 of 10.');
    const region = h.part('table')!.querySelector('[role="region"]')!;
    expect(region.getAttribute('aria-label')).to.equal('Channels');
    (h.part('table') as HTMLDetailsElement).open = false;
    await waitFor(() => !h.part('table')!.querySelector('table'), 'the closed table to drop its rows');
  });
});
