// `npm run docs`: rewrites the README's element API tables from dist/custom-elements.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeWithApi } from './api-docs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'dist/custom-elements.json'), 'utf8'));
const path = join(root, 'README.md');
writeFileSync(path, readmeWithApi(readFileSync(path, 'utf8'), manifest));
console.log('README.md element API tables updated');
