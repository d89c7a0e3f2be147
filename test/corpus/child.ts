// One corpus file through the library, in a process of its own so that a runaway allocation or a hang
// cannot take the test runner down with it: `node build/corpus/child.js MODEL OUT_DIR` runs stats, then cle
// written to OUT_DIR by writeModel, and prints one JSON line (ChildReport).
import { basename, dirname, join } from 'node:path';
import { WeightlensError } from '../../src/errors.js';
import { directorySource } from '../../src/node/external-data.js';
import { openModelFile } from '../../src/node/open-file.js';
import { writeModel } from '../../src/node/write-model.js';
import { equalizeModel } from '../../src/pipeline/equalize-model.js';
import { computeStats } from '../../src/pipeline/compute-stats.js';
import { nonFiniteTensorsIn } from './finite-weights.js';

/** 'ok', a WeightlensError code, or 'UNTYPED' (anything else thrown: always a failure). */
export interface RunOutcome {
  outcome: string;
  message?: string;
}

export interface ChildReport {
  stats?: RunOutcome;
  cle?: RunOutcome;
  /** Float constants with NaN/±Inf in the input and in the written output (absent when cle failed). */
  nonFiniteIn?: string[];
  nonFiniteOut?: string[];
}

async function outcomeOf(run: () => Promise<unknown>): Promise<RunOutcome> {
  try {
    await run();
    return { outcome: 'ok' };
  } catch (e) {
    if (e instanceof WeightlensError) return { outcome: e.code, message: e.message };
    return { outcome: 'UNTYPED', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

async function library(model: string, outDir: string): Promise<ChildReport> {
  const stats = await outcomeOf(async () => computeStats(await openModelFile(model), { quant: true }));
  let written: string | undefined;
  const cle = await outcomeOf(async () => {
    const opened = await openModelFile(model);
    const output = join(outDir, basename(model).replace(/\.onnx$/, '.cle.onnx'));
    const outcome = await equalizeModel(opened, {
      externalData: directorySource(dirname(model)),
      dataFileName: 'cle.data',
    });
    await writeModel(output, outcome, { input: model, model: opened });
    written = output;
  });
  if (!written) return { stats, cle };
  return { stats, cle, nonFiniteIn: await nonFiniteTensorsIn(model), nonFiniteOut: await nonFiniteTensorsIn(written) };
}

const [model, outDir] = process.argv.slice(2);
if (!model || !outDir) {
  process.stderr.write('usage: node build/corpus/child.js MODEL OUT_DIR\n');
  process.exit(2);
}
process.stdout.write(JSON.stringify(await library(model, outDir)) + '\n');
