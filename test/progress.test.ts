// The one progress type and meter every layer reports with (a fake clock: no real time is read).
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { advanced, etaSeconds, PROGRESS_INTERVAL_MS, ProgressMeter, type Progress } from '../src/progress.js';
import { timeLeft } from '../src/text/duration.js';

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

  it('a long task gets the time left at its pace so far, once it has run a while', () => {
    const { seen, meter: m, tick } = meter();
    m.report(0.01, 'start');
    tick(1000);
    m.report(0.05, 'too early to tell');
    tick(3000);
    m.report(0.2, 'a fifth in 4 s');
    expect(seen.map((p) => p.eta)).to.deep.equal([undefined, undefined, 16]);
    expect(advanced(seen[1], seen[2]!).eta, 'listeners keep it').to.equal(16);
    expect(etaSeconds(0, 10_000, 0.5)).to.equal(10);
    expect(etaSeconds(0, 10_000, 0)).to.equal(undefined);
  });

  it('time left reads as an estimate', () => {
    expect([3, 16, 44, 130, 7200].map(timeLeft)).to.deep.equal([
      'a few seconds left',
      'about 15 s left',
      'about 45 s left',
      'about 2 min left',
      'about 2.0 h left',
    ]);
  });
});
