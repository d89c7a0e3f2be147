// Reads the links and headings of a markdown file as GitHub renders them, for the test that every
// relative link in the docs leads somewhere.

/** The file's lines outside fenced code blocks, with inline code spans blanked (links there are examples). */
function proseLines(markdown: string): string[] {
  let fenced = false;
  const lines: string[] = [];
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced) lines.push(line);
  }
  return lines;
}

const withoutCodeSpans = (line: string) => line.replace(/`[^`]*`/g, '``');

/** Every link and image target: inline `[text](target)`, `![alt](target "title")` and `[ref]: target`. */
export function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(markdown).map(withoutCodeSpans)) {
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
    const reference = /^\s*\[[^\]]+\]:\s*(\S+)/.exec(line);
    if (reference) targets.push(reference[1]!);
  }
  return targets;
}

/** GitHub's anchor for a heading: its text lower-cased, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text only
    .replace(/[`*]/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a file offers: one per heading (a repeated one gets -1, -2, …), and explicit `id`/`name`s. */
export function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const base = slug(heading[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      found.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) found.add(m[1]!);
  }
  return found;
}
