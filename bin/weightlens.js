#!/usr/bin/env node
// Entry point of the `weightlens` command; the code lives in dist/cli/main.js (built by `npm run build`).
import { setFlagsFromString } from 'node:v8';

// V8 lets the heap grow to up to 4x what was live at the last full collection before collecting again.
// A model of tens of thousands of tiny layers keeps ~150 MB live and would peak near 600 MB; growing by
// at most 1.5x keeps a run's memory close to what it uses (measured: same time on real models).
setFlagsFromString('--heap-growing-percent=50');

const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
