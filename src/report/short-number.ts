// Numbers a person can read at a glance, for tables on a terminal and axis ticks: at most 4 significant
// digits, and an exponent without padding (1.3e34, 2.4e-7) outside 0.001..999999.

/** `value` in at most 4 significant digits ('-' for null or NaN, 'inf'/'-inf' for infinities). */
export function shortNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return '0';
  // Number(toPrecision) drops trailing zeros; String() of a value in this span never uses an exponent.
  const rounded = Number(value.toPrecision(4));
  if (Math.abs(rounded) >= 1e-3 && Math.abs(rounded) < 1e6) return String(rounded);
  const [mantissa, exponent] = value.toExponential(1).split('e') as [string, string];
  return `${mantissa.replace(/\.0$/, '')}e${exponent.replace('+', '')}`;
}

/** A count in at most 4 significant digits: 1,234 as is, 1,171,841 as 1.172M, 7.3e9 as 7.3G. */
export function shortCount(count: number): string {
  if (count < 1e4) return String(count);
  const [divisor, unit] = count < 1e6 ? [1e3, 'k'] : count < 1e9 ? [1e6, 'M'] : [1e9, 'G'];
  return `${Number((count / divisor).toPrecision(4))}${unit}`;
}
