// onnx.checker from Debian's python3-onnx (onnx 1.12), for Node-only tests of exported files.
import { execFileSync } from 'node:child_process';
import { PYTHON } from './node-paths.js';

/**
 * onnx.checker.check_model on a file; throws with Python's message. `byPath` hands the checker the path
 * itself (external data checked where it lies, never loaded: for models of any size); otherwise the loaded
 * model is checked, `fullCheck` adding shape inference.
 */
export function checkModel(path: string, { fullCheck = true, byPath = false } = {}): void {
  const model = byPath ? 'sys.argv[1]' : `onnx.load(sys.argv[1]), full_check=${fullCheck ? 'True' : 'False'}`;
  try {
    execFileSync(PYTHON, ['-c', `import onnx, sys; onnx.checker.check_model(${model})`, path], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    throw new Error(`onnx.checker rejected ${path}: ${(e as { stderr?: string }).stderr ?? e}`, { cause: e });
  }
}
