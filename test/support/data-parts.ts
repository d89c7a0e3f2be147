// An export's data file as one array, for tests whose exports keep every part in memory.
import { isCopiedRange, type DataPart } from '../../src/onnx/export/data-file.js';
import { concat } from '../../src/onnx/export/wire.js';

/** The parts' bytes, concatenated; a copied or spilled part is a test error. */
export function inMemoryDataFile(parts: readonly DataPart[]): Uint8Array {
  return concat(
    parts.map((p) => {
      if (p instanceof Uint8Array) return p;
      throw new Error(
        isCopiedRange(p) ? `the data file copies "${p.location}" through` : 'the data file has a spilled part',
      );
    }),
  );
}
