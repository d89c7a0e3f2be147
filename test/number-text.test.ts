// Numbers a person can read: the CLI's cells and the charts' ticks in at most 4 significant digits, log
// ticks that never crowd, and terminal tables within 120 characters.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { shortCount, shortNumber } from '../src/report/short-number.js';
import { logTicks, tickFormat } from '../src/plot/format.js';
import { LINE_BUDGET, layoutTable, wrap } from '../src/cli/text-layout.js';
import { significantDigits } from './support/significant-digits.js';

describe('short numbers', () => {
  it('keeps at most 4 significant digits and writes exponents without padding', () => {
    const cases: [number | null, string][] = [
      [1.3241515765997175e34, '1.3e34'],
      [1.4999999999999999e34, '1.5e34'],
      [24023971, '2.4e7'],
      [8584.6, '8585'],
      [12345, '12350'],
      [-0.86049, '-0.8605'],
      [0.5, '0.5'],
      [2.5e-7, '2.5e-7'],
      [1e-35, '1e-35'],
      [0, '0'],
      [null, '-'],
      [Infinity, 'inf'],
      [99999.5, '100000'],
      [999999, '1e6'],
      [123456.7, '123500'],
    ];
    for (const [value, text] of cases) expect(shortNumber(value), String(value)).to.equal(text);
    for (const [value] of cases)
      if (value !== null && Number.isFinite(value)) expect(significantDigits(shortNumber(value))).to.be.at.most(4);
  });

  it('writes counts with a unit past 9999', () => {
    expect([shortCount(133664), shortCount(1171841), shortCount(9999), shortCount(7.3e9)]).to.deep.equal([
      '133.7k',
      '1.172M',
      '9999',
      '7.3G',
    ]);
  });

  it('ticks: true minus signs, at most 8 characters', () => {
    expect(tickFormat(-1.5)).to.equal('−1.5');
    for (const v of [1.4999999999999999e34, -0.0001234567, 123456789, 0.30000000000000004])
      expect(tickFormat(v).length).to.be.at.most(8);
  });

  it('log ticks: powers of ten, thinned when decades are crowded, with 2 and 5 where a decade has room', () => {
    expect(logTicks(1, 1000, 600)).to.deep.equal([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    expect(logTicks(1, 1000, 150)).to.deep.equal([1, 10, 100, 1000]);
    const crowded = logTicks(1, 1e35, 150);
    expect(crowded.length).to.be.at.most(150 / 18 + 1);
    for (let i = 1; i < crowded.length; i++)
      expect(Math.log10(crowded[i]!) - Math.log10(crowded[i - 1]!)).to.be.at.least(18 / (150 / 35));
  });
});

describe('terminal tables', () => {
  const columns = [
    { header: 'layer', numeric: false, shrink: { min: 16, keepEnd: true } },
    { header: 'value', numeric: true },
  ];
  const rows = [
    ['/model/layers.0/self_attn/q_proj/MatMul'.repeat(4), '1.5'],
    ['short', '12.25'],
  ];

  it('aligns columns and cuts the shrinkable one to the line budget, keeping the end of a name', () => {
    const lines = layoutTable(columns, rows, false);
    for (const line of lines) expect(line.length).to.be.at.most(LINE_BUDGET);
    expect(lines[1]!.startsWith('…')).to.equal(true);
    expect(lines[1]).to.match(/q_proj\/MatMul {2}\s*1\.5$/);
    expect(lines[2]!.endsWith('12.25')).to.equal(true);
    expect(lines[1]!.length).to.equal(lines[2]!.length);
  });

  it('--wide keeps everything', () => {
    expect(layoutTable(columns, rows, true)[1]).to.contain(rows[0]![0]);
  });

  it('wraps prose at the budget, indenting the lines after the first', () => {
    const lines = wrap(Array.from({ length: 60 }, (_, i) => `word${i}`).join(' '));
    expect(lines.length).to.be.greaterThan(2);
    for (const line of lines) expect(line.length).to.be.at.most(LINE_BUDGET);
    expect(lines[1]!.startsWith('  word')).to.equal(true);
    expect(wrap('  an indented line', '    ')).to.deep.equal(['  an indented line']);
  });
});
