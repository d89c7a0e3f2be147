// `node build/corpus/write-corpus.js DIR` (after `node scripts/build-tests.mjs`): the corpus on disk, to look
// at by hand or to throw at other tools.
import { generateCorpus } from './generate.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node build/corpus/write-corpus.js DIR\n');
  process.exit(2);
}
process.stdout.write(`${generateCorpus(dir).length} files in ${dir} (corpus.json says what each tests and expects)\n`);
