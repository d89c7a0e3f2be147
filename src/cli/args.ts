// Command-line parsing for `weightlens`: one place that knows the commands and their options.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { WeightlensError } from '../errors.js';
import { DEFAULT_COMPRESS_ERROR } from '../pipeline/compressibility.js';
import type { Budget } from '../quant/planner.js';
import type { VerifyOptions } from '../node/verify-quantized.js';

export const USAGE = `Usage: weightlens <command> [options]

Commands:
  stats MODEL.onnx              per-layer, per-output-channel weight statistics
  cle MODEL.onnx -o OUT.onnx    fold BatchNorms, equalize (Cross Layer Equalization), absorb high biases,
                                and write the equalized model
  quantize MODEL.onnx -o OUT.onnx
                                weight-only quantization: a QDQ model (integer weights, each read
                                through a DequantizeLinear), with each layer's stored-weight SQNR
  factorize MODEL.onnx --layer NAME --rank K -o OUT.onnx
                                one layer replaced by its rank-K factorization (Weight SVD: two layers;
                                --spatial: a 1×kw then a kh×1 Conv), to try a compression
  audit MODEL.onnx              audit an already-quantized model: saturation and grid levels of its
                                integer codes, bad scales, int32 bias headroom (and, with --float, the
                                error against the float model)
  diff BEFORE.onnx AFTER.onnx   compare two versions of a model weight by weight: layers matched by
                                weight name, node name or position; per layer the relative change,
                                SQNR of after against before, relative ranges, flipped and dead channels
  report MODEL.onnx -o OUT.html one self-contained HTML report (no network needed to view it): layers,
                                ranges, relative ranges, quantization error, CLE before/after

Options for stats:
  --json               print the machine form (JSON) instead of a table
  --format F           table (default), json, netron (a Netron attachment: open the model in Netron,
                       then this file), or model-explorer (Model Explorer node data)
  --layer NAME         only this layer (node name, first output or weight name)
  --no-quant           skip the SQNR (dB) of INT8/INT4-quantized weights (computed by default:
                       symmetric/asymmetric, per-tensor/per-channel/per-group; JSON: layers[].quant;
                       table: INT8 symmetric and INT4 symmetric per-group; the worst layers are
                       ranked by INT8 per-tensor); --quant is accepted
  --block LIST         block sizes of the per-group SQNR, along each layer's input axis (default
                       32,64,128; comma-separated positive integers)
  --wide               the whole table: full layer names and shapes, every outlier channel (default:
                       lines of at most 120 characters)
  --compress           compressibility instead of the statistics table: per layer the singular values
                       (Weight SVD [Cout, Cin·kh·kw], Spatial SVD [Cout·kh, Cin·kw]), rank for 99 %
                       energy, effective rank, and the parameter ratio Weight/Spatial SVD, magnitude
                       and channel pruning reach within --error; JSON: "compress"
  --error E            the relative weight error ‖W − Ŵ‖/‖W‖ for --compress (default 0.05; 5% works)

Options for cle:
  -o, --output FILE    where to write the equalized model (never the input itself)
  --json               print the machine form (JSON) of what was done instead of the summary
  --wide               full layer names and reasons (default: lines of at most 120 characters)
  --no-bias-absorption leave biases as they are after equalizing
  --relu6-to-relu      treat Clip(0, 6) as Relu so CLE can cross it: CHANGES what the float model
                       computes (activations above 6 are no longer clipped); never implied

Options for quantize (weight-only; activations stay float):
  -o, --output FILE    where to write the quantized model (never the input itself)
  --plan FILE          a plan (JSON): {"default": SCHEME or "float", "layers": {"NAME": SCHEME or
                       "float"}}, SCHEME = {"bits": 8|4, "symmetric": true|false, "granularity":
                       "tensor"|"channel"|"group", "block": N (group only), "method": M}; or, for
                       every layer:
  --bits B             8 (default) or 4
  --granularity G      tensor, channel (default) or group
  --block N            the block size of --granularity group (e.g. 32, 64, 128)
  --asymmetric         asymmetric (uint, with zero points) instead of symmetric (int)
  --method M           how scales are chosen: min-max (default), clip (clipping search: per channel or
                       block, the clip ratio of least error; never worse than min-max) or hqq (HQQ zero
                       points; asymmetric per-group only)
  --budget B           let the data-free planner choose per layer: the highest worst-layer SQNR within
                       B bits per weight (e.g. 4.5) or B of weights (e.g. 12MB); candidates INT8/INT4,
                       symmetric/asymmetric, per tensor/channel/group (--block LIST, default 32,64,128)
  --sqnr-floor D       or the smallest plan whose every layer keeps at least D dB
  --save-plan FILE     also write the plan used (JSON, as --plan reads it)
  --matmul-nbits       INT4 per-group MatMuls (block a power of 2, at least 16) as onnxruntime's
                       com.microsoft.MatMulNBits instead of DequantizeLinear
  --verify             run the float and the quantized model with onnxruntime-node (if installed) on
                       seeded synthetic inputs and print the output SQNR: a proxy, not accuracy
  --verify-runs N      input sets to run (default 4)
  --verify-size N      the size of each open input dimension but the batch (default 64)
  --bias-correction    analytic bias correction: each Conv/Gemm's bias is shifted by the expected
                       output error of its quantized weight, E[x] from the BatchNorm before it or
                       propagated from the model input (docs/definitions.md, "Bias correction")
  --json               print the machine form (JSON) of what was done instead of the summary

Options for diff:
  --json               print the machine form (JSON) instead of a table
  --wide               full layer names (default: lines of at most 120 characters)

Options for factorize:
  --layer NAME         the layer (node name, first output or weight name)
  --rank K             the rank kept (1 to the matrix's smaller side; stats --compress shows the curve)
  --spatial            Spatial SVD ([Cout·kh, Cin·kw]; Conv with a kernel larger than 1×1) instead of
                       Weight SVD ([Cout, Cin·kh·kw])
  -o, --output FILE    where to write the model (never the input itself)
  --verify             run both models with onnxruntime-node (if installed) on synthetic inputs and print
                       the output SQNR (--verify-runs, --verify-size as for quantize)
  --json               print the machine form (JSON) instead of the summary

Options for audit:
  --float FILE         the float model the quantized one was made from: per-layer and per-channel
                       SQNR and the share of float weights outside the representable range
  --json               print the machine form (JSON) instead of a table
  --wide               full layer names (default: lines of at most 120 characters)

Common options:
  --data DIR           folder holding external-data files (default: the model's folder)
  --progress           always show progress on stderr (default: only on a terminal)
  --quiet              never show progress
  --debug              print stack traces for errors

  -h, --help           this text
  -v, --version        the version`;

interface CommonOptions {
  model: string;
  json: boolean;
  dataDir?: string;
  progress: 'auto' | 'always' | 'never';
  debug: boolean;
}

export type StatsFormat = 'table' | 'json' | 'netron' | 'model-explorer';

export interface StatsCommand extends CommonOptions {
  command: 'stats';
  layer?: string;
  quant: boolean;
  /** Block sizes of the per-group figures; undefined: the default (DEFAULT_BLOCKS). */
  blocks?: number[];
  format: StatsFormat;
  wide: boolean;
  /** --compress [--error E]: compressibility within relative weight error E, in place of the statistics table. */
  compress?: { error: number };
}

export interface CleCommand extends CommonOptions {
  command: 'cle';
  output: string;
  biasAbsorption: boolean;
  relu6ToRelu: boolean;
  wide: boolean;
}

export interface ReportCommand extends CommonOptions {
  command: 'report';
  output: string;
}

export interface QuantizeCommand extends CommonOptions {
  command: 'quantize';
  output: string;
  /** The plan file, the one scheme of every layer (checked when the command runs), or the planner's budget. */
  plan: { file: string } | { scheme: Record<string, unknown> } | { budget: Budget; blocks?: number[] };
  /** Where to write the plan used, as JSON (e.g. the planner's, to edit and pass to --plan). */
  savePlan?: string;
  /** --verify [--verify-runs N] [--verify-size N]: the output SQNR of the written model under onnxruntime. */
  verify?: VerifyOptions;
  /** --matmul-nbits */
  matMulNBits?: boolean;
  /** --bias-correction */
  biasCorrection?: boolean;
}

export interface AuditCommand extends CommonOptions {
  command: 'audit';
  /** The float model to compare with. */
  float?: string;
  wide: boolean;
}

export interface DiffCommand extends CommonOptions {
  command: 'diff';
  /** The model after (`model` is the one before). */
  after: string;
  wide: boolean;
}

export interface FactorizeCommand extends CommonOptions {
  command: 'factorize';
  output: string;
  layer: string;
  rank: number;
  spatial: boolean;
  verify?: VerifyOptions;
}

export type Command =
  | FactorizeCommand
  | DiffCommand
  | StatsCommand
  | CleCommand
  | ReportCommand
  | QuantizeCommand
  | AuditCommand
  | { command: 'help' }
  | { command: 'version' };

const usage = (message: string) => new WeightlensError('USAGE', `${message} (see weightlens --help)`);

/** `--block 32,64,128`: distinct positive integers (a block fits a wasm32 index: below 2^31). */
function blockSizes(list: string): number[] {
  const sizes = list.split(',').map((item) => {
    const size = /^\s*\d+\s*$/.test(item) ? Number(item) : NaN;
    if (!(size >= 1 && size < 2 ** 31))
      throw usage(`--block takes block sizes (positive integers, comma-separated), not "${item.trim()}" in "${list}"`);
    return size;
  });
  const twice = sizes.find((size, i) => sizes.indexOf(size) !== i);
  if (twice !== undefined) throw usage(`--block lists ${twice} twice`);
  return sizes;
}

/** --verify-runs (1–1000 input sets) and --verify-size (1–4096, each open dimension but the batch). */
function verifyOptions(values: Record<string, string | boolean | undefined>): VerifyOptions {
  const within = (flag: string, max: number) => {
    const text = values[flag];
    if (text === undefined) return undefined;
    const n = typeof text === 'string' && /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
    if (!(n >= 1 && n <= max)) throw usage(`--${flag} takes an integer from 1 to ${max}, not "${String(text)}"`);
    return n;
  };
  const [runs, openDimension] = [within('verify-runs', 1000), within('verify-size', 4096)];
  return { ...(runs ? { runs } : {}), ...(openDimension ? { openDimension } : {}) };
}

const COMMANDS = ['stats', 'cle', 'report', 'quantize', 'audit', 'diff', 'factorize'] as const;
const isCommand = (name: string): name is (typeof COMMANDS)[number] => (COMMANDS as readonly string[]).includes(name);

export function parseCommandLine(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        layer: { type: 'string' },
        // The SQNR is computed by default now; --quant stays accepted so existing scripts keep working.
        quant: { type: 'boolean', default: false },
        'no-quant': { type: 'boolean', default: false },
        compress: { type: 'boolean', default: false },
        rank: { type: 'string' },
        spatial: { type: 'boolean', default: false },
        error: { type: 'string' },
        block: { type: 'string' },
        wide: { type: 'boolean', default: false },
        format: { type: 'string' },
        data: { type: 'string' },
        output: { type: 'string', short: 'o' },
        'no-bias-absorption': { type: 'boolean', default: false },
        'relu6-to-relu': { type: 'boolean', default: false },
        plan: { type: 'string' },
        bits: { type: 'string' },
        granularity: { type: 'string' },
        asymmetric: { type: 'boolean', default: false },
        method: { type: 'string' },
        budget: { type: 'string' },
        'sqnr-floor': { type: 'string' },
        'save-plan': { type: 'string' },
        verify: { type: 'boolean', default: false },
        'verify-runs': { type: 'string' },
        'verify-size': { type: 'string' },
        'matmul-nbits': { type: 'boolean', default: false },
        'bias-correction': { type: 'boolean', default: false },
        float: { type: 'string' },
        progress: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        debug: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (cause) {
    throw usage((cause as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };
  const [command, ...rest] = positionals;
  if (command === undefined) throw usage('no command given');
  if (!isCommand(command)) throw usage(`unknown command "${command}"`);
  if (command === 'diff' && rest.length !== 2)
    throw usage(`diff takes two model files (before and after), got ${rest.length}`);
  if (command !== 'diff' && rest.length !== 1) throw usage(`${command} takes one model file, got ${rest.length}`);
  if (values.progress && values.quiet) throw usage('--progress and --quiet contradict each other');
  const common: CommonOptions = {
    model: rest[0]!,
    json: values.json,
    dataDir: values.data,
    progress: values.progress ? 'always' : values.quiet ? 'never' : 'auto',
    debug: values.debug,
  };
  const onlyFor = (option: string, owner: string) => {
    throw usage(`${option} is an option of "${owner}", not of "${command}"`);
  };
  const schemeFlags = (
    [
      'plan',
      'bits',
      'granularity',
      'asymmetric',
      'method',
      'budget',
      'sqnr-floor',
      'save-plan',
      'verify',
      'verify-runs',
      'verify-size',
      'matmul-nbits',
    ] as const
  ).filter((k) => values[k] && !(command === 'factorize' && k.startsWith('verify')));
  if (command !== 'quantize' && schemeFlags.length > 0) onlyFor(`--${schemeFlags[0]}`, 'quantize');
  if (command === 'factorize') return factorizeCommand(common, values);
  if (values.rank !== undefined || values.spatial) onlyFor(values.spatial ? '--spatial' : '--rank', 'factorize');
  if (command !== 'quantize' && values['bias-correction']) onlyFor('--bias-correction', 'quantize');
  if (command === 'quantize')
    return { ...quantizeCommand(common, values), ...(values['bias-correction'] ? { biasCorrection: true } : {}) };
  if (command === 'audit') return auditCommand(common, values);
  if (command === 'diff') return diffCommand(common, rest[1]!, values);
  if (values.float !== undefined) onlyFor('--float', 'audit');
  if (command === 'stats') {
    if (values.output !== undefined) onlyFor('--output', 'cle');
    if (values['no-bias-absorption']) onlyFor('--no-bias-absorption', 'cle');
    if (values['relu6-to-relu']) onlyFor('--relu6-to-relu', 'cle');
    const format = (values.format ?? (values.json ? 'json' : 'table')) as StatsFormat;
    if (!['table', 'json', 'netron', 'model-explorer'].includes(format))
      throw usage(`--format must be table, json, netron or model-explorer, not "${format}"`);
    if (values.json && format !== 'json') throw usage(`--json and --format ${format} contradict each other`);
    if (values.quant && values['no-quant']) throw usage('--quant and --no-quant contradict each other');
    if (values.block !== undefined && values['no-quant']) throw usage('--block and --no-quant contradict each other');
    const blocks = values.block === undefined ? {} : { blocks: blockSizes(values.block) };
    if (values.error !== undefined && !values.compress) throw usage('--error needs --compress');
    if (values.compress && (format === 'netron' || format === 'model-explorer'))
      throw usage(`--compress and --format ${format} contradict each other`);
    const error =
      values.error === undefined
        ? DEFAULT_COMPRESS_ERROR
        : Number(values.error.replace(/%$/, '')) / (values.error.endsWith('%') ? 100 : 1);
    if (!(error > 0 && error < 1))
      throw usage(`--error takes a relative weight error between 0 and 1 (e.g. 0.05 or 5%), not "${values.error}"`);
    return {
      command,
      ...common,
      layer: values.layer,
      quant: !values['no-quant'],
      ...blocks,
      format,
      wide: values.wide,
      ...(values.compress ? { compress: { error } } : {}),
    };
  }
  if (values.compress) onlyFor('--compress', 'stats');
  if (values.error !== undefined) onlyFor('--error', 'stats --compress');
  if (values.layer !== undefined) onlyFor('--layer', 'stats');
  if (values.block !== undefined) onlyFor('--block', 'stats and quantize');
  if (values.quant || values['no-quant'])
    onlyFor(values.quant ? '--quant' : '--no-quant', 'stats (cle --json and report always compute it)');
  if (command === 'report') {
    if (!values.output) throw usage('report needs -o OUT.html, the file to write');
    if (values.wide) onlyFor('--wide', 'stats and cle');
    return { command, ...common, output: values.output };
  }
  if (values.format !== undefined) onlyFor('--format', 'stats');
  if (!values.output) throw usage('cle needs -o OUT.onnx, the file to write the equalized model to');
  return {
    command,
    ...common,
    output: values.output,
    biasAbsorption: !values['no-bias-absorption'],
    relu6ToRelu: values['relu6-to-relu'],
    wide: values.wide,
  };
}

/** Throws USAGE for the first of `options` given (a flag another command owns); `why` adds a reason. */
function refuse(
  command: string,
  values: Record<string, string | boolean | undefined>,
  options: readonly string[],
  why: Readonly<Record<string, string>> = {},
): void {
  const given = options.find((o) => values[o] !== undefined && values[o] !== false);
  if (given) throw usage(`--${given} is not an option of "${command}"${why[given] ? `: ${why[given]}` : ''}`);
}

/** `--verify-runs` and `--verify-size` only with `--verify`. */
function verifyNeeded(values: Record<string, string | boolean | undefined>): void {
  for (const option of ['verify-runs', 'verify-size'])
    if (values[option] !== undefined && !values.verify) throw usage(`--${option} needs --verify`);
}

function quantizeCommand(common: CommonOptions, values: Record<string, string | boolean | undefined>): QuantizeCommand {
  refuse('quantize', values, ['layer', 'format', 'quant', 'no-quant', 'no-bias-absorption', 'relu6-to-relu', 'wide']);
  if (typeof values.output !== 'string')
    throw usage('quantize needs -o OUT.onnx, the file to write the quantized model to');
  verifyNeeded(values);
  const { plan, bits, granularity, block, asymmetric, method, budget } = values;
  const floor = values['sqnr-floor'];
  const savePlan = typeof values['save-plan'] === 'string' ? { savePlan: values['save-plan'] } : {};
  if (savePlan.savePlan !== undefined && resolve(savePlan.savePlan) === resolve(values.output))
    throw usage(`--save-plan ${savePlan.savePlan} is the output model itself; give the plan its own file`);
  const base = {
    command: 'quantize' as const,
    ...common,
    output: values.output,
    ...savePlan,
    ...(values.verify ? { verify: verifyOptions(values) } : {}),
    ...(values['matmul-nbits'] ? { matMulNBits: true } : {}),
  };
  const sources = [
    plan !== undefined && '--plan',
    budget !== undefined && '--budget',
    floor !== undefined && '--sqnr-floor',
  ];
  const given = sources.filter((x): x is string => typeof x === 'string');
  if (given.length > 1) throw usage(`${given[0]} and ${given[1]} contradict each other`);
  const also = ['bits', 'granularity', 'block', 'asymmetric', 'method'].find(
    (k) => values[k] !== undefined && values[k] !== false,
  );
  if (given.length === 1 && also && !(also === 'block' && plan === undefined))
    throw usage(
      `${given[0]} and --${also} contradict each other (${given[0] === '--plan' ? 'the plan names every scheme' : 'the planner chooses the schemes'})`,
    );
  if (typeof plan === 'string') return { ...base, plan: { file: plan } };
  const number = (flag: string, text: string | boolean | undefined) => {
    if (text === undefined) return undefined;
    if (typeof text !== 'string' || !/^\d+$/.test(text))
      throw usage(`--${flag} takes a positive integer, not "${String(text)}"`);
    return Number(text);
  };
  if (typeof budget === 'string' || typeof floor === 'string') {
    const blocks = typeof block === 'string' ? { blocks: blockSizes(block) } : {};
    return {
      ...base,
      plan: { budget: typeof budget === 'string' ? budgetOf(budget) : sqnrFloorOf(floor as string), ...blocks },
    };
  }
  const scheme = {
    bits: number('bits', bits) ?? 8,
    symmetric: !asymmetric,
    granularity: granularity ?? (block !== undefined ? 'group' : 'channel'),
    ...(block !== undefined ? { block: number('block', block) } : {}),
    ...(method !== undefined ? { method } : {}),
  };
  return { ...base, plan: { scheme } };
}

/** `--budget 4.5` (bits per weight, over the layers planned) or `--budget 12MB` / `800KB` (the weights' size). */
function budgetOf(text: string): Budget {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(MB|KB)?\s*$/i.exec(text);
  const value = m ? Number(m[1]) : NaN;
  if (!m || !(value > 0)) throw usage(`--budget takes bits per weight (e.g. 4.5) or a size (e.g. 12MB), not "${text}"`);
  if (m[2]) return { bytes: value * (m[2].toUpperCase() === 'MB' ? 1e6 : 1e3) };
  if (value > 32) throw usage(`--budget ${text}: bits per weight above 32 are more than float32 takes`);
  return { bitsPerWeight: value };
}

function sqnrFloorOf(text: string): Budget {
  const value = /^\s*-?\d+(?:\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value)) throw usage(`--sqnr-floor takes a number of dB (e.g. 30), not "${text}"`);
  return { sqnrFloor: value };
}

function auditCommand(common: CommonOptions, values: Record<string, string | boolean | undefined>): AuditCommand {
  refuse('audit', values, [
    'output',
    'layer',
    'format',
    'quant',
    'no-quant',
    'block',
    'no-bias-absorption',
    'relu6-to-relu',
  ]);
  const { float } = values;
  if (float === '') throw usage('--float needs the float model file');
  return {
    command: 'audit',
    ...common,
    ...(typeof float === 'string' ? { float } : {}),
    wide: values.wide === true,
  };
}

function diffCommand(
  common: CommonOptions,
  after: string,
  values: Record<string, string | boolean | undefined>,
): DiffCommand {
  refuse(
    'diff',
    values,
    ['output', 'layer', 'format', 'quant', 'no-quant', 'block', 'float', 'data', 'no-bias-absorption', 'relu6-to-relu'],
    { data: 'each model reads its external data from beside it' },
  );
  return { command: 'diff', ...common, after, wide: values.wide === true };
}

function factorizeCommand(
  common: CommonOptions,
  values: Record<string, string | boolean | undefined>,
): FactorizeCommand {
  refuse('factorize', values, [
    'format',
    'quant',
    'no-quant',
    'block',
    'float',
    'compress',
    'error',
    'no-bias-absorption',
    'relu6-to-relu',
    'wide',
  ]);
  const { output, layer, rank } = values;
  if (typeof output !== 'string') throw usage('factorize needs -o OUT.onnx, the file to write the model to');
  if (typeof layer !== 'string' || layer === '') throw usage('factorize needs --layer NAME, the layer to factorize');
  const k = typeof rank === 'string' && /^\s*\d+\s*$/.test(rank) ? Number(rank) : NaN;
  if (!(k >= 1 && Number.isSafeInteger(k))) throw usage(`--rank takes a positive integer, not "${String(rank)}"`);
  verifyNeeded(values);
  return {
    command: 'factorize',
    ...common,
    output,
    layer,
    rank: k,
    spatial: values.spatial === true,
    ...(values.verify ? { verify: verifyOptions(values) } : {}),
  };
}
