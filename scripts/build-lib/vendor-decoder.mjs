// dist/ is what an app installs, and there our package.json `overrides` do not apply: onnx-proto would
// bring its own protobufjs 6, without the deep-nesting fix (protobufjs >= 8.6.6) the reader relies on.
// So the decoder — onnx-proto's generated code and the protobufjs runtime, as resolved in this repo, where
// the override holds — is bundled into dist/vendor/onnx-proto.js, and dist/ imports neither package.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import * as esbuild from 'esbuild';
import { MIN_PROTOBUFJS, olderThan } from './protobufjs-floor.mjs';

const VENDORED = 'vendor/onnx-proto.js';
const IMPORT = /(from\s+|import\s*\(\s*)(['"])onnx-proto\2/g;
const FORBIDDEN = /(from\s+|import\s*\(\s*|require\s*\(\s*)(['"])(onnx-proto|protobufjs)(\/[^'"]*)?\2/;

/** Bundles the decoder into `dist` (a tsc output folder) and points dist's imports of onnx-proto at it. */
export async function vendorDecoder(dist) {
  const entry = createRequire(import.meta.url).resolve('onnx-proto');
  // The protobufjs that onnx-proto's `require` finds is the one bundled.
  const versionOf = (name) =>
    JSON.parse(readFileSync(createRequire(entry).resolve(`${name}/package.json`), 'utf8')).version;
  const [onnxProto, protobufjs] = [versionOf('onnx-proto'), versionOf('protobufjs')];
  if (olderThan(protobufjs, MIN_PROTOBUFJS))
    throw new Error(`protobufjs ${protobufjs} would be bundled; the reader needs ${MIN_PROTOBUFJS.join('.')} or later`);
  await esbuild.build({
    entryPoints: [entry],
    outfile: join(dist, VENDORED),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    legalComments: 'inline',
    logLevel: 'warning',
    // Read by test/node/consumer-package.test.ts.
    banner: { js: `// onnx-proto ${onnxProto} with protobufjs ${protobufjs}, bundled by weightlens's build.` },
  });
  let rewritten = 0;
  for (const file of readdirSync(dist, { recursive: true }).filter((f) => /\.(js|d\.ts)$/.test(f))) {
    const path = join(dist, file);
    if (file === VENDORED) continue;
    let specifier = relative(dirname(path), join(dist, VENDORED));
    if (!specifier.startsWith('.')) specifier = `./${specifier}`;
    const text = readFileSync(path, 'utf8');
    const next = text.replace(IMPORT, (_, how, quote) => {
      rewritten++;
      return `${how}${quote}${specifier}${quote}`;
    });
    if (FORBIDDEN.test(next))
      throw new Error(`${file} still imports ${FORBIDDEN.exec(next)[3]}: bundle it in ${import.meta.url}`);
    if (next !== text) writeFileSync(path, next);
  }
  // The reader imports the decoder; none found means the reader moved and this step no longer does anything.
  if (rewritten === 0)
    throw new Error('no module in dist/ imports onnx-proto: update scripts/build-lib/vendor-decoder.mjs');
}
