// Node-only: nothing is ever written over the input model or its external-data files, whatever name the
// output is given — a symlinked folder, a symlink to the file, a hard link, `..`, a name differing only in
// case — by `weightlens cle`, `weightlens report` and the Node API's writeModel. Each refusal comes before
// the first byte is written: the whole folder tree is compared before and after.
import { after, before, describe, it } from 'node:test';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelFile, writeModel } from '../../src/node/index.js';
import { equalizeModel } from '../../src/pipeline/equalize-model.js';
import { externalTensor, f32Bytes, modelBytes, node, valueInfo } from '../fixtures/onnx-bytes.js';
import { rejects } from '../support/rejects.js';
import { ROOT } from '../support/node-paths.js';

const BIN = join(ROOT, 'bin', 'weightlens.js');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args, '--quiet'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

/** Every entry under `dir`: file contents hashed, symlinks by target, so any write or new file shows. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, entry);
    const info = lstatSync(path);
    out[entry] = info.isSymbolicLink()
      ? `-> ${readlinkSync(path)}`
      : info.isFile()
        ? createHash('sha1').update(readFileSync(path)).digest('hex')
        : 'folder';
  }
  return out;
}

/**
 * `in/m.onnx`: Conv -> Conv with both weights in `in/w.bin` (CLE rewrites them into a new data file) and an
 * initializer no node uses at `spare` (kept as it is, so the output needs that file too).
 */
function writeInput(root: string, spare = 'w.bin'): { model: string; data: string } {
  mkdirSync(join(root, 'in'), { recursive: true });
  const data = join(root, 'in', 'w.bin');
  writeFileSync(data, f32Bytes([1, 8, 1, 2, 3, 4, 0.5, -0.5]));
  const model = join(root, 'in', 'm.onnx');
  writeFileSync(
    model,
    modelBytes({
      input: [valueInfo('x')],
      output: [valueInfo('y')],
      initializer: [
        externalTensor('w0', [2, 1, 1, 1], 'w.bin', 0, 8),
        externalTensor('w1', [2, 2, 1, 1], 'w.bin', 8, 16),
        externalTensor('spare', [2], spare, 24, 8),
      ],
      node: [node('Conv', ['x', 'w0'], ['h'], 'c0'), node('Conv', ['h', 'w1'], ['y'], 'c1')],
    }),
  );
  return { model, data };
}

function expectRefused(r: ReturnType<typeof cli>, ...mentions: string[]): void {
  expect(r.status, r.stderr).to.equal(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).to.have.length(1);
  expect(lines[0]).to.match(/\[USAGE\]$/);
  for (const m of mentions) expect(lines[0]).to.contain(m);
}

describe('never writing over the input', () => {
  let root = '';
  let n = 0;
  /** A fresh folder with the input; `arrange` adds the links a case needs. */
  const scene = (arrange: (dir: string, input: { model: string; data: string }) => void = () => {}) => {
    const dir = join(root, `case${n++}`);
    const input = writeInput(dir);
    arrange(dir, input);
    return { dir, ...input, before: snapshot(dir) };
  };

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'weightlens-no-overwrite-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('the fixture: cle equalizes both external weights into <output>.data and copies the unused tensor into it, not w.bin', () => {
    const s = scene();
    const r = cli('cle', s.model, '-o', join(s.dir, 'out', 'e.onnx'));
    expect(r.status, r.stderr).to.equal(0);
    expect(readdirSync(join(s.dir, 'out')).sort()).to.deep.equal(['e.data', 'e.onnx']);
    const now = snapshot(s.dir);
    for (const file of ['in/m.onnx', 'in/w.bin']) expect(now[file], file).to.equal(s.before[file]);
  });

  const outputs: [string, (dir: string) => void, string][] = [
    ['a folder symlinked to the input folder', (dir) => symlinkSync(join(dir, 'in'), join(dir, 'link')), 'link/m.onnx'],
    ['a symlink to the model', (dir) => symlinkSync(join(dir, 'in', 'm.onnx'), join(dir, 'alias.onnx')), 'alias.onnx'],
    ['a relative symlink to the model', (dir) => symlinkSync('in/m.onnx', join(dir, 'rel.onnx')), 'rel.onnx'],
    ['a hard link to the model', (dir) => linkSync(join(dir, 'in', 'm.onnx'), join(dir, 'hard.onnx')), 'hard.onnx'],
    [
      'a name differing only in case (a hard link here; the same file on a case-insensitive file system)',
      (dir) => linkSync(join(dir, 'in', 'm.onnx'), join(dir, 'in', 'M.onnx')),
      'in/M.onnx',
    ],
    ['a path through ..', (dir) => mkdirSync(join(dir, 'in', 'sub')), 'in/sub/../m.onnx'],
    ['the model itself', () => {}, 'in/m.onnx'],
  ];

  for (const [what, arrange, output] of outputs) {
    it(`cle refuses an output that is the input model through ${what}`, () => {
      const s = scene(arrange);
      expectRefused(cli('cle', s.model, '-o', join(s.dir, output)), 'is the input model');
      expect(snapshot(s.dir)).to.deep.equal(s.before);
    });

    it(`report refuses an output that is the input model through ${what}`, () => {
      const s = scene(arrange);
      expectRefused(cli('report', s.model, '-o', join(s.dir, output)), 'is the input model');
      expect(snapshot(s.dir)).to.deep.equal(s.before);
    });
  }

  it("cle and report refuse the input's external-data file as the output (directly and through a hard link)", () => {
    const s = scene((dir) => linkSync(join(dir, 'in', 'w.bin'), join(dir, 'w-link.onnx')));
    for (const output of ['in/w.bin', 'w-link.onnx']) {
      expectRefused(cli('cle', s.model, '-o', join(s.dir, output)), 'external-data file "w.bin"');
      expectRefused(cli('report', s.model, '-o', join(s.dir, output)), 'external-data file "w.bin"');
    }
    expect(snapshot(s.dir)).to.deep.equal(s.before);
  });

  it('cle refuses when its new data file <output>.data is an input data file under another name', () => {
    const aliases: [string, (dir: string) => void][] = [
      ['hard link', (dir) => linkSync(join(dir, 'in', 'w.bin'), join(dir, 'out', 'e.data'))],
      ['symlink', (dir) => symlinkSync(join(dir, 'in', 'w.bin'), join(dir, 'out', 'e.data'))],
    ];
    for (const [what, alias] of aliases) {
      const s = scene((dir) => {
        mkdirSync(join(dir, 'out'));
        alias(dir);
      });
      expectRefused(
        cli('cle', s.model, '-o', join(s.dir, 'out', 'e.onnx')),
        'e.data: is the input\'s external-data file "w.bin"',
      );
      expect(snapshot(s.dir), what).to.deep.equal(s.before);
    }
  });

  it('a new name in a symlinked copy of the input folder is allowed: the kept data file is the same file, not copied', () => {
    const s = scene((dir) => symlinkSync(join(dir, 'in'), join(dir, 'link')));
    const r = cli('cle', s.model, '-o', join(s.dir, 'link', 'e.onnx'));
    expect(r.status, r.stderr).to.equal(0);
    expect(readdirSync(join(s.dir, 'in')).sort()).to.deep.equal(['e.data', 'e.onnx', 'm.onnx', 'w.bin']);
    const now = snapshot(s.dir);
    for (const file of ['in/m.onnx', 'in/w.bin']) expect(now[file], file).to.equal(s.before[file]);
  });

  it('writeModel (Node API) refuses the same aliases with USAGE, before writing anything', async () => {
    const s = scene((dir) => {
      symlinkSync(join(dir, 'in'), join(dir, 'link'));
      linkSync(join(dir, 'in', 'm.onnx'), join(dir, 'hard.onnx'));
      linkSync(join(dir, 'in', 'w.bin'), join(dir, 'hard-w.onnx'));
    });
    const model = await openModelFile(s.model);
    const outcome = await equalizeModel(model, { dataFileName: 'e.data' });
    for (const output of ['link/m.onnx', 'hard.onnx', 'in/./sub/../m.onnx', 'hard-w.onnx']) {
      const error = await rejects(writeModel(join(s.dir, output), outcome, { input: s.model, model }), 'USAGE');
      expect(error.message).to.contain(output.includes('-w') ? 'external-data file "w.bin"' : 'is the input model');
    }
    expect(snapshot(s.dir)).to.deep.equal(s.before);
  });

  it('writeModel (Node API) reports what it has written, never going back, up to 1', async () => {
    const s = scene();
    const model = await openModelFile(s.model);
    const outcome = await equalizeModel(model, { dataFileName: 'e.data' });
    const seen: number[] = [];
    await writeModel(join(s.dir, 'out', 'e.onnx'), outcome, {
      input: s.model,
      model,
      onProgress: (p) => seen.push(p.fraction),
    });
    expect(seen.length).to.be.greaterThan(0);
    expect(seen.at(-1)).to.equal(1);
    seen.forEach((f, i) => expect(f).to.be.at.least(seen[i - 1] ?? 0));
  });

  it('writeModel refuses a kept external-data location that leaves the input folder, through .. or a symlink', async () => {
    // A tensor nothing reads keeps its location unchecked by the reader; copying it beside the output must
    // not read (or write) outside the folders involved.
    const arrangements: [string, (dir: string) => void][] = [
      ['../secret.bin', (dir) => writeFileSync(join(dir, 'secret.bin'), 'secret!!')],
      [
        'escape/secret.bin',
        (dir) => {
          mkdirSync(join(dir, 'elsewhere'));
          writeFileSync(join(dir, 'elsewhere', 'secret.bin'), 'secret!!');
          symlinkSync(join(dir, 'elsewhere'), join(dir, 'in', 'escape'));
        },
      ],
    ];
    for (const [location, arrange] of arrangements) {
      const dir = join(root, `case${n++}`);
      const { model: input } = writeInput(dir, location);
      arrange(dir);
      const before = snapshot(dir);
      const model = await openModelFile(input);
      const outcome = await equalizeModel(model);
      expect(outcome.dataLocations, location).to.include(location);
      await rejects(writeModel(join(dir, 'out', 'e.onnx'), outcome, { input, model }), 'UNSAFE_PATH');
      const r = cli('cle', input, '-o', join(dir, 'out2', 'e.onnx'));
      expect(r.status, r.stderr).to.equal(2);
      expect(r.stderr).to.match(/\[UNSAFE_PATH\]\n$/);
      expect(snapshot(dir), location).to.deep.equal(before);
    }
  });
});
