// `--json` output written in pieces: the text of JSON.stringify(value, null, 2), but with its large arrays (a
// report's layers) one element at a time, so a model of 30,000 layers never becomes one string of hundreds of
// megabytes. The pieces join to exactly the JSON.stringify text.

const pad = (depth: number) => '  '.repeat(depth);

/** `text` (a JSON value printed at indent 0) printed `depth` levels deeper. */
const indented = (text: string, depth: number) => text.replace(/\n/g, `\n${pad(depth)}`);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * JSON.stringify(value, null, 2) at indent `depth`, in pieces: each path of `stream` (keys from `value` down,
 * e.g. ['layers'] or ['compress', 'layers']) that leads to an array is written element by element.
 */
function* pieces(value: unknown, stream: readonly (readonly string[])[], depth: number): Generator<string> {
  if (!isRecord(value) || stream.length === 0 || typeof value.toJSON === 'function') {
    yield indented(JSON.stringify(value, null, 2) ?? 'null', depth);
    return;
  }
  // The entries JSON.stringify prints: it skips undefined and functions.
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) {
    yield '{}';
    return;
  }
  for (const [i, [key, v]] of entries.entries()) {
    yield `${i === 0 ? '{' : ','}\n${pad(depth + 1)}${JSON.stringify(key)}: `;
    const below = stream.filter((path) => path[0] === key).map((path) => path.slice(1));
    if (below.some((path) => path.length === 0) && Array.isArray(v) && v.length > 0) {
      for (const [j, element] of v.entries())
        yield `${j === 0 ? '[' : ','}\n${pad(depth + 2)}${indented(JSON.stringify(element ?? null, null, 2), depth + 2)}`;
      yield `\n${pad(depth + 1)}]`;
    } else
      yield* pieces(
        v,
        below.filter((path) => path.length > 0),
        depth + 1,
      );
  }
  yield `\n${pad(depth)}}`;
}

/** JSON.stringify(value, null, 2) + '\n', in pieces: the arrays at the `stream` paths element by element. */
export function* jsonPieces(value: object, stream: readonly (readonly string[])[]): Generator<string> {
  yield* pieces(value, stream, 0);
  yield '\n';
}
