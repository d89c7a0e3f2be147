// An external-data file the exporter lays out, as parts in file order: new bytes (tensors it rewrote,
// alignment padding) held in memory or, for large tensors, in a Blob outside the JS heap (a Spill), and
// ranges of the input's own external-data files copied through unchanged. It is never assembled in memory:
// a writer streams the parts to disk (node/write-model.ts), and a re-opened export reads ranges of it
// (dataFileReader).
import type { ExternalDataSource, ExternalFile } from '../external-data.js';

/** Bytes `offset` … `offset + length` of the input's external-data file `location`, copied as they are. */
export interface CopiedRange {
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

/** New bytes in memory, new bytes in a Blob (spilled), or a range of an input file copied through. */
export type DataPart = Uint8Array | Blob | CopiedRange;

/**
 * Stores one tensor's new bytes, given in pieces, outside the JS heap and returns them as a Blob: a
 * temporary file in Node (node/file-spill.ts), the browser's blob storage in a page. CLE spills each large
 * rewritten tensor as soon as it is final, so its memory does not grow with the number of layers changed.
 */
export type Spill = (pieces: AsyncIterable<Uint8Array>) => Promise<Blob>;

export const isCopiedRange = (part: DataPart): part is CopiedRange =>
  !(part instanceof Uint8Array) && !(part instanceof Blob);

export const partLength = (part: DataPart) =>
  part instanceof Uint8Array ? part.byteLength : part instanceof Blob ? part.size : part.length;

export const dataFileLength = (parts: readonly DataPart[]) => parts.reduce((n, p) => n + partLength(p), 0);

/** The data file `name` as an ExternalFile: new bytes from memory, copied ranges read from `source`. */
export function dataFileReader(
  name: string,
  parts: readonly DataPart[],
  source: ExternalDataSource | undefined,
): ExternalFile {
  const starts: number[] = [];
  let size = 0;
  for (const p of parts) {
    starts.push(size);
    size += partLength(p);
  }
  return {
    name,
    size,
    async read(offset, length, signal) {
      // The last part starting at or before `offset`, then on through the parts the range covers.
      let i = 0;
      while (i + 1 < parts.length && starts[i + 1]! <= offset) i++;
      const within = (part: DataPart, from: number, n: number) =>
        part instanceof Uint8Array
          ? part.subarray(from, from + n)
          : part instanceof Blob
            ? part
                .slice(from, from + n)
                .arrayBuffer()
                .then((b) => new Uint8Array(b))
            : copied(part, from, n);
      const copied = async (part: CopiedRange, from: number, n: number) => {
        if (!source) throw new Error(`data file "${name}" copies "${part.location}", which has no source`);
        const file = await source(part.location, signal);
        return file.read(part.offset + from, n, signal);
      };
      // A range inside one spilled part is read from its Blob into a buffer of its own: no second copy.
      const first = parts[i];
      if (first instanceof Blob && offset + length <= starts[i]! + first.size)
        return within(first, offset - starts[i]!, length);
      const out = new Uint8Array(length);
      for (let done = 0; done < length && i < parts.length; i++) {
        const part = parts[i]!;
        const from = offset + done - starts[i]!;
        const n = Math.min(partLength(part) - from, length - done);
        if (n <= 0) continue;
        out.set(await within(part, from, n), done);
        done += n;
      }
      return out;
    },
  };
}
