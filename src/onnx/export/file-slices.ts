// A relocated export (ExportOptions.relocateExternal) read from the user's Files: each range copied through
// becomes a slice of the File it comes from. A Blob of such slices and new bytes is the whole data file, yet
// no byte of the input passes through this thread: the browser reads the File when the Blob is saved.
import { WeightlensError } from '../../errors.js';
import { fileAt } from '../external-data.js';
import { isCopiedRange, type DataPart } from './data-file.js';

type NamedBlob = Blob & { name: string; webkitRelativePath?: string };

/** The data files with every copied range replaced by the slice of `files` it names (checked against its size). */
export function copiedRangesAsSlices(
  dataFiles: ReadonlyMap<string, readonly DataPart[]>,
  files: readonly NamedBlob[],
): Map<string, DataPart[]> {
  const slice = (part: DataPart): DataPart => {
    if (!isCopiedRange(part)) return part;
    const file = fileAt(files, part.location);
    const end = part.offset + part.length;
    if (end > file.size) {
      throw new WeightlensError(
        'EXTERNAL_DATA',
        `external data "${part.location}" has ${file.size} bytes; bytes ${part.offset}..${end} cannot be copied`,
        { field: 'external_data' },
      );
    }
    return file.slice(part.offset, end);
  };
  return new Map([...dataFiles].map(([location, parts]) => [location, parts.map(slice)]));
}
