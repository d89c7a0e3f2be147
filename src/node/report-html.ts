// `weightlens report`: one self-contained HTML file — the kit's CDN bundle and the results inlined, no
// network, opens from file:// — with the layer table, range plots, relative ranges, CLE before/after and
// the quantization error. The elements get their data through their `report` properties.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CleReport } from '../report/cle-report.js';
import type { StatsReport } from '../report/stats-report.js';
import { worstFirst } from '../report/worst-layers.js';

/** dist/cdn/weightlens.js, next to this module's folder in dist/. */
const BUNDLE = new URL('../cdn/weightlens.js', import.meta.url);

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
/** JSON that cannot end the <script> element it sits in. */
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export async function reportHtml(localStats: StatsReport, localCle: CleReport | null): Promise<string> {
  // The report is a file meant to be shared: it names the model by its file name, never its local path
  // (the results name it as it was opened, and the CLI's messages keep the path for the user at hand).
  const stats = { ...localStats, file: basename(localStats.file) };
  const cle = localCle && { ...localCle, file: basename(localCle.file) };
  const bundle = (await readFile(fileURLToPath(BUNDLE), 'utf8')).replace(/<\/script/gi, '<\\/script');
  const title = `weightlens report: ${stats.file}`;
  const worst = worstFirst(stats.layers)[0];
  return `<!doctype html>
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
${bundle}
</script>
<script type="module">
const stats = ${inlineJson(stats)};
const cle = ${inlineJson(cle)};
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
}
