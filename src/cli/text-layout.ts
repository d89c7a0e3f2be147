// Plain-text layout for the terminal: aligned columns within a line budget, and wrapped paragraphs.

/** Lines are kept to this many characters unless the user asks for everything (--wide). */
export const LINE_BUDGET = 120;

export interface Column {
  header: string;
  /** Right-aligned (numbers) or left-aligned (text). */
  numeric: boolean;
  /** May be cut (with '…') to keep the line within budget; `keepEnd` keeps the text's end instead of its start. */
  shrink?: { min: number; keepEnd: boolean };
}

const cut = (text: string, width: number, keepEnd: boolean) =>
  text.length <= width ? text : keepEnd ? `…${text.slice(text.length - width + 1)}` : `${text.slice(0, width - 1)}…`;

/**
 * Rows laid out in aligned columns two spaces apart, each line after `indent`. Without `wide`, shrinkable
 * columns give up width, in order, until the widest line fits LINE_BUDGET.
 */
export function layoutTable(
  columns: readonly Column[],
  rows: readonly string[][],
  wide: boolean,
  indent = '',
): string[] {
  const widths = columns.map((col, c) => Math.max(col.header.length, ...rows.map((r) => r[c]!.length)));
  const total = () => indent.length + widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
  if (!wide) {
    columns.forEach((col, c) => {
      if (col.shrink && total() > LINE_BUDGET)
        widths[c] = Math.max(col.shrink.min, col.header.length, widths[c]! - (total() - LINE_BUDGET));
    });
  }
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((cell, c) => {
        const col = columns[c]!;
        const text = col.shrink ? cut(cell, widths[c]!, col.shrink.keepEnd) : cell;
        return col.numeric ? text.padStart(widths[c]!) : text.padEnd(widths[c]!);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}

/**
 * `text` broken at spaces into lines of at most LINE_BUDGET characters, lines after the first indented; the
 * text's own leading spaces stay on its first line.
 */
export function wrap(text: string, indent = '  '): string[] {
  const lines: string[] = [];
  const lead = /^ */.exec(text)![0];
  let current = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    const next = current.trim() ? `${current} ${word}` : `${current}${word}`;
    if (next.length > LINE_BUDGET && current.trim()) {
      lines.push(current);
      current = `${indent}${word}`;
    } else current = next;
  }
  if (current.trim()) lines.push(current);
  return lines;
}
