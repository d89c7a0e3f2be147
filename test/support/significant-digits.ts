// How many significant digits a number printed by the kit carries (the readability bar of CLI text and ticks).

/** Significant digits of a number written in decimal or exponent form (trailing zeros of an integer not counted). */
export function significantDigits(text: string): number {
  const mantissa = text.replace(/^[-−]/, '').split('e')[0]!;
  const digits = mantissa.includes('.')
    ? mantissa.replace('.', '').replace(/^0+/, '')
    : mantissa.replace(/^0+/, '').replace(/0+$/, '');
  return Math.max(1, digits.length);
}
