// Node-only: hostile files through the real `weightlens` command (stats, cle, report all apply the same rule:
// exit 2 and one line naming the file and the code), and a bug inside the CLI reported as INTERNAL, exit 1.
import { after, before, describe, it } from 'node:test';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { MAX_CHANNELS } from '../../src/kernels/kernels.js';
import { convModel, f32Tensor, modelBytes, nestedIfModel, node, rawTensor, valueInfo } from '../fixtures/onnx-bytes.js';
import { ROOT } from '../support/node-paths.js';

const BIN = join(ROOT, 'bin', 'weightlens.js');

/** Conv "conv" over an initializer "w" given as is. */
const convOver = (...initializer: ReturnType<typeof f32Tensor>[]) =>
  modelBytes({
    input: [valueInfo('x')],
    output: [valueInfo('y')],
    initializer,
    node: [node('Conv', ['x', 'w'], ['y'], 'conv')],
  });

const FILES: Record<string, { bytes: Uint8Array; code: string; says: string }> = {
  'deep.onnx': { bytes: nestedIfModel(40), code: 'BAD_GRAPH', says: 'nested 122 deep (40 levels of subgraphs)' },
  'hollow.onnx': {
    bytes: convOver({ name: 'w', dims: [2 ** 22, 0, 1, 1], dataType: 1 }),
    code: 'BAD_TENSOR',
    says: 'has 4194304 output channels but 0 elements',
  },
  'wide.onnx': {
    bytes: convOver(rawTensor('w', [MAX_CHANNELS + 1, 1, 1, 1], 1, new Uint8Array((MAX_CHANNELS + 1) * 4))),
    code: 'OUT_OF_MEMORY',
    says: `has ${MAX_CHANNELS + 1} output channels, more than the ${MAX_CHANNELS}`,
  },
  'dup.onnx': {
    bytes: convOver(f32Tensor('w', [1, 1, 1, 1], [1]), f32Tensor('w', [1, 1, 1, 1], [2])),
    code: 'BAD_GRAPH',
    says: 'declares "w" twice',
  },
  'two.onnx': {
    bytes: convOver({ ...f32Tensor('w', [1, 1, 1, 1], [1]), floatData: [2] }),
    code: 'BAD_TENSOR',
    says: 'in float_data and raw_data',
  },
};

describe('hostile files through the CLI: the same typed error from stats, cle and report', () => {
  let root = '';
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'weightlens-hostile-'));
    for (const [name, { bytes }] of Object.entries(FILES)) writeFileSync(join(root, name), bytes);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const [name, { code, says }] of Object.entries(FILES)) {
    it(`${name}: ${code}`, () => {
      for (const args of [['stats'], ['cle', '-o', join(root, 'out.onnx')], ['report', '-o', join(root, 'out.html')]]) {
        const [command, ...rest] = args;
        const r = spawnSync(process.execPath, [BIN, command!, join(root, name), ...rest], {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(r.status, `${command}: ${r.stderr}`).to.equal(2);
        expect(r.stderr, command)
          .to.contain(name)
          .and.contain(says)
          .and.match(new RegExp(`\\[${code}\\]\\n$`));
      }
    });
  }
});

describe('a bug inside the CLI', () => {
  it('is INTERNAL naming the file, exit 1, with the original error and a pointer to --debug', async () => {
    let stderr = '';
    const io = {
      stdout: {
        write: (): never => {
          throw new TypeError('stdout.write is broken');
        },
      },
      stderr: { write: (text: string) => (stderr += text) },
    };
    const root = mkdtempSync(join(tmpdir(), 'weightlens-internal-'));
    try {
      writeFileSync(join(root, 'conv.onnx'), convModel());
      expect(await main(['stats', join(root, 'conv.onnx')], io)).to.equal(1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    expect(stderr).to.equal(
      'weightlens: conv.onnx: internal error: TypeError: stdout.write is broken [INTERNAL]\n' +
        'run again with --debug for the stack trace, and please report it\n',
    );
  });
});
