// "1 layer", "3 layers", "12,345 weights": a count and its noun, shared by the elements and the CLI.

const integer = new Intl.NumberFormat('en-US');

/** `n` (digits grouped) and `word`, or `many` (default: `word` + "s") unless `n` is 1. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${integer.format(n)} ${n === 1 ? word : many}`;
}
