// `npm start` (after the build): the demo on http://localhost:$PORT (8080 by default).
import { startDemoServer } from './demo-server.mjs';

const { url } = await startDemoServer(Number(process.env.PORT ?? 8080));
console.log(`weightlens demo: ${url}  (Ctrl+C to stop)`);
