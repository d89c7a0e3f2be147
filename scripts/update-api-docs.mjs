// `npm run docs`: rewrites the element API tables in docs/elements.md from dist/custom-elements.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ELEMENT_API_DOC, withApiTables } from './api-docs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'dist/custom-elements.json'), 'utf8'));
const path = join(root, ELEMENT_API_DOC);
writeFileSync(path, withApiTables(readFileSync(path, 'utf8'), manifest));
console.log(`${ELEMENT_API_DOC}: element API tables updated`);
