// The one progress type and meter every layer reports with (a fake clock: no real time is read).
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { advanced, PROGRESS_INTERVAL_MS, ProgressMeter, type Progress } from '../src/progress.js';

function meter(): { seen: Progress[]; meter: ProgressMeter; tick: (ms: number) => void } {
  let clock = 0;
  const seen: Progress[] = [];
  return {
    seen,
    meter: new ProgressMeter(
      (p) => seen.push(p),
      () => clock,
    ),
    tick: (ms) => (clock += ms),
  };
}

describe('progress', () => {
  it('the meter sends only advancing fractions, at most one per interval, below 1 until done', () => {
    const { seen, meter: m, tick } = meter();
    m.report(0.2, 'a');
    m.report(0.3, 'too soon');
    tick(PROGRESS_INTERVAL_MS);
    m.report(0.1, 'backwards');
    m.report(0.5, 'b');
    tick(PROGRESS_INTERVAL_MS);
    m.report(1.5, 'clamped');
    m.done();
    m.done();
    expect(seen).to.deep.equal([
      { fraction: 0.2, text: 'a' },
      { fraction: 0.5, text: 'b' },
      { fraction: 0.999, text: 'clamped' },
      { fraction: 1, text: 'done' },
    ]);
  });

  it('a span maps its phase onto its share of the whole', () => {
    const { seen, meter: m } = meter();
    m.span(0.5, 0.75)(0.5, 'half of the second phase');
    expect(seen).to.deep.equal([{ fraction: 0.625, text: 'half of the second phase' }]);
  });

  it('what a listener shows never goes back, and takes the newest text', () => {
    const first = advanced(undefined, { fraction: 0.4, text: 'reading' });
    expect(advanced(first, { fraction: 0.1, text: 'statistics' })).to.deep.equal({ fraction: 0.4, text: 'statistics' });
    expect(advanced(first, { fraction: 0.6, text: 'statistics' })).to.deep.equal({ fraction: 0.6, text: 'statistics' });
  });
});
