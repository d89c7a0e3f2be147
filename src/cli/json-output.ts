// `--json` output written in pieces: the text of JSON.stringify(value, null, 2), but with its largest array (a
// report's layers) one element at a time, so a model of 30,000 layers never becomes one string of hundreds of
// megabytes. The pieces join to exactly the JSON.stringify text.

/** `text` (a JSON value printed at indent 0) printed `depth` levels (of 2 spaces) deeper. */
const indented = (text: string, depth: number) => text.replace(/\n/g, `\n${'  '.repeat(depth)}`);

/** JSON.stringify(value, null, 2) + '\n', in pieces: the array under `key` element by element. */
export function* jsonPieces(value: object, key: string): Generator<string> {
  // The entries JSON.stringify prints: it skips undefined and functions.
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) {
    yield '{}\n';
    return;
  }
  for (const [i, [k, v]] of entries.entries()) {
    yield `${i === 0 ? '{' : ','}\n  ${JSON.stringify(k)}: `;
    if (k !== key || !Array.isArray(v) || v.length === 0) {
      yield indented(JSON.stringify(v, null, 2), 1);
      continue;
    }
    for (const [j, element] of v.entries())
      yield `${j === 0 ? '[' : ','}\n    ${indented(JSON.stringify(element ?? null, null, 2), 2)}`;
    yield '\n  ]';
  }
  yield '\n}\n';
}
