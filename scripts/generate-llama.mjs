// `node scripts/generate-llama.mjs DIR [options]` (`--help` lists them): writes a generated LLaMA-shaped ONNX
// model with external data into DIR (test/fixtures/llama/, bundled here with esbuild first), prints one JSON
// line {"model", "dataFiles", "weightBytes", "weightLayers"}.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'build/generate-llama/cli.mjs');
await esbuild.build({
  entryPoints: [join(root, 'test/fixtures/llama/cli.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'es2022',
  packages: 'external',
  logLevel: 'warning',
});
await import(pathToFileURL(outfile).href);
