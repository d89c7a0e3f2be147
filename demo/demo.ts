// The demo page: opens the bundled PP-OCRv4 detector by default, or the user's file(s)/URL, and lists
// every weight layer with its statistics. (The kit's elements replace this table in a later issue.)
import { computeStats, openModel, WeightlensError, type ModelSource, type StatsReport } from '../src/index.js';

const DEFAULT_MODEL = 'models/ch_PP-OCRv4_det_infer.onnx';
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const progress = $<HTMLProgressElement>('progress');
const statusText = $('status-text');
const errorBox = $('error');
const cancelButton = $<HTMLButtonElement>('cancel');
let current: AbortController | undefined;

const fmt = (v: number | null) => (v === null ? '–' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toPrecision(4));
const extreme = (xs: (number | null)[], pick: (a: number, b: number) => number) =>
  xs.reduce<number | null>((acc, v) => (v === null ? acc : acc === null ? v : pick(acc, v)), null);

function showStatus(text: string, fraction?: number): void {
  statusText.textContent = text;
  progress.hidden = fraction === undefined;
  if (fraction !== undefined) progress.value = fraction;
}

function render(report: StatsReport): void {
  const { model } = report;
  $('summary').textContent = `${report.file}: IR ${model.irVersion}, ${model.producer ? `made by ${model.producer}, ` : ''}` +
    `${model.parameters.toLocaleString()} parameters, ${report.layers.length} weight layers`;
  const rows = report.layers.map((l) => {
    const tr = document.createElement('tr');
    const cells = [
      l.graph === 'main' ? l.name : `${l.graph}/${l.name}`,
      l.depthwise ? `${l.op} (depthwise)` : l.op,
      `[${l.shape.join(', ')}]`,
      String(l.channels.min.length),
      fmt(extreme(l.channels.min, Math.min)),
      fmt(extreme(l.channels.max, Math.max)),
      l.minRange === 0 ? '∞' : fmt(l.maxRelativeRange),
      l.outliers.length ? `${l.outliers.length}: ${l.outliers.slice(0, 6).join(', ')}${l.outliers.length > 6 ? '…' : ''}` : '–',
      String(l.nonFinite),
    ];
    for (const [i, text] of cells.entries()) {
      const td = document.createElement(i === 0 ? 'th' : 'td');
      if (i === 0) td.setAttribute('scope', 'row');
      td.textContent = text;
      if ((i === 7 && l.outliers.length) || (i === 8 && l.nonFinite)) td.className = 'bad';
      tr.append(td);
    }
    return tr;
  });
  const table = $<HTMLTableElement>('layers');
  table.tBodies[0]!.replaceChildren(...rows);
  table.hidden = false;
}

async function load(source: ModelSource, externalFiles: File[] = []): Promise<void> {
  current?.abort();
  const controller = (current = new AbortController());
  const { signal } = controller;
  errorBox.hidden = true;
  cancelButton.hidden = false;
  try {
    const model = await openModel(source, {
      signal,
      externalData: externalFiles.length ? externalFiles : undefined,
      onProgress: (p) => showStatus(p.phase === 'read' ? `reading ${(p.loaded / 1e6).toFixed(1)} MB` : 'decoding', p.total ? p.loaded / p.total : undefined),
    });
    const report = await computeStats(model, {
      signal,
      onProgress: (p) => showStatus(`statistics: ${p.done} / ${p.total} layers`, p.total ? p.done / p.total : 1),
    });
    render(report);
    showStatus(`${report.file}: done`);
  } catch (error) {
    showStatus('');
    if (error instanceof WeightlensError && error.code === 'ABORTED' && current !== controller) return; // replaced by a newer load
    errorBox.textContent = error instanceof WeightlensError ? `${error.message} [${error.code}]` : `Unexpected error: ${String(error)}`;
    errorBox.hidden = false;
  } finally {
    if (current === controller) cancelButton.hidden = true;
  }
}

function openFiles(files: File[]): void {
  const model = files.find((f) => f.name.toLowerCase().endsWith('.onnx')) ?? files[0];
  if (model) void load(model, files.filter((f) => f !== model));
}

$<HTMLInputElement>('files').addEventListener('change', (e) => openFiles([...((e.target as HTMLInputElement).files ?? [])]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  openFiles([...(e.dataTransfer?.files ?? [])]);
});
$('url-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = $<HTMLInputElement>('url').value.trim();
  if (url) void load(url);
});
cancelButton.addEventListener('click', () => current?.abort());

void load(new URL(DEFAULT_MODEL, location.href).href);
