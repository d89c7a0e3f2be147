// An app that installs the packed kit (`npm pack`) the way a user's app does: it type-checks against the
// public declarations with strict and skipLibCheck: false and no @types/d3, bundles with esbuild, runs in
// Node and draws elements in Chromium, and cannot reach a protobufjs older than the reader needs.
// Offline by construction: the tarball is unpacked into the app's node_modules, and the kit's
// dependencies are linked in from this repo's node_modules, hoisted as npm lays them out.
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';
import puppeteer from 'puppeteer-core';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';
import { MIN_PROTOBUFJS, olderThan } from '../../scripts/build-lib/protobufjs-floor.mjs';
import { ROOT, realModel } from '../support/node-paths.js';

const MODEL = realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx');
const manifest = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    dependencies?: Record<string, string>;
  };

function run(command: string, args: string[], cwd: string): string {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Links `names` and everything they depend on from this repo's node_modules into `modules`. */
function linkFromRepo(modules: string, names: string[]): void {
  const queue = [...names];
  for (let name = queue.shift(); name; name = queue.shift()) {
    const from = join(ROOT, 'node_modules', name);
    const to = join(modules, name);
    // Packages found only nested in the repo are reached through their parent's real path, as in npm.
    if (existsSync(to) || !existsSync(from)) continue;
    mkdirSync(dirname(to), { recursive: true });
    symlinkSync(realpathSync(from), to, 'dir');
    queue.push(...Object.keys(manifest(from).dependencies ?? {}));
  }
}

/** Node's lookup of package `name` from the package at `dir`: the nearest node_modules up its real path. */
function resolvePackage(dir: string, name: string): string | null {
  for (let at = realpathSync(dir); ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(at) === at) return null;
  }
}

/** Every package the kit reaches through `dependencies`, as "name@version". */
function reachableFrom(kit: string): string[] {
  const seen = new Map<string, string>();
  const visit = (dir: string) => {
    for (const name of Object.keys(manifest(dir).dependencies ?? {})) {
      const found = resolvePackage(dir, name);
      if (!found || seen.has(found)) continue;
      seen.set(found, `${name}@${manifest(found).version}`);
      visit(found);
    }
  };
  visit(kit);
  return [...seen.values()];
}

describe('the packed kit in an app', () => {
  let dir: string, app: string, kit: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-consumer-'));
    app = join(dir, 'app');
    kit = join(app, 'node_modules/weightlens');
    // --ignore-scripts: pack the build `npm test` made, never rebuild from inside a test.
    const [{ filename }] = JSON.parse(
      run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT),
    );
    cpSync(join(ROOT, 'test/consumer'), app, { recursive: true });
    mkdirSync(kit, { recursive: true });
    run('tar', ['-xzf', join(dir, filename), '-C', kit, '--strip-components=1'], app);
    linkFromRepo(join(app, 'node_modules'), [...Object.keys(manifest(kit).dependencies ?? {}), '@types/node']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reaches no protobufjs older than 8.6.6: the decoder is bundled into dist/', () => {
    const reachable = reachableFrom(kit);
    expect(
      reachable.some((p) => p.startsWith('@observablehq/plot@')),
      'the walk follows dependencies',
    ).to.equal(true);
    const protobufjs = reachable.filter((p) => /^(protobufjs|onnx-proto)@/.test(p));
    expect(
      protobufjs.filter((p) => p.startsWith('onnx-proto@') || olderThan(p.split('@')[1]!, MIN_PROTOBUFJS)),
    ).to.deep.equal([]);
    const files = readdirSync(join(kit, 'dist'), { recursive: true })
      .map(String)
      .filter((f) => /\.(js|d\.ts)$/.test(f));
    const importing = files.filter((f) =>
      /(from\s+|import\s*\(\s*|require\s*\(\s*)['"](protobufjs|onnx-proto)(\/[^'"]*)?['"]/.test(
        readFileSync(join(kit, 'dist', f), 'utf8'),
      ),
    );
    expect(importing, 'dist files importing protobufjs or onnx-proto').to.deep.equal([]);
    const banner = /protobufjs (\d+\.\d+\.\d+)/.exec(
      readFileSync(join(kit, 'dist/vendor/onnx-proto.js'), 'utf8').split('\n')[0]!,
    );
    expect(banner, 'the bundled protobufjs names its version').to.not.equal(null);
    expect(olderThan(banner![1]!, MIN_PROTOBUFJS), `bundled protobufjs ${banner![1]}`).to.equal(false);
  });

  it('type-checks with strict and skipLibCheck: false, without @types/d3', () => {
    expect(
      existsSync(join(app, 'node_modules/d3')) ||
        resolvePackage(join(app, 'node_modules/@observablehq/plot'), 'd3') !== null,
      'd3 is installed (untyped)',
    ).to.equal(true);
    expect(existsSync(join(app, 'node_modules/@types/d3'))).to.equal(false);
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).to.equal('');
    expect(r.status).to.equal(0);
  });

  it('bundled with esbuild, reads a model in Node through weightlens/node', async () => {
    await esbuild.build({
      entryPoints: [join(app, 'cli.ts')],
      outfile: join(app, 'cli.js'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      packages: 'external',
      logLevel: 'warning',
    });
    expect(run(process.execPath, [join(app, 'cli.js'), MODEL], app)).to.equal('54 layers\n');
  });

  it('bundled with esbuild, draws the elements in Chromium', async () => {
    await esbuild.build({
      entryPoints: [join(app, 'page.ts')],
      outfile: join(app, 'page.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'warning',
    });
    const files: Record<string, [string, string]> = {
      '/': [join(app, 'index.html'), 'text/html'],
      '/page.js': [join(app, 'page.js'), 'text/javascript'],
      '/model.onnx': [MODEL, 'application/octet-stream'],
    };
    const server: Server = createServer((req, res) => {
      const file = files[req.url ?? ''];
      if (!file) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': file[1] }).end(readFileSync(file[0]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: chromiumArgs });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      const { port } = server.address() as { port: number };
      await page.goto(`http://127.0.0.1:${port}/`);
      await page
        .waitForFunction(() => 'consumer' in window, { timeout: 60_000 })
        .catch((e: Error) => {
          throw new Error(`${e.message}; page errors: ${problems.join(' | ') || 'none'}`);
        });
      await page.waitForFunction(
        () =>
          document.querySelector('layer-table')?.shadowRoot?.querySelectorAll('tbody tr').length &&
          document.querySelector('weight-range-plot')?.shadowRoot?.querySelector('svg'),
        { timeout: 60_000 },
      );
      const seen = await page.evaluate(() => ({
        ...(
          window as unknown as { consumer: { status: string; layers: number; tableRows: number; plotStatus: string } }
        ).consumer,
        rows: document.querySelector('layer-table')!.shadowRoot!.querySelectorAll('tbody tr').length,
      }));
      expect(problems).to.deep.equal([]);
      expect(seen).to.deep.equal({ status: 'ready', layers: 54, tableRows: 54, plotStatus: 'ready', rows: 54 });
    } finally {
      await browser.close();
      server.close();
    }
  });
});
