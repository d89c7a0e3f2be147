// `weightlens` command line: a thin front over the library. Exit codes: 0 done, 2 bad input or usage
// (one line on stderr, no stack unless --debug), 1 a bug in weightlens.
import { basename, dirname, resolve } from 'node:path';
import { WeightlensError, asWeightlensError } from '../errors.js';
import { openModelFile } from '../node/open-file.js';
import { computeStats } from '../pipeline/compute-stats.js';
import {
  parseCommandLine,
  USAGE,
  type AuditCommand,
  type CleCommand,
  type DiffCommand,
  type FactorizeCommand,
  type QuantizeCommand,
  type ReportCommand,
  type StatsCommand,
  type StatsFormat,
} from './args.js';
import { writeReportHtml } from '../node/report-html.js';
import { plural } from '../text/plural.js';

import { toModelExplorerNodeData, toNetronAttachment } from '../report/interop.js';
import type { Model } from '../onnx/model.js';
import type { StatsReport } from '../report/stats-report.js';
import { formatCleSummary } from './cle-summary.js';
import { formatQuantizeSummary } from './quantize-summary.js';
import { quantizeModel, type QuantizeOptions } from '../pipeline/quantize-model.js';
import { atomicWrite } from '../node/atomic-write.js';
import { verifyQuantized, type VerifyOptions, type VerifyReport } from '../node/verify-quantized.js';
import { checkPlan } from '../quant/plan.js';
import { checkScheme } from '../quant/scheme.js';
import { readFile } from 'node:fs/promises';
import { directorySource } from '../node/external-data.js';
import { writeModel } from '../node/write-model.js';
import { fileSpill } from '../node/file-spill.js';
import { inputFilesOf, refuseInputTargets } from '../node/input-files.js';
import { equalizeModel } from '../pipeline/equalize-model.js';
import type { Progress } from '../progress.js';
import { progressLine, type ProgressSink } from './progress.js';
import { formatStatsTable } from './table.js';
import { VERSION } from '../version.js';
import { auditModel } from '../pipeline/audit-model.js';
import { formatAuditSummary } from './audit-summary.js';
import { diffModels } from '../pipeline/diff-models.js';
import { formatDiffSummary } from './diff-summary.js';
import { jsonPieces } from './json-output.js';
import { compressibility } from '../pipeline/compressibility.js';
import { formatCompressSummary } from './compress-summary.js';
import { factorizeLayer } from '../pipeline/factorize-layer.js';
import { formatFactorizeSummary } from './factorize-summary.js';

export interface CliIO {
  /** `write` returning false and a 'drain' event: a stream's back-pressure (process.stdout has both). */
  stdout: { write(text: string): unknown; once?(event: 'drain', listener: () => void): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/** The arrays of a report `--json` writes element by element: its layers, and stats --compress's. */
const STREAMED = [['layers'], ['compress', 'layers']];

/** Bytes of `--json` text gathered before one write. */
const JSON_WRITE = 1 << 20;

/**
 * A report as `--json` prints it, its layers taken one at a time (json-output.ts) and written about a
 * megabyte at a time, waiting while stdout is full: a pipe read slowly must not queue the whole text.
 */
async function writeJson(io: CliIO, report: object): Promise<void> {
  const { stdout } = io;
  let pending = '';
  const flush = async () => {
    const accepted = stdout.write(pending);
    pending = '';
    if (accepted === false && stdout.once)
      await new Promise((resolve) => stdout.once!('drain', () => resolve(undefined)));
  };
  for (const piece of jsonPieces(report, STREAMED)) {
    pending += piece;
    if (pending.length >= JSON_WRITE) await flush();
  }
  if (pending) await flush();
}

/** The report as --json asks, or its summary: after the progress line is gone. */
async function printReport(io: CliIO, json: boolean, report: object, summary: () => string): Promise<void> {
  if (json) await writeJson(io, report);
  else io.stdout.write(summary());
}

/** `report` with --verify's output SQNR of `output` against `input` under onnxruntime, when asked. */
async function verified<R extends object>(
  report: R,
  cmd: { verify?: VerifyOptions },
  progress: ProgressSink,
  input: string,
  output: string,
): Promise<R | (R & { verify: VerifyReport })> {
  if (!cmd.verify) return report;
  progress.update('verify', { fraction: 0, text: `${basename(input)}: running both models (onnxruntime)` });
  return { ...report, verify: await verifyQuantized(input, output, cmd.verify) };
}

/** The progress line a command asked for: on stderr always, never, or (auto) only on a terminal. */
const commandProgress = (cmd: { progress: 'auto' | 'always' | 'never' }, io: CliIO) =>
  progressLine(io.stderr, cmd.progress === 'always' || (cmd.progress === 'auto' && io.stderr.isTTY === true));

/** Reports a step's progress on `sink`, each line naming the model file. */
const stepOf = (sink: ProgressSink, name: string, phase: string) => (p: Progress) =>
  sink.update(phase, { fraction: p.fraction, text: `${name}: ${p.text}` });

async function runStats(cmd: StatsCommand, io: CliIO): Promise<void> {
  const progress = commandProgress(cmd, io);
  const name = basename(cmd.model);
  try {
    const model = await openModelFile(cmd.model, {
      dataDir: cmd.dataDir,
      onProgress: (p) => p.phase === 'read' && stepOf(progress, name, 'read')(p),
    });
    const report = await computeStats(model, {
      layer: cmd.layer,
      quant: cmd.quant,
      blocks: cmd.blocks,
      onProgress: stepOf(progress, name, 'stats'),
    });
    const compress = cmd.compress
      ? await compressibility(model, {
          error: cmd.compress.error,
          stats: report,
          onProgress: stepOf(progress, name, 'compress'),
        })
      : undefined;
    progress.done();
    if (cmd.format === 'json') await writeJson(io, compress ? { ...report, compress } : report);
    else if (compress) io.stdout.write(formatCompressSummary(compress, { wide: cmd.wide }));
    else io.stdout.write(formatStats(report, model, cmd.format, cmd.wide));
  } finally {
    progress.done();
  }
}

function formatStats(report: StatsReport, model: Model, format: Exclude<StatsFormat, 'json'>, wide: boolean): string {
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';
  switch (format) {
    case 'netron':
      return json(toNetronAttachment(report));
    case 'model-explorer':
      return json(
        toModelExplorerNodeData(report, model, report.layers.some((l) => l.quant) ? 'sqnr' : 'relative-range'),
      );
    default:
      return formatStatsTable(report, { wide });
  }
}

async function runCle(cmd: CleCommand, io: CliIO): Promise<void> {
  const progress = commandProgress(cmd, io);
  const name = basename(cmd.model);
  // Large new weights wait beside the output until it is written.
  const spill = fileSpill(cmd.output);
  if (cmd.relu6ToRelu) {
    io.stderr.write(
      'weightlens: warning: --relu6-to-relu rewrites Clip(0, 6) to Relu: the equalized model no longer clips activations at 6, ' +
        'so it does NOT compute the same function as the input\n',
    );
  }
  try {
    const dataDir = cmd.dataDir ?? dirname(cmd.model);
    const model = await openModelFile(cmd.model, {
      dataDir,
      onProgress: (p) => p.phase === 'read' && stepOf(progress, name, 'read')(p),
    });
    const outcome = await equalizeModel(model, {
      spill: spill.spill,
      biasAbsorption: cmd.biasAbsorption,
      relu6ToRelu: cmd.relu6ToRelu,
      externalData: directorySource(dataDir),
      dataFileName: `${basename(cmd.output).replace(/\.onnx$/i, '')}.data`,
      // Written elsewhere, the model takes the data it still uses along in its own file (never a copy of the
      // input's whole data files); beside its input, it keeps pointing at them.
      relocateExternal: resolve(dirname(cmd.output)) !== resolve(dataDir),
      onProgress: stepOf(progress, name, 'cle'),
    });
    await writeModel(cmd.output, outcome, {
      input: cmd.model,
      model,
      dataDir,
      onProgress: stepOf(progress, name, 'write'),
    });
    progress.done();
    io.stdout.write(
      cmd.json
        ? JSON.stringify(outcome.report, null, 2) + '\n'
        : formatCleSummary(outcome.report, cmd.output, { wide: cmd.wide }),
    );
  } finally {
    progress.done();
    await spill.remove();
  }
}

/** What a quantize command asks for: its plan file's, one scheme for every layer, or the planner's budget. */
async function planOf(cmd: QuantizeCommand): Promise<Pick<QuantizeOptions, 'plan' | 'budget' | 'blocks'>> {
  if ('budget' in cmd.plan) return { budget: cmd.plan.budget, ...(cmd.plan.blocks ? { blocks: cmd.plan.blocks } : {}) };
  if ('scheme' in cmd.plan) return { plan: { default: checkScheme(cmd.plan.scheme, 'quantize options') } };
  const { file } = cmd.plan;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new WeightlensError(
      'IO',
      `${file}: cannot read the plan (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      {
        file,
        cause: e,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WeightlensError('USAGE', `${file}: the plan is not JSON (${(e as Error).message})`, { file });
  }
  return { plan: checkPlan(json, file) };
}

async function runQuantize(cmd: QuantizeCommand, io: CliIO): Promise<void> {
  const progress = commandProgress(cmd, io);
  const name = basename(cmd.model);
  const spill = fileSpill(cmd.output);
  try {
    const asked = await planOf(cmd);
    const dataDir = cmd.dataDir ?? dirname(cmd.model);
    const model = await openModelFile(cmd.model, {
      dataDir,
      onProgress: (p) => p.phase === 'read' && stepOf(progress, name, 'read')(p),
    });
    const outcome = await quantizeModel(model, {
      ...asked,
      spill: spill.spill,
      dataFileName: `${basename(cmd.output).replace(/\.onnx$/i, '')}.data`,
      relocateExternal: resolve(dirname(cmd.output)) !== resolve(dataDir),
      onProgress: stepOf(progress, name, 'quantize'),
      ...(cmd.biasCorrection ? { biasCorrection: true } : {}),
      ...(cmd.matMulNBits ? { matMulNBits: true } : {}),
    });
    await writeModel(cmd.output, outcome, {
      input: cmd.model,
      model,
      dataDir,
      onProgress: stepOf(progress, name, 'write'),
    });
    if (cmd.savePlan) {
      const used = outcome.report.planner?.plan ?? asked.plan!;
      await refuseInputTargets([cmd.savePlan], inputFilesOf(model, cmd.model, dataDir));
      await atomicWrite(cmd.savePlan, new TextEncoder().encode(JSON.stringify(used, null, 2) + '\n'));
    }
    const report = await verified(outcome.report, cmd, progress, cmd.model, cmd.output);
    progress.done();
    await printReport(io, cmd.json, report, () => formatQuantizeSummary(report, cmd.output));
  } finally {
    progress.done();
    await spill.remove();
  }
}

async function runAudit(cmd: AuditCommand, io: CliIO): Promise<void> {
  const progress = commandProgress(cmd, io);
  const name = basename(cmd.model);
  try {
    const model = await openModelFile(cmd.model, {
      dataDir: cmd.dataDir,
      onProgress: (p) => p.phase === 'read' && stepOf(progress, name, 'read')(p),
    });
    let float: Model | undefined;
    if (cmd.float !== undefined) {
      try {
        float = await openModelFile(cmd.float, {
          onProgress: (p) => p.phase === 'read' && stepOf(progress, basename(cmd.float!), 'read')(p),
        });
      } catch (error) {
        if (!(error instanceof WeightlensError)) throw error;
        throw new WeightlensError(error.code, `--float: ${error.message}`, {
          ...(error.file ? { file: error.file } : {}),
          ...(error.tensor ? { tensor: error.tensor } : {}),
          cause: error,
        });
      }
    }
    const report = await auditModel(model, {
      ...(float ? { float } : {}),
      onProgress: stepOf(progress, name, 'audit'),
    });
    progress.done();
    await printReport(io, cmd.json, report, () => formatAuditSummary(report, { wide: cmd.wide }));
  } finally {
    progress.done();
  }
}

async function runFactorize(cmd: FactorizeCommand, io: CliIO): Promise<void> {
  const progress = commandProgress(cmd, io);
  const name = basename(cmd.model);
  try {
    const dataDir = cmd.dataDir ?? dirname(cmd.model);
    const model = await openModelFile(cmd.model, {
      dataDir,
      onProgress: (p) => p.phase === 'read' && stepOf(progress, name, 'read')(p),
    });
    progress.update('factorize', { fraction: 0, text: `${name}: factorizing ${cmd.layer}` });
    const outcome = await factorizeLayer(model, {
      layer: cmd.layer,
      rank: cmd.rank,
      method: cmd.spatial ? 'spatial' : 'weight',
      dataFileName: `${basename(cmd.output).replace(/\.onnx$/i, '')}.data`,
      relocateExternal: resolve(dirname(cmd.output)) !== resolve(dataDir),
    });
    await writeModel(cmd.output, outcome, {
      input: cmd.model,
      model,
      dataDir,
      onProgress: stepOf(progress, name, 'write'),
    });
    const report = await verified(outcome.report, cmd, progress, cmd.model, cmd.output);
    progress.done();
    await printReport(io, cmd.json, report, () => formatFactorizeSummary(report, cmd.output));
  } finally {
    progress.done();
  }
}

async function runDiff(cmd: DiffCommand, io: CliIO): Promise<void> {
  const progress = commandProgress(cmd, io);
  try {
    const open = (path: string) =>
      openModelFile(path, { onProgress: (p) => p.phase === 'read' && stepOf(progress, basename(path), 'read')(p) });
    const [before, after] = [await open(cmd.model), await open(cmd.after)];
    const report = await diffModels(before, after, {
      onProgress: stepOf(progress, `${basename(cmd.model)} -> ${basename(cmd.after)}`, 'diff'),
    });
    progress.done();
    await printReport(io, cmd.json, report, () => formatDiffSummary(report, { wide: cmd.wide }));
  } finally {
    progress.done();
  }
}

async function runReport(cmd: ReportCommand, io: CliIO): Promise<void> {
  const progress = commandProgress(cmd, io);
  const name = basename(cmd.model);
  // CLE's new weights wait beside the report; only "after" statistics are read from them.
  const spill = fileSpill(cmd.output);
  try {
    const dataDir = cmd.dataDir ?? dirname(cmd.model);
    const model = await openModelFile(cmd.model, { dataDir });
    await refuseInputTargets([cmd.output], inputFilesOf(model, cmd.model, dataDir));
    const stats = await computeStats(model, {
      quant: true,
      onProgress: stepOf(progress, name, 'stats'),
    });
    let cle = null;
    try {
      cle = (
        await equalizeModel(model, {
          spill: spill.spill,
          before: stats,
          externalData: directorySource(dataDir),
          onProgress: stepOf(progress, name, 'cle'),
        })
      ).report;
    } catch (error) {
      // A quantized model has no CLE section; the report says why on stderr.
      if (!(error instanceof WeightlensError && error.code === 'USAGE')) throw error;
      io.stderr.write(`weightlens: no CLE section: ${error.message}\n`);
    }
    await writeReportHtml(cmd.output, stats, cle);
    progress.done();
    io.stdout.write(
      `${cmd.output}: report of ${plural(stats.layers.length, 'layer')}${cle ? ', with CLE before/after' : ''}\n`,
    );
  } finally {
    progress.done();
    await spill.remove();
  }
}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  let debug = argv.includes('--debug');
  let file: string | undefined;
  try {
    const cmd = parseCommandLine(argv);
    if (cmd.command === 'help') io.stdout.write(USAGE + '\n');
    else if (cmd.command === 'version') io.stdout.write(VERSION + '\n');
    else {
      debug = cmd.debug;
      file = basename(cmd.model);
      await (cmd.command === 'cle'
        ? runCle(cmd, io)
        : cmd.command === 'report'
          ? runReport(cmd, io)
          : cmd.command === 'quantize'
            ? runQuantize(cmd, io)
            : cmd.command === 'audit'
              ? runAudit(cmd, io)
              : cmd.command === 'diff'
                ? runDiff(cmd, io)
                : cmd.command === 'factorize'
                  ? runFactorize(cmd, io)
                  : runStats(cmd, io));
    }
    return 0;
  } catch (error) {
    const typed = asWeightlensError(error, file);
    io.stderr.write(`weightlens: ${typed.message} [${typed.code}]\n`);
    if (typed.code !== 'INTERNAL') {
      if (debug) io.stderr.write(`${typed.stack}\n`);
      return 2;
    }
    io.stderr.write(
      debug ? `${(error as Error)?.stack}\n` : 'run again with --debug for the stack trace, and please report it\n',
    );
    return 1;
  }
}
