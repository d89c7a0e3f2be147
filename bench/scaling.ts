// The scaling lines of `npm run bench` (run in Node by scripts/bench.mjs): generated LLaMA-shaped models
// with external data (test/fixtures/llama/) from ~100 MB to ~3 GB, each through the `weightlens` CLI as
// users run it — `stats`, `stats --no-quant`, `cle` and `quantize` into another folder — with the child's
// peak RSS, beside the time `cat` takes to read the same files to /dev/null on a warm cache; the two smallest and the largest
// also in Chromium (Files from a file input, the page's pipeline; `cle` then saved as <cle-compare> saves
// into a folder), with the renderer's and the browser process's peak RSS. One JSON line per command; every
// generated file is removed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { chromiumArgs, chromiumPath } from '../scripts/chromium.mjs';
import { generateLlama, type GeneratedLlama } from '../test/fixtures/llama/generate-llama.js';
import { runNode } from '../test/support/child-process.js';

const SHAPE = { hidden: 1024, ffn: 2816, vocab: 8000 };
/** Decoder layers of each point: ~117 MB, ~322 MB, ~990 MB, ~3.05 GB of float32 weights. */
const LAYERS = [1, 5, 18, 58];
const IN_BROWSER = new Set([1, 5, 58]);

interface Point {
  weight_bytes: number;
  ms: number;
  [figure: string]: number;
}

const round = (x: number, digits = 1) => +x.toFixed(digits);
const filesOf = (m: GeneratedLlama) => [m.model, ...m.dataFiles];
const sizeOf = (files: string[]) => files.reduce((n, f) => n + statSync(f).size, 0);

/** Milliseconds `cat` takes to read the files to /dev/null: once to warm the cache, then the fastest of 3. */
function readMs(files: string[]): number {
  const devNull = openSync('/dev/null', 'w');
  try {
    const times = [0, 1, 2, 3].map(() => {
      const t0 = performance.now();
      const r = spawnSync('cat', files, { stdio: ['ignore', devNull, 'inherit'] });
      if (r.status !== 0) throw new Error(`cat failed: ${r.status}`);
      return performance.now() - t0;
    });
    return Math.min(...times.slice(1));
  } finally {
    closeSync(devNull);
  }
}

/** `weightlens …args`: milliseconds and the child's peak RSS (MB). */
async function cli(args: string[]): Promise<{ ms: number; peakRssMb: number }> {
  const t0 = performance.now();
  const run = await runNode('bin/weightlens.js', args, { cwd: process.cwd(), hangAfterMs: 3_600_000 });
  const ms = performance.now() - t0;
  if (run.status !== 0) throw new Error(`weightlens ${args.join(' ')}: exit ${run.status}\n${run.stderr}`);
  return { ms, peakRssMb: run.maxRssKb / 1024 };
}

/**
 * The peak RSS (VmHWM, MB) of the renderer processes under `root` (the page's memory), and of the browser
 * process itself (where Chromium keeps blob bytes until they spill to disk).
 */
function peaksMb(root: number): { renderer: number; browser: number } {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  const under = (pid: number): boolean => pid === root || (parent.has(pid) && pid > 1 && under(parent.get(pid)!));
  const hwmMb = (pid: number) =>
    Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  let renderer = 0;
  for (const pid of parent.keys()) {
    try {
      if (!under(pid) || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      renderer = Math.max(renderer, hwmMb(pid));
    } catch {
      // the process ended meanwhile
    }
  }
  return { renderer, browser: hwmMb(root) };
}

/** One command on the model's Files in a fresh Chromium (so the renderer's peak is this run's). */
async function inBrowser(url: string, files: string[], command: 'stats' | 'cle') {
  const browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: chromiumArgs });
  try {
    const page = await browser.newPage();
    await page.goto(url);
    const input = await page.waitForSelector('input[type=file]');
    await input!.uploadFile(...files);
    const result = await page.evaluate((c) => window.scalingRun(c), command);
    return { ...result, peaks: peaksMb(browser.process()!.pid!) };
  } finally {
    await browser.close();
  }
}

/** Prints the scaling lines; `pageUrl` serves bench/scaling-page.ts. */
export async function scalingBenches(pageUrl: string): Promise<void> {
  const lines = {
    stats: [] as Point[],
    'stats --no-quant': [] as Point[],
    cle: [] as Point[],
    'quantize int8 per-channel': [] as Point[],
    'quantize int4 per-group 32': [] as Point[],
    browserStats: [] as Point[],
    browserCle: [] as Point[],
  };
  const dir = mkdtempSync(join(tmpdir(), 'weightlens-scaling-'));
  try {
    for (const layers of LAYERS) {
      const model = generateLlama(join(dir, 'in'), { ...SHAPE, layers });
      const files = filesOf(model);
      const read = readMs(files);
      const base = { weight_bytes: model.weightBytes, read_ms: round(read) };
      const point = (r: { ms: number; peakRssMb: number }) => ({
        ...base,
        ms: round(r.ms),
        peak_rss_mb: Math.round(r.peakRssMb),
        ratio_to_read: round(r.ms / read),
      });
      const stats = point(await cli(['stats', model.model]));
      lines.stats.push(stats);
      lines['stats --no-quant'].push(point(await cli(['stats', model.model, '--no-quant'])));
      const out = join(dir, 'out');
      const cle = point(await cli(['cle', model.model, '-o', join(out, 'llama.cle.onnx')]));
      const outputBytes = readdirSync(out).reduce((n, f) => n + statSync(join(out, f)).size, 0);
      rmSync(out, { recursive: true });
      lines.cle.push({
        ...cle,
        ratio_to_stats: round(cle.ms / stats.ms, 2),
        output_ratio: round(outputBytes / sizeOf(files), 3),
      });
      // Min-max + export, to the same other folder (the bar: at most 5x stats).
      for (const [command, flags] of [
        ['quantize int8 per-channel', []],
        ['quantize int4 per-group 32', ['--bits', '4', '--block', '32']],
      ] as const) {
        const q = point(await cli(['quantize', model.model, '-o', join(out, 'llama.q.onnx'), ...flags]));
        rmSync(out, { recursive: true });
        lines[command].push({ ...q, ratio_to_stats: round(q.ms / stats.ms, 2) });
      }
      if (IN_BROWSER.has(layers)) {
        for (const command of ['stats', 'cle'] as const) {
          const r = await inBrowser(pageUrl, files, command);
          (command === 'stats' ? lines.browserStats : lines.browserCle).push({
            ...base,
            ms: round(r.ms),
            peak_renderer_mb: Math.round(r.peaks.renderer),
            peak_browser_mb: Math.round(r.peaks.browser),
            ratio_to_read: round(r.ms / read),
            ...(r.saveMs === undefined
              ? {}
              : { save_ms: round(r.saveMs), output_ratio: round(r.outputBytes! / sizeOf(files), 3) }),
          });
        }
      }
      rmSync(join(dir, 'in'), { recursive: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const command of [
    'stats',
    'stats --no-quant',
    'cle',
    'quantize int8 per-channel',
    'quantize int4 per-group 32',
  ] as const)
    console.log(JSON.stringify({ bench: 'scaling', command, points: lines[command] }));
  console.log(JSON.stringify({ bench: 'scaling-browser', command: 'stats', points: lines.browserStats }));
  console.log(JSON.stringify({ bench: 'scaling-browser', command: 'cle', points: lines.browserCle }));
}
