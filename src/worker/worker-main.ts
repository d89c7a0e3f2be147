// The analysis Worker's entry: a message loop around runPipeline. scripts/build.mjs bundles it into one
// string (worker-source.generated.ts) that client.ts starts from a blob: URL.
import { WeightlensError } from '../errors.js';
import { runPipeline } from './pipeline.js';
import { serializeError, type WorkerReply, type WorkerRequest } from './protocol.js';

interface WorkerScope {
  postMessage(message: WorkerReply): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<WorkerRequest>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;
const running = new Map<number, AbortController>();

async function analyze(id: number, input: Extract<WorkerRequest, { type: 'analyze' }>['input']): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  const { signal } = controller;
  try {
    const report = await runPipeline(input, {
      signal,
      onProgress: ({ fraction, text }) => signal.aborted || scope.postMessage({ type: 'progress', id, fraction, text }),
    });
    if (!signal.aborted) scope.postMessage({ type: 'result', id, report });
  } catch (e) {
    if (signal.aborted) return; // the page has already rejected this job
    // Only the page sees the message: log anything unexpected here with its stack.
    if (!(e instanceof WeightlensError)) console.error('weightlens worker:', e);
    scope.postMessage({ type: 'error', id, ...serializeError(e) });
  } finally {
    running.delete(id);
  }
}

scope.addEventListener('message', ({ data }) => {
  if (data.type === 'analyze') void analyze(data.id, data.input);
  else if (data.type === 'cancel') running.get(data.id)?.abort();
});
scope.postMessage({ type: 'ready' });
