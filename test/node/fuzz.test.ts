// Node-only: a bounded mutation fuzzer. Each iteration takes a corpus file or a real trained model, applies
// 1-2 mutations (test/fuzz/mutations.ts) and runs openModel, computeStats and equalizeModel in this process.
// Every error must be a WeightlensError with a code other than INTERNAL, and CLE must not write a non-finite
// weight into a model whose weights were finite. Iteration i of seed s is reproducible on its own:
//   WEIGHTLENS_FUZZ_REPLAY=s:i node --test build/test-node/test/node/fuzz.test.js
// runs just that case and writes the mutated file to the temp folder. WEIGHTLENS_FUZZ_SEED and
// WEIGHTLENS_FUZZ_ITERATIONS change the run.
import { describe, it, before } from 'node:test';
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { WeightlensError } from '../../src/errors.js';
import { Kernels } from '../../src/kernels/kernels.js';
import type { Model } from '../../src/onnx/model.js';
import { openModel } from '../../src/onnx/open.js';
import { equalizeModel } from '../../src/pipeline/equalize-model.js';
import { computeStats } from '../../src/pipeline/compute-stats.js';
import { CORPUS } from '../corpus/entries.js';
import { corpusBytes } from '../corpus/generate.js';
import { nonFiniteTensors } from '../corpus/finite-weights.js';
import { MUTATIONS, mutate, type MutationKind } from '../fuzz/mutations.js';
import { ROOT, realModel } from '../support/node-paths.js';
import { seededRandom } from '../support/random.js';

const SEED = Number(process.env.WEIGHTLENS_FUZZ_SEED ?? 20261203);
const ITERATIONS = Number(process.env.WEIGHTLENS_FUZZ_ITERATIONS ?? 10000);
const REPLAY = process.env.WEIGHTLENS_FUZZ_REPLAY;
/**
 * Where an iteration starts: mostly from files that open (mutations near valid models reach the analysis),
 * some from the real models (slower: up to 11 MB each), the rest from the corpus' broken files.
 */
const SHARES = { real: 0.15, broken: 0.15 };

const REAL_MODELS = [
  realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'),
  realModel('ch_PP-OCRv4_det_infer.onnx'),
  realModel('ch_PP-OCRv4_rec_infer.onnx'),
  ...['legacy', 'v5', 'v6'].map((v) => join(ROOT, `node_modules/@ricky0123/vad-web/dist/silero_vad_${v}.onnx`)),
];

interface Input {
  name: string;
  bytes: Uint8Array;
}

interface Inputs {
  /** Corpus files that open (their expected outcome is a result). */
  opening: Input[];
  broken: Input[];
  real: Input[];
}

interface FuzzCase {
  input: string;
  mutations: MutationKind[];
  bytes: Uint8Array;
}

/** Iteration `iteration` of `seed`: its own random stream, so it replays without the ones before it. */
function fuzzCase(seed: number, iteration: number, inputs: Inputs): FuzzCase {
  const random = seededRandom(Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(iteration + 1, 0x85ebca6b));
  const roll = random();
  const from = roll < SHARES.real ? inputs.real : roll < SHARES.real + SHARES.broken ? inputs.broken : inputs.opening;
  const input = from[Math.floor(random() * from.length)]!;
  const mutations = Array.from(
    { length: 1 + Math.floor(random() * 2) },
    () => MUTATIONS[Math.floor(random() * MUTATIONS.length)]!,
  );
  let bytes = input.bytes;
  for (const kind of mutations) bytes = mutate(bytes, kind, random);
  return { input: input.name, mutations, bytes };
}

/** Why an error is a failure, or undefined for a typed one. */
function untyped(error: unknown): string | undefined {
  if (!(error instanceof WeightlensError))
    return `untyped ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  if (error.code === 'INTERNAL') return `INTERNAL: ${error.message}`;
  return undefined;
}

/** Runs one case through the library: what went wrong (undefined if nothing), and whether it opened. */
async function runCase(c: FuzzCase, kernels: Kernels): Promise<{ why?: string; opened: boolean }> {
  const fileName = `fuzz-${c.input}`;
  let model;
  try {
    model = await openModel(c.bytes, { fileName });
  } catch (e) {
    const why = untyped(e);
    return why ? { why, opened: false } : { opened: false };
  }
  const why = await analyse(model, kernels);
  return why ? { why, opened: true } : { opened: true };
}

/** stats and CLE on an opened model; what went wrong, or undefined. */
async function analyse(model: Model, kernels: Kernels): Promise<string | undefined> {
  try {
    await computeStats(model, { quant: true, kernels });
  } catch (e) {
    const why = untyped(e);
    if (why) return `stats: ${why}`;
  }
  try {
    const outcome = await equalizeModel(model, { kernels });
    if ((await nonFiniteTensors(model)).length === 0) {
      const written = await nonFiniteTensors(await openModel(outcome.bytes, { fileName: 'cle-output.onnx' }));
      if (written.length) return `cle wrote non-finite weights from finite inputs: ${written.slice(0, 5).join(', ')}`;
    }
  } catch (e) {
    const why = untyped(e);
    if (why) return `cle: ${why}`;
  }
  return undefined;
}

describe('mutation fuzzer', () => {
  const inputs: Inputs = { opening: [], broken: [], real: [] };
  let kernels: Kernels;

  before(async () => {
    const opens = new Set(CORPUS.filter((e) => e.stats[0] === 'ok').map((e) => e.name));
    for (const input of corpusBytes()) (opens.has(input.name) ? inputs.opening : inputs.broken).push(input);
    inputs.real = REAL_MODELS.map((path) => ({ name: basename(path), bytes: new Uint8Array(readFileSync(path)) }));
    kernels = await Kernels.load();
  });

  if (REPLAY) {
    it(`replays ${REPLAY}`, async () => {
      const [seed, iteration] = REPLAY.split(':').map(Number);
      const c = fuzzCase(seed!, iteration!, inputs);
      const file = join(tmpdir(), `weightlens-fuzz-${seed}-${iteration}.onnx`);
      writeFileSync(file, c.bytes);
      process.stderr.write(`${c.input} + ${c.mutations.join(', ')} -> ${file}\n`);
      expect((await runCase(c, kernels)).why).to.equal(undefined);
    });
    return;
  }

  it(`${ITERATIONS} mutated files (seed ${SEED}): typed errors only, no non-finite weights written`, async () => {
    const failures: string[] = [];
    let opened = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const c = fuzzCase(SEED, i, inputs);
      const { why, opened: open } = await runCase(c, kernels);
      if (open) opened++;
      if (why) {
        const line = `seed ${SEED} iteration ${i} (${c.input} + ${c.mutations.join(', ')}): ${why}\n  replay: WEIGHTLENS_FUZZ_REPLAY=${SEED}:${i} node --test build/test-node/test/node/fuzz.test.js`;
        failures.push(line);
        process.stderr.write(`fuzz failure: ${line}\n`);
      }
    }
    expect(
      failures,
      `${failures.length} of ${ITERATIONS} failed (${opened} opened):\n${failures.slice(0, 20).join('\n')}`,
    ).to.deep.equal([]);
    // Mutations that break every file, or none, would test little: both kinds must be common.
    expect(opened / ITERATIONS, 'share of mutated files that still open').to.be.within(0.08, 0.95);
  });
});
