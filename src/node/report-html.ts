// `weightlens report`: one self-contained HTML file — the kit's CDN bundle and the results inlined, no
// network, opens from file:// — with the layer table, range plots, relative ranges, CLE before/after and
// the quantization error. The elements get their data through their `report` properties.
//
// The results are written layer by layer (a model of 30,000 small layers makes tens of MB of JSON), and
// the CLE section carries only what the statistics do not: each layer's "after", left out where it is
// the same as before; the page puts "before" back from the statistics.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CleReport } from '../report/cle-report.js';
import type { StatsReport } from '../report/stats-report.js';
import { worstFirst } from '../report/worst-layers.js';
import { atomicWrite, type WriteChunk } from './atomic-write.js';

/** dist/cdn/weightlens.js, next to this module's folder in dist/. */
const BUNDLE = new URL('../cdn/weightlens.js', import.meta.url);

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
/** JSON that cannot end the <script> element it sits in. */
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/** Writes `value` (an object with a `layers` array) as inline JSON, one layer at a time. */
async function writeWithLayers(write: WriteChunk, value: { layers: readonly unknown[] }): Promise<void> {
  const { layers, ...rest } = value;
  const head = inlineJson(rest);
  await write(`${head.slice(0, -1)}${head === '{}' ? '' : ','}"layers":[`);
  for (let i = 0; i < layers.length; i++) await write((i === 0 ? '' : ',') + inlineJson(layers[i]));
  await write(']}');
}

/** The CLE layers as the page gets them: no "before" (the statistics hold it), "after" only where it differs. */
function cleLayersForPage(cle: CleReport) {
  return cle.layers.map(({ name, op, before, after }) =>
    JSON.stringify(after) === JSON.stringify(before) ? { name, op } : { name, op, after },
  );
}

/**
 * Writes the report page to `path` (atomically). `cle`'s "before" statistics must be `stats` (CLE run
 * with `before: stats`): the page shares them.
 */
export async function writeReportHtml(
  path: string,
  localStats: StatsReport,
  localCle: CleReport | null,
): Promise<void> {
  // The report is a file meant to be shared: it names the model by its file name, never its local path
  // (the results name it as it was opened, and the CLI's messages keep the path for the user at hand).
  const stats = { ...localStats, file: basename(localStats.file) };
  const cle = localCle && { ...localCle, file: basename(localCle.file) };
  const bundle = (await readFile(fileURLToPath(BUNDLE), 'utf8')).replace(/<\/script/gi, '<\\/script');
  const title = `weightlens report: ${stats.file}`;
  const worst = worstFirst(stats.layers)[0];
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0 auto; max-width: 100rem; padding: 1rem 1.5rem 3rem; }
  section { margin-top: 2rem; }
  .views { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 7fr); gap: 2rem; align-items: start; }
  @media (max-width: 60rem) { .views { grid-template-columns: minmax(0, 1fr); } }
</style>
</head>
<body>
<header>
  <h1>${escapeHtml(title)}</h1>
  <p>IR ${stats.model.irVersion}, ${stats.model.parameters.toLocaleString('en-US')} parameters${
    stats.model.quantizedParameters
      ? ` (and ${stats.model.quantizedParameters.toLocaleString('en-US')} stored as integers)`
      : ''
  }, ${stats.layers.length} weight layers.
    Made by weightlens; everything below is in this file.</p>
</header>
<section id="layers-section" aria-labelledby="layers-title">
  <h2 id="layers-title">Layers and weight ranges</h2>
  <div class="views">
    <layer-table id="layers"></layer-table>
    <div>
      <weight-range-plot id="ranges"${worst ? ` layer="${escapeHtml(worst.name)}"` : ''}></weight-range-plot>
      <relative-range-plot id="relative"${worst ? ` layer="${escapeHtml(worst.name)}"` : ''}></relative-range-plot>
    </div>
  </div>
</section>
<section id="quant-section" aria-labelledby="quant-title">
  <h2 id="quant-title">Quantization error (SQNR)</h2>
  <quant-error-plot id="quant"></quant-error-plot>
</section>
${
  cle
    ? `<section id="cle-section" aria-labelledby="cle-title">
  <h2 id="cle-title">Cross Layer Equalization: before and after</h2>
  <cle-compare id="cle"></cle-compare>
  <h3 id="quant-cle-title">Quantization error after CLE against before</h3>
  <quant-error-plot id="quant-cle" aria-labelledby="quant-cle-title"></quant-error-plot>
</section>`
    : ''
}
<script type="module">
<@bundle>
</script>
<script type="module">
const stats = <@stats>;
const cle = <@cle>;
if (cle) {
  const before = new Map(stats.layers.map((layer) => [layer.name, layer]));
  for (const layer of cle.layers) {
    layer.before = before.get(layer.name);
    layer.after ??= layer.before;
  }
}
for (const id of ['layers', 'ranges', 'relative', 'quant']) {
  const element = document.getElementById(id);
  if (element) element.report = stats;
}
// The table drives the plots: they share no model handle here, so follow its selection by event.
document.getElementById('layers').addEventListener('wl-layer-select', (event) => {
  for (const id of ['ranges', 'relative']) document.getElementById(id).layer = event.detail.layer;
});
if (cle) {
  document.getElementById('cle').report = cle;
  document.getElementById('quant-cle').cleReport = cle;
}
</script>
</body>
</html>
`;
  // Markers no interpolated text can hold (escapeHtml turns every "<" of a name into "&lt;").
  const [head, beforeStats, middle, bottom] = page.split(/<@bundle>|<@stats>|<@cle>/) as [
    string,
    string,
    string,
    string,
  ];
  await atomicWrite(path, async (write) => {
    await write(head);
    await write(bundle);
    await write(beforeStats);
    await writeWithLayers(write, stats);
    await write(middle);
    if (cle) await writeWithLayers(write, { ...cle, layers: cleLayersForPage(cle) });
    else await write('null');
    await write(bottom);
  });
}
