// Command-line parsing for `weightlens`: one place that knows the commands and their options.
import { parseArgs } from 'node:util';
import { WeightlensError } from '../errors.js';

export const USAGE = `Usage: weightlens <command> [options]

Commands:
  stats MODEL.onnx     per-layer, per-output-channel weight statistics

Options for stats:
  --json               print the machine form (JSON) instead of a table
  --layer NAME         only this layer (node name, first output or weight name)
  --data DIR           folder holding external-data files (default: the model's folder)
  --progress           always show progress on stderr (default: only on a terminal)
  --quiet              never show progress
  --debug              print stack traces for errors

  -h, --help           this text
  -v, --version        the version`;

export interface StatsCommand {
  command: 'stats';
  model: string;
  json: boolean;
  layer?: string;
  dataDir?: string;
  progress: 'auto' | 'always' | 'never';
  debug: boolean;
}

export type Command = StatsCommand | { command: 'help' } | { command: 'version' };

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
        data: { type: 'string' },
        progress: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        debug: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (cause) {
    throw new WeightlensError('USAGE', `${(cause as Error).message} (see weightlens --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };
  const [command, ...rest] = positionals;
  if (command === undefined) throw new WeightlensError('USAGE', 'no command given (see weightlens --help)');
  if (command !== 'stats') throw new WeightlensError('USAGE', `unknown command "${command}" (see weightlens --help)`);
  if (rest.length !== 1) throw new WeightlensError('USAGE', `stats takes one model file, got ${rest.length} (see weightlens --help)`);
  if (values.progress && values.quiet) throw new WeightlensError('USAGE', '--progress and --quiet contradict each other');
  return {
    command, model: rest[0]!, json: values.json, layer: values.layer, dataDir: values.data,
    progress: values.progress ? 'always' : values.quiet ? 'never' : 'auto', debug: values.debug,
  };
}
