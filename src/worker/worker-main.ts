// The analysis Worker's entry: a message loop around runPipeline, runCle, runPlan, runQuantize, runDiff, runCompress and histograms of the models it
// keeps. scripts/build.mjs bundles it into one string (worker-source.generated.ts) that client.ts starts
// from a blob: URL.
import { WeightlensError } from '../errors.js';
import { keptFileName, keptHistogram, releaseModel } from '../pipeline/kept-models.js';
import {
  runCle,
  runCompress,
  runDiff,
  runPipeline,
  runPlan,
  runQuantize,
  type PipelineOptions,
} from '../pipeline/analyze.js';
import { modelInputName } from '../pipeline/model-input.js';
import { releaseSpillFolder } from '../pipeline/spill-folders.js';
import { serializeError, type WorkerReply, type WorkerRequest } from './protocol.js';

interface WorkerScope {
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<WorkerRequest>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;
const running = new Map<number, AbortController>();

type Job = Extract<
  WorkerRequest,
  { type: 'analyze' | 'equalize' | 'plan' | 'quantize' | 'diff' | 'compress' | 'histogram' }
>;

async function run(job: Job): Promise<void> {
  const { id } = job;
  const controller = new AbortController();
  running.set(id, controller);
  const { signal } = controller;
  const options: PipelineOptions = {
    signal,
    onProgress: (progress) => signal.aborted || scope.postMessage({ type: 'progress', id, progress }),
  };
  try {
    if (job.type === 'analyze') {
      const report = await runPipeline(job.input, {
        ...options,
        ...(job.session === undefined ? {} : { session: job.session }),
      });
      if (!signal.aborted) scope.postMessage({ type: 'result', id, report });
    } else if (job.type === 'histogram') {
      const histogram = await keptHistogram(job.session, job.request, signal);
      if (!signal.aborted) scope.postMessage({ type: 'histogram', id, histogram });
    } else if (job.type === 'diff') {
      const report = await runDiff(job.input, job.after, options);
      if (!signal.aborted) scope.postMessage({ type: 'diffed', id, report });
    } else if (job.type === 'compress') {
      const report = await runCompress(job.input, job.options, options);
      if (!signal.aborted) scope.postMessage({ type: 'compressed', id, report });
    } else if (job.type === 'plan') {
      const outcome = await runPlan(job.input, job.options, options);
      if (!signal.aborted) scope.postMessage({ type: 'planned', id, outcome });
    } else if (job.type === 'quantize') {
      const outcome = await runQuantize(job.input, job.job, options);
      if (!signal.aborted) scope.postMessage({ type: 'quantized', id, outcome }, [outcome.bytes.buffer as ArrayBuffer]);
      else if (outcome.spillFolder) void releaseSpillFolder(outcome.spillFolder); // cancelled as it finished
    } else {
      const outcome = await runCle(job.input, job.options, options);
      if (!signal.aborted) scope.postMessage({ type: 'equalized', id, outcome }, [outcome.bytes.buffer as ArrayBuffer]);
      else if (outcome.spillFolder) void releaseSpillFolder(outcome.spillFolder); // cancelled as it finished
    }
  } catch (e) {
    if (signal.aborted) return; // the page has already rejected this job
    // Only the page sees the message: log anything unexpected here with its stack.
    if (!(e instanceof WeightlensError)) console.error('weightlens worker:', e);
    scope.postMessage({
      type: 'error',
      id,
      ...serializeError(e, job.type === 'histogram' ? keptFileName(job.session) : modelInputName(job.input)),
    });
  } finally {
    running.delete(id);
  }
}

scope.addEventListener('message', ({ data }) => {
  if (data.type === 'cancel') running.get(data.id)?.abort();
  else if (data.type === 'release') releaseModel(data.session);
  else void run(data);
});
scope.postMessage({ type: 'ready' });
