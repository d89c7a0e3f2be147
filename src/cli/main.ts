// `weightlens` command line: a thin front over the library. Exit codes: 0 done, 2 bad input or usage
// (one line on stderr, no stack unless --debug), 1 a bug in weightlens.
import { basename } from 'node:path';
import { WeightlensError } from '../errors.js';
import { openModelFile } from '../node/open-file.js';
import { computeStats } from '../report/stats-report.js';
import { parseCommandLine, USAGE, type StatsCommand } from './args.js';
import { progressLine } from './progress.js';
import { formatStatsTable } from './table.js';
import { VERSION } from '../version.js';

export interface CliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

async function runStats(cmd: StatsCommand, io: CliIO): Promise<void> {
  const progress = progressLine(io.stderr, cmd.progress === 'always' || (cmd.progress === 'auto' && io.stderr.isTTY === true));
  const name = basename(cmd.model);
  try {
    const model = await openModelFile(cmd.model, {
      dataDir: cmd.dataDir,
      onProgress: ({ phase, loaded, total }) => {
        if (phase === 'read' && total) progress.update('read', `reading ${name}: ${mb(loaded)} / ${mb(total)} MB`, loaded / total);
      },
    });
    const report = await computeStats(model, {
      layer: cmd.layer,
      onProgress: ({ done, total }) => progress.update('stats', `${name}: statistics ${done}/${total} layers`, total ? done / total : 1),
    });
    progress.done();
    io.stdout.write(cmd.json ? JSON.stringify(report, null, 2) + '\n' : formatStatsTable(report));
  } finally {
    progress.done();
  }
}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  let debug = argv.includes('--debug');
  try {
    const cmd = parseCommandLine(argv);
    if (cmd.command === 'help') io.stdout.write(USAGE + '\n');
    else if (cmd.command === 'version') io.stdout.write(VERSION + '\n');
    else {
      debug = cmd.debug;
      await runStats(cmd, io);
    }
    return 0;
  } catch (error) {
    if (error instanceof WeightlensError) {
      io.stderr.write(`weightlens: ${error.message} [${error.code}]\n`);
      if (debug) io.stderr.write(`${error.stack}\n`);
      return 2;
    }
    io.stderr.write(`weightlens: internal error: ${(error as Error)?.message ?? error}\n`);
    io.stderr.write(debug ? `${(error as Error)?.stack}\n` : 'run again with --debug for the stack trace, and please report it\n');
    return 1;
  }
}
