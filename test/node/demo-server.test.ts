// `npm start` beside `npm test`: the demo server keeps serving whole files while a build replaces dist/,
// and a busy port is one line on stderr, not a stack.
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../support/node-paths.js';

const SERVE = join(ROOT, 'scripts/serve-demo.mjs');

/** Starts `npm start`'s server on a free port; resolves with its URL once it says it listens. */
async function startDemo(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [SERVE], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  for await (const chunk of child.stdout!.setEncoding('utf8')) {
    out += chunk;
    const url = /http:\/\/\S+\//.exec(out)?.[0];
    if (url) return { child, url };
  }
  throw new Error(`the demo server exited before listening: ${out}`);
}

describe('demo server', () => {
  let demo: { child: ChildProcess; url: string };
  before(async () => {
    demo = await startDemo();
  });
  after(() => {
    demo?.child.kill();
  });

  it('serves the whole bundle, old or new, to every request made while a build replaces dist/', async () => {
    const build = spawn(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--force'], { cwd: ROOT, stdio: 'ignore' });
    const built = once(build, 'exit');
    let running = true;
    void built.then(() => (running = false));
    const answers: string[] = [];
    while (running) {
      const res = await fetch(new URL('weightlens.js', demo.url));
      // A body cut short makes arrayBuffer() reject; a whole body has the announced length.
      const body = await res.arrayBuffer();
      answers.push(
        `${res.status} ${body.byteLength === Number(res.headers.get('content-length')) ? 'whole' : 'partial'}`,
      );
    }
    const [code] = await built;
    expect(code, 'the forced build succeeds').to.equal(0);
    expect(answers.length, 'requests made during the build').to.be.greaterThan(0);
    expect([...new Set(answers)]).to.deep.equal(['200 whole']);
    expect(demo.child.exitCode, 'the server still runs').to.equal(null);
    const after = await fetch(new URL('weightlens.js', demo.url));
    expect(Buffer.from(await after.arrayBuffer()).equals(readFileSync(join(ROOT, 'dist/cdn/weightlens.js')))).to.equal(
      true,
    );
  });

  it('answers an unknown path with 404', async () => {
    const res = await fetch(new URL('no-such-file.js', demo.url));
    expect(res.status).to.equal(404);
  });

  it('reports a busy port in one line and exits 1', async () => {
    const blocker = createServer().listen(0, 'localhost');
    await once(blocker, 'listening');
    const { port } = blocker.address() as AddressInfo;
    try {
      const r = spawnSync(process.execPath, [SERVE], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port) },
        encoding: 'utf8',
      });
      expect(r.status).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.equal(`weightlens demo: port ${port} is in use; set PORT=${port + 1} npm start\n`);
    } finally {
      blocker.close();
    }
  });
});
