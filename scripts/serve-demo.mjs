// `npm start` (after the build): the demo on http://localhost:$PORT (8080 by default). A port in use is
// one line and exit code 1: the usual cause is a demo already running, and the fix is another PORT.
import { startDemoServer } from './demo-server.mjs';

const port = Number(process.env.PORT ?? 8080);
try {
  const { url } = await startDemoServer(port);
  console.log(`weightlens demo: ${url}  (Ctrl+C to stop)`);
} catch (e) {
  console.error(
    e.code === 'EADDRINUSE'
      ? `weightlens demo: port ${port} is in use; set PORT=${port + 1} npm start`
      : `weightlens demo: cannot listen on port ${port} (${e.code ?? e.message})`,
  );
  process.exit(1);
}
