// RowWindow on its own, with a bare host and a scroller of known size: which rows it draws, the spacers
// that keep the scrollbar's extent, when scrolling asks for a new render, and how it brings a row into view.
import { describe, it, afterEach } from 'node:test';
import { expect } from 'chai';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { RowWindow } from './row-window.js';

/** A host that only counts the renders asked for. */
function bareHost(): ReactiveControllerHost & { updates: number } {
  return {
    updates: 0,
    addController(_: ReactiveController) {},
    removeController(_: ReactiveController) {},
    requestUpdate() {
      this.updates++;
    },
    updateComplete: Promise.resolve(true),
  };
}

/** A 300 px scroller holding `rows` rows of 28 px (the window's guess before it measures). */
function scrollerOf(rows: number): HTMLElement {
  const scroller = document.createElement('div');
  scroller.style.cssText = 'height: 300px; overflow: auto';
  const content = document.createElement('div');
  content.style.height = `${rows * 28}px`;
  scroller.append(content);
  document.body.append(scroller);
  return scroller;
}

describe('RowWindow', () => {
  afterEach(() => document.body.replaceChildren());

  it('draws a short table whole, with no spacers', () => {
    const rows = new RowWindow(bareHost(), { scroller: () => scrollerOf(150) });
    expect(rows.range(150)).to.deep.equal({ start: 0, end: 150, before: 0, after: 0 });
  });

  it('draws the rows in view plus the overscan, and spacers for the rest', () => {
    const scroller = scrollerOf(1000);
    const rows = new RowWindow(bareHost(), { scroller: () => scroller });
    // 300 px show 11 rows of 28 px; 10 more below (none above at the top).
    expect(rows.range(1000)).to.deep.equal({ start: 0, end: 21, before: 0, after: 979 * 28 });
    scroller.scrollTop = 500 * 28;
    expect(rows.range(1000)).to.deep.equal({ start: 490, end: 521, before: 490 * 28, after: 479 * 28 });
    expect(rows.page, 'a page is a view less one row').to.equal(9);
  });

  it('asks for a render only when scrolling changes the rows to draw', () => {
    const scroller = scrollerOf(1000);
    const host = bareHost();
    const rows = new RowWindow(host, { scroller: () => scroller });
    rows.range(1000);
    scroller.scrollTop = 5; // still row 0 at the top
    rows.onScroll();
    expect(host.updates).to.equal(0);
    scroller.scrollTop = 300 * 28;
    rows.onScroll();
    expect(host.updates).to.equal(1);
  });

  it('reveal scrolls a row below or above the view into it', () => {
    const scroller = scrollerOf(1000);
    const rows = new RowWindow(bareHost(), { scroller: () => scroller });
    rows.range(1000);
    rows.reveal(999);
    const { start, end } = rows.range(1000);
    expect(end, 'the last row is drawn').to.equal(1000);
    expect(start).to.be.below(999);
    expect(scroller.scrollTop + 300).to.equal(1000 * 28);
    rows.reveal(3);
    expect(scroller.scrollTop).to.equal(3 * 28);
  });
});
