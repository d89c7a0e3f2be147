// What a user feels on the page, measured by `npm run bench` rather than asserted by tests (a busy machine
// makes any duration flaky): the longest main-thread task while a ResNet-50-size model loads, with and
// without elements drawing, how soon an abort is answered and how soon a kept model answers a histogram,
// and while a transformer-sized table and a vocabulary-sized plot draw.
// Each line prints its target; none is enforced.
import { ModelHandle } from '../src/binding/model-handle.js';
import { analyzeInWorker, workerWeights } from '../src/worker/client.js';
import { mountElementsPage } from '../test/fixtures/elements-page.js';
import { resnet50Bytes } from '../test/fixtures/resnet50.js';
import { frames } from '../test/support/frames.js';
import { layerOf, reportOf } from '../test/support/layer-fixture.js';
import type { StatsReport } from '../src/report/stats-report.js';

const RUNS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

/** Resolves once `check()` is truthy, polled every frame (the bench page's own 10-minute limit applies). */
async function until(check: () => unknown): Promise<void> {
  while (!check()) await frames(1);
}

/**
 * The longest the main thread was busy at once while `work` runs: the larger of the longest gap between
 * back-to-back zero-delay messages (sees tasks of any length) and the longest long task Chromium reports
 * (> 50 ms only, but includes work the message loop cannot see, such as rendering). And the long-task count.
 */
async function busiestDuring(work: () => Promise<void>): Promise<{ longest: number; longTasks: number }> {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ type: 'longtask', buffered: false });
  const channel = new MessageChannel();
  let last = performance.now();
  let gap = 0;
  let running = true;
  channel.port1.onmessage = () => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
    if (running) channel.port2.postMessage(0);
  };
  channel.port2.postMessage(0);
  await work();
  running = false;
  await frames(3); // entries are delivered after the task that ran long
  channel.port1.close();
  entries.push(...observer.takeRecords());
  observer.disconnect();
  return { longest: Math.max(gap, ...entries.map((e) => e.duration)), longTasks: entries.length };
}

type Busy = Awaited<ReturnType<typeof busiestDuring>>;
const summary = (runs: Busy[]) => ({
  longest_task_ms: +median(runs.map((r) => r.longest)).toFixed(1),
  long_tasks: median(runs.map((r) => r.longTasks)),
});

const modelBuffer = () => resnet50Bytes().bytes.buffer as ArrayBuffer;

/** A page with every element bound to one <model-source>: load until all have drawn. */
async function elementsLoadBench(): Promise<void> {
  const runs: Busy[] = [];
  for (let r = 0; r < RUNS; r++) {
    const bytes = modelBuffer(); // made before observing: building it is the bench's work, not the load's
    const { page, source, histogram } = await mountElementsPage();
    runs.push(
      await busiestDuring(async () => {
        await source.handle.load({ kind: 'bytes', bytes, name: 'resnet50.onnx' });
        await until(() => histogram.status !== 'loading');
        await frames(5); // the elements draw after the results arrive
      }),
    );
    if (source.handle.status !== 'ready') throw new Error(`elements-load: ${source.handle.error?.message}`);
    page.remove();
  }
  print({ bench: 'elements-load', ...summary(runs), target_ms: 50, runs: RUNS });
}

/** The same load with no element: the Worker's share of the page's work (transfer, progress, results). */
async function workerLoadBench(): Promise<void> {
  const runs: Busy[] = [];
  for (let r = 0; r < RUNS; r++) {
    const bytes = modelBuffer();
    await frames(10);
    const handle = new ModelHandle(analyzeInWorker);
    runs.push(await busiestDuring(() => handle.load({ kind: 'bytes', bytes, name: 'resnet50.onnx' })));
    if (handle.status !== 'ready') throw new Error(`worker-load: ${handle.error?.message}`);
    handle.dispose();
  }
  print({ bench: 'worker-load', ...summary(runs), target_ms: 50, runs: RUNS });
}

/** From abort() during a load to the rejection. */
async function abortBench(): Promise<void> {
  const latencies: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const controller = new AbortController();
    let abortedAt = 0;
    const job = analyzeInWorker(
      { kind: 'bytes', bytes: modelBuffer(), name: 'resnet50.onnx' },
      {
        signal: controller.signal,
        onProgress: ({ fraction }) => {
          if (fraction > 0 && !controller.signal.aborted) {
            abortedAt = performance.now();
            controller.abort();
          }
        },
      },
    );
    await job.then(
      () => {
        throw new Error('abort: the load was not aborted');
      },
      () => latencies.push(performance.now() - abortedAt),
    );
  }
  print({ bench: 'abort-latency', ms: +median(latencies).toFixed(1), target_ms: 20, runs: RUNS });
}

/** A kept model answering a histogram of its largest layer (whole tensor, then channels), via the Worker. */
async function histogramLatencyBench(): Promise<void> {
  const handle = new ModelHandle(analyzeInWorker, workerWeights);
  await handle.load({ kind: 'bytes', bytes: modelBuffer(), name: 'resnet50.onnx' });
  const largest = [...handle.report!.layers].sort((a, b) => b.parameters - a.parameters)[0]!;
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    await handle.histogram(
      { layer: largest.name, channel: r === 0 ? null : r, bins: 128 },
      new AbortController().signal,
    );
    times.push(performance.now() - t);
  }
  handle.dispose();
  print({
    bench: 'histogram-latency',
    layer_parameters: largest.parameters,
    fastest_ms: +Math.min(...times).toFixed(1),
    target_ms: 50,
    runs: RUNS,
  });
}

/** Mounts `<tag>` showing `report` in a 1200 px container; returns the container and the element. */
function mountWith(tag: 'layer-table' | 'weight-range-plot', report: StatsReport) {
  const page = document.createElement('div');
  page.style.width = '1200px';
  const el = document.createElement(tag);
  el.report = report;
  page.append(el);
  return { page, el };
}

/** The rows of a table drawn now, by layer name. */
const drawnLayers = (el: HTMLElement) =>
  [...el.shadowRoot!.querySelectorAll<HTMLElement>('[part~="row"]')].map((r) => r.dataset['layer']);

/** A 2,000-layer report in <layer-table>: drawn, then scrolled to the end until its last row is drawn. */
async function longTableBench(): Promise<void> {
  const layers = 2000;
  const report = reportOf(
    Array.from({ length: layers }, (_, i) => layerOf([-1, -2], [1, i + 2], `model.layers.${i}.mlp.down_proj`)),
    'long.onnx',
  );
  const runs: Busy[] = [];
  for (let r = 0; r < RUNS; r++) {
    const { page, el } = mountWith('layer-table', report);
    const last = report.layers.at(-1)!.name;
    runs.push(
      await busiestDuring(async () => {
        document.body.append(page);
        await until(() => drawnLayers(el).length > 0);
        const scroller = el.shadowRoot!.querySelector<HTMLElement>('[part~="scroller"]')!;
        scroller.scrollTop = scroller.scrollHeight;
        await until(() => drawnLayers(el).includes(last));
        await frames(3);
      }),
    );
    page.remove();
  }
  print({ bench: 'layer-table-2000', ...summary(runs), target_ms: 50, runs: RUNS });
}

/** A 262,144-channel layer (a vocabulary's embedding) drawn by <weight-range-plot>. */
async function vocabularyPlotBench(): Promise<void> {
  const rows = 262_144;
  const ranges = Array.from({ length: rows }, (_, c) => 1 + Math.sin(c) * 0.3);
  const report = reportOf(
    [
      layerOf(
        ranges.map((v) => -v / 2),
        ranges.map((v) => v / 2),
        'embed',
      ),
    ],
    'vocab.onnx',
  );
  const runs: Busy[] = [];
  for (let r = 0; r < RUNS; r++) {
    const { page, el } = mountWith('weight-range-plot', report);
    runs.push(
      await busiestDuring(async () => {
        document.body.append(page);
        await until(() => el.shadowRoot?.querySelector('[part~="chart"]'));
        await frames(3);
      }),
    );
    page.remove();
  }
  print({ bench: 'weight-range-plot-262144', ...summary(runs), target_ms: 50, runs: RUNS });
}

/** The lines for big models' views: a long layer table and a vocabulary-sized plot. */
export async function largeViewBenches(): Promise<void> {
  await longTableBench();
  await vocabularyPlotBench();
}

export async function mainThreadBenches(): Promise<void> {
  await elementsLoadBench();
  await workerLoadBench();
  await abortBench();
  await histogramLatencyBench();
  await largeViewBenches();
}
