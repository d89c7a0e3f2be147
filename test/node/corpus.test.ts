// Node-only: every file of the hostile corpus (test/corpus/entries.ts) through the library (stats, cle
// written by writeModel; a child with a 512 MB heap) and the CLI (stats, cle, report; a child run as users
// run it), each with a hang detector. Every run ends with a result or a typed error (CLI: exit 2, one line,
// the code), the outcome the entry expects, peak memory under 512 MB, no non-finite weight written from
// finite inputs, and not one byte of the corpus changed.
import { after, before, describe, it } from 'node:test';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ChildReport, RunOutcome } from '../corpus/child.js';
import { CORPUS, type CorpusEntry, type Outcome } from '../corpus/entries.js';
import { generateCorpus } from '../corpus/generate.js';
import { nonFiniteTensorsIn } from '../corpus/finite-weights.js';
import { pool, runNode, type ChildRun } from '../support/child-process.js';
import { ROOT } from '../support/node-paths.js';
import type { DiffReport } from '../../src/report/diff-report.js';
import type { CompressReport } from '../../src/report/compress-report.js';

const CHILD = join(ROOT, 'build/corpus/child.js');
const BIN = join(ROOT, 'bin/weightlens.js');
const HANG_AFTER_MS = 120_000;
const MAX_RSS_KB = 512 * 1024;

interface EntryRuns {
  library: ChildRun;
  cliStats: ChildRun;
  cliCle: ChildRun;
  /** Non-finite float constants of the input and of the CLI's cle output, when it wrote one. */
  cliCleFinite?: { nonFiniteIn: string[]; nonFiniteOut: string[] };
  cliReport: ChildRun;
  cliQuantize: ChildRun;
  /** `diff` of the file against itself. */
  cliDiff: ChildRun;
  /** `stats --compress`. */
  cliCompress: ChildRun;
  /** Non-finite float constants of the input and of the CLI's quantize output, when it wrote one. */
  cliQuantizeFinite?: { nonFiniteIn: string[]; nonFiniteOut: string[] };
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, entry);
    const info = lstatSync(path);
    out[entry] = info.isSymbolicLink()
      ? `-> ${readlinkSync(path)}`
      : info.isFile()
        ? createHash('sha1').update(readFileSync(path)).digest('hex')
        : 'folder';
  }
  return out;
}

/** The outcome a CLI run reports: 'ok' (exit 0) or the code of its one stderr line (exit 2); else a failure text. */
function cliOutcome(run: ChildRun, file: string): RunOutcome {
  if (run.hung) return { outcome: 'HUNG' };
  if (run.status === 0) return { outcome: 'ok' };
  const lines = run.stderr.trimEnd().split('\n');
  const code = /^weightlens: .* \[([A-Z_]+)\]$/.exec(lines[0] ?? '')?.[1];
  if (run.status !== 2 || lines.length !== 1 || !code)
    return { outcome: `exit ${run.status}`, message: run.stderr.slice(0, 500) };
  expect(lines[0], 'the error names the file').to.contain(file);
  return { outcome: code, message: lines[0] };
}

function expectOutcome(
  what: string,
  got: RunOutcome | undefined,
  accepted: readonly Outcome[],
  mentions?: RegExp,
): void {
  expect(got, what).to.not.equal(undefined);
  const { outcome, message } = got!;
  expect(outcome, `${what}: ${message ?? ''}`).to.not.be.oneOf(['UNTYPED', 'INTERNAL', 'HUNG']);
  expect(accepted, `${what}: got ${outcome} ${message ?? ''}`).to.include(outcome);
  if (outcome !== 'ok' && mentions) expect(message, what).to.match(mentions);
}

/** What `report` must do: fail as stats did, else as cle did (a refused CLE, USAGE, only drops that section). */
function reportOutcome(stats: string, cle: string): Outcome {
  if (stats !== 'ok') return stats as Outcome;
  return cle === 'USAGE' ? 'ok' : (cle as Outcome);
}

describe('hostile-file corpus', () => {
  let root = '';
  let corpusDir = '';
  let corpusBefore: Record<string, string> = {};
  const runs = new Map<string, EntryRuns>();

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'weightlens-corpus-'));
    corpusDir = join(root, 'corpus');
    const generated = generateCorpus(corpusDir);
    corpusBefore = snapshot(corpusDir);
    // The CLI runs as users run it; the library child, an embedding with default V8 settings, under a 512 MB
    // heap limit (V8 would let its heap grow to several times what is live before collecting).
    const node = (script: string, ...args: string[]) =>
      runNode(script, args, { cwd: ROOT, hangAfterMs: HANG_AFTER_MS, ...(script === BIN ? {} : { heapLimitMb: 512 }) });
    await pool(
      generated.map(({ entry, path }) => async () => {
        const out = join(root, 'out', entry.name);
        mkdirSync(join(out, 'library'), { recursive: true });
        mkdirSync(join(out, 'cli'), { recursive: true });
        const cliCleOutput = join(out, 'cli', 'm.cle.onnx');
        const library = await node(CHILD, path, join(out, 'library'));
        const cliStats = await node(BIN, 'stats', path, '--json', '--quiet');
        const cliCle = await node(BIN, 'cle', path, '-o', cliCleOutput, '--quiet');
        // The output was written by our CLE from a small file: small enough to read in this process.
        const cliCleFinite =
          cliCle.status === 0
            ? { nonFiniteIn: await nonFiniteTensorsIn(path), nonFiniteOut: await nonFiniteTensorsIn(cliCleOutput) }
            : undefined;
        const cliReport = await node(BIN, 'report', path, '-o', join(out, 'cli', 'report.html'), '--quiet');
        const cliQuantizeOutput = join(out, 'cli', 'm.q.onnx');
        const cliQuantize = await node(BIN, 'quantize', path, '-o', cliQuantizeOutput, '--quiet');
        const cliDiff = await node(BIN, 'diff', path, path, '--json', '--quiet');
        const cliCompress = await node(BIN, 'stats', path, '--compress', '--json', '--quiet');
        runs.set(entry.name, {
          library,
          cliStats,
          cliCle,
          cliReport,
          cliQuantize,
          cliDiff,
          cliCompress,
          ...(cliCleFinite ? { cliCleFinite } : {}),
          ...(cliQuantize.status === 0
            ? {
                cliQuantizeFinite: {
                  nonFiniteIn: await nonFiniteTensorsIn(path),
                  nonFiniteOut: await nonFiniteTensorsIn(cliQuantizeOutput),
                },
              }
            : {}),
        });
      }),
      2,
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it(`has at least 60 files, each saying what it tests and what it expects (${CORPUS.length} now)`, () => {
    expect(CORPUS.length).to.be.at.least(60);
    expect(new Set(CORPUS.map((e) => e.name)).size, 'unique names').to.equal(CORPUS.length);
    for (const e of CORPUS) expect(e.tests.length > 10 && e.stats.length > 0, e.name).to.equal(true);
  });

  for (const entry of CORPUS) {
    it(`${entry.name}: ${entry.tests} -> ${entry.stats.join(' or ')}`, () => check(entry, runs.get(entry.name)!));
  }

  it('no file of the corpus changed (inputs and their external data are never written)', () => {
    expect(snapshot(corpusDir)).to.deep.equal(corpusBefore);
  });
});

function check(entry: CorpusEntry, r: EntryRuns): void {
  const name = basename(entry.name);
  const cleAccepted = entry.cle ?? entry.stats;
  const { cliCleFinite, cliQuantizeFinite, ...children } = r;
  for (const [what, run] of Object.entries(children) as [string, ChildRun][]) {
    expect(run.hung, `${what} hung (killed after ${HANG_AFTER_MS / 1000} s)`).to.equal(false);
    expect(run.maxRssKb, `${what} peak memory (kB); stderr: ${run.stderr.slice(0, 300)}`).to.be.within(1, MAX_RSS_KB);
  }
  expect(r.library.status, `library child: ${r.library.stderr.slice(0, 500)}`).to.equal(0);
  const library = JSON.parse(r.library.stdout) as ChildReport;
  expectOutcome('library stats', library.stats, entry.stats, entry.mentions);
  expectOutcome('library cle', library.cle, cleAccepted, entry.mentions);

  const stats = cliOutcome(r.cliStats, name);
  const cle = cliOutcome(r.cliCle, name);
  expectOutcome('CLI stats', stats, entry.stats, entry.mentions);
  expectOutcome('CLI cle', cle, cleAccepted, entry.mentions);
  expect(stats.outcome, 'CLI stats agrees with the library').to.equal(library.stats!.outcome);
  expect(cle.outcome, 'CLI cle agrees with the library').to.equal(library.cle!.outcome);
  expectOutcome(
    'CLI report',
    cliOutcome(r.cliReport, name),
    entry.report ?? [reportOutcome(stats.outcome, cle.outcome)],
  );

  // quantize reads the model as stats does, and copies external data through as cle does; a model it can
  // read may have no weight it can quantize (USAGE, saying why for a layer).
  const quantizeAccepted: Outcome[] = [
    ...(stats.outcome === 'ok' ? ['ok' as Outcome] : [stats.outcome as Outcome]),
    'USAGE',
    ...cleAccepted,
  ];
  expectOutcome('CLI quantize', cliOutcome(r.cliQuantize, name), quantizeAccepted);
  // diff reads both models as stats reads one; a model against itself changes nothing.
  const diff = cliOutcome(r.cliDiff, name);
  expectOutcome('CLI diff', diff, [stats.outcome as Outcome]);
  if (diff.outcome === 'ok')
    for (const l of (JSON.parse(r.cliDiff.stdout) as DiffReport).layers)
      expect(l.relativeChange ?? 0, `diff ${l.before}`).to.equal(0);
  // stats --compress reads what stats reads; a weight it cannot factorize is a note, not an error.
  const compress = cliOutcome(r.cliCompress, name);
  expectOutcome('CLI stats --compress', compress, [stats.outcome as Outcome]);
  if (compress.outcome === 'ok')
    for (const l of (JSON.parse(r.cliCompress.stdout) as { compress: CompressReport }).compress.layers)
      expect(l.best.parameters, `compress ${l.name}`).to.be.at.most(l.parameters);
  // A layer whose weight holds NaN/±Inf stays float, as it was: nothing non-finite is added.
  if (cliQuantizeFinite) {
    const { nonFiniteIn, nonFiniteOut } = cliQuantizeFinite;
    expect(
      nonFiniteOut.filter((t) => !nonFiniteIn.includes(t)),
      'quantize wrote non-finite values',
    ).to.deep.equal([]);
  }

  for (const [what, finite] of [
    ['library cle', library],
    ['CLI cle', cliCleFinite],
  ] as const) {
    if (!finite || !finite.nonFiniteIn) continue;
    if (finite.nonFiniteIn.length === 0)
      expect(finite.nonFiniteOut, `${what} wrote non-finite weights from finite inputs`).to.deep.equal([]);
  }
}
