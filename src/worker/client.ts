// The page's side of the analysis Worker: one module Worker per page, started lazily from the bundled
// source (a blob: URL, so no second file is hosted), jobs routed by id. Where no Worker can run (no
// Worker API, a CSP without `worker-src blob:`, a Worker that fails) the same pipeline runs here.
// An analysis with a session keeps its decoded model where it ran, for histogram jobs, until released.
// Nothing is touched at import time, so importing this in Node or during SSR is safe.
import { WeightlensError, asWeightlensError } from '../errors.js';
import type { Analyzer, ModelWeights } from '../pipeline/analyzer.js';
import type { Progress } from '../progress.js';
import type { CleOptions, CleOutcome } from '../report/cle-report.js';
import type { HistogramRequest, LayerHistogram } from '../report/weight-histogram.js';
import { keptFileName, keptHistogram, releaseModel } from '../pipeline/kept-models.js';
import type { DiffReport } from '../report/diff-report.js';
import type { CompressReport } from '../report/compress-report.js';
import {
  runCle,
  runCompress,
  runDiff,
  runPipeline,
  runPlan,
  runQuantize,
  type CompressJobOptions,
  type PlanJobOptions,
  type PlanOutcome,
  type QuantizedOutcome,
  type QuantizeJobOptions,
} from '../pipeline/analyze.js';
import { modelInputName, type AnalysisInput } from '../pipeline/model-input.js';
import { holdSpillFolder } from '../pipeline/spill-folders.js';
import { deserializeError, type WorkerReply, type WorkerRequest } from './protocol.js';
import { WORKER_SOURCE } from './worker-source.generated.js';

/**
 * What a job computes: statistics (keeping the model under `session`), CLE, a plan, quantization, the
 * comparison of the job's model with `after`, compressibility, or a kept model's histogram.
 */
type Task =
  | { kind: 'stats'; session?: number | undefined }
  | { kind: 'cle'; options: CleOptions }
  | { kind: 'plan'; options: PlanJobOptions }
  | { kind: 'quantize'; job: QuantizeJobOptions }
  | { kind: 'diff'; after: AnalysisInput }
  | { kind: 'compress'; options: CompressJobOptions }
  | { kind: 'histogram'; session: number; request: HistogramRequest };

interface Job {
  /** The file (or layer) named in messages. */
  name: string;
  /** The model input while it is still ours (not transferred bytes): a dead Worker's job can run here. */
  input: AnalysisInput | undefined;
  task: Task;
  signal: AbortSignal;
  onProgress: (p: Progress) => void;
  resolve: (value: never) => void;
  reject: (error: unknown) => void;
  onAbort: () => void;
}

let factory: (() => Worker) | undefined;
/** Resolves to the running Worker once it has said 'ready', or to undefined: run on this thread. */
let started: Promise<Worker | undefined> | undefined;
let current: Worker | undefined;
const jobs = new Map<number, Job>();
let nextId = 1;
/** Where each session's model is kept: in a Worker, or on this thread. */
const homes = new Map<number, Worker | 'here'>();

/** Analyses in the page's Worker; falls back to this thread if there is none. */
export const analyzeInWorker: Analyzer = (input, { signal, onProgress, session }) =>
  inWorker(input, { kind: 'stats', session }, signal, onProgress);

/** Histograms of the models analysed with a session, computed where each was kept; see ModelHandle. */
export const workerWeights: ModelWeights = {
  histogram(session, request, signal) {
    const name = `the histogram of "${request.layer}"`;
    const cancelled = () => new WeightlensError('ABORTED', `${name} was cancelled`);
    if (signal.aborted) return Promise.reject(cancelled());
    const home = homes.get(session);
    const task: Task = { kind: 'histogram', session, request };
    const work =
      home === undefined || home === 'here'
        ? (runTask(undefined, task, signal, () => {}) as Promise<LayerHistogram>) // unknown sessions get kept-models' error
        : post<LayerHistogram>(home, { name, input: undefined, task, signal, onProgress: () => {} });
    return rejectOnAbort(work, signal, cancelled, keptFileName(session)); // a Worker's own errors name its file
  },
  release(session) {
    const home = homes.get(session);
    homes.delete(session);
    if (home === 'here') releaseModel(session);
    else if (home === current) home?.postMessage({ type: 'release', session } satisfies WorkerRequest);
  },
};

/** Cross Layer Equalization in the page's Worker (this thread if there is none): report + equalized bytes. */
export function equalizeInWorker(
  input: AnalysisInput,
  { signal, onProgress, cle }: { signal: AbortSignal; onProgress: (p: Progress) => void; cle: CleOptions },
): Promise<CleOutcome> {
  return inWorker(input, { kind: 'cle', options: cle }, signal, onProgress);
}

/** The data-free planner for a budget in the page's Worker (this thread if there is none). */
export function planInWorker(
  input: AnalysisInput,
  { signal, onProgress, plan }: { signal: AbortSignal; onProgress: (p: Progress) => void; plan: PlanJobOptions },
): Promise<PlanOutcome> {
  return inWorker(input, { kind: 'plan', options: plan }, signal, onProgress);
}

/** Weight-only quantization by a plan in the page's Worker (this thread if there is none): report + QDQ bytes. */
export function quantizeInWorker(
  input: AnalysisInput,
  { signal, onProgress, ...job }: { signal: AbortSignal; onProgress: (p: Progress) => void } & QuantizeJobOptions,
): Promise<QuantizedOutcome> {
  return inWorker(input, { kind: 'quantize', job }, signal, onProgress);
}

/**
 * Two versions of a model compared weight by weight (diffModels) in the page's Worker (this thread if there
 * is none): both are read and decoded there. Bytes inputs are transferred (one buffer given as both sides
 * is sent once).
 */
export function diffInWorker(
  before: AnalysisInput,
  after: AnalysisInput,
  { signal, onProgress }: { signal: AbortSignal; onProgress: (p: Progress) => void },
): Promise<DiffReport> {
  return inWorker(before, { kind: 'diff', after }, signal, onProgress);
}

/**
 * Compressibility of a model (compressibility()) in the page's Worker (this thread if there is none): each
 * layer's curves and its best choice within `error`; `stats` (the page's statistics) gives the INT8/INT4
 * references without measuring them again.
 */
export function compressInWorker(
  input: AnalysisInput,
  { signal, onProgress, ...options }: { signal: AbortSignal; onProgress: (p: Progress) => void } & CompressJobOptions,
): Promise<CompressReport> {
  return inWorker(input, { kind: 'compress', options }, signal, onProgress);
}

function inWorker<T>(
  input: AnalysisInput,
  task: Task,
  signal: AbortSignal,
  onProgress: (p: Progress) => void,
): Promise<T> {
  const name = modelInputName(input);
  if (signal.aborted) return Promise.reject(aborted(name));
  const work = (async () => {
    const resolved = absoluteInput(input);
    const job = task.kind === 'diff' ? { ...task, after: absoluteInput(task.after) } : task;
    const worker = await (started ??= startWorker());
    if (signal.aborted) throw aborted(name);
    return worker
      ? post<T>(worker, { name, input: resolved, task: job, signal, onProgress })
      : (runTask(resolved, job, signal, onProgress) as Promise<T>);
  })();
  return rejectOnAbort(work, signal, () => aborted(name), name);
}

/** A job on this thread; `input` is read by every job but histograms. */
function runTask(
  input: AnalysisInput | undefined,
  task: Task,
  signal: AbortSignal,
  onProgress: (p: Progress) => void,
): Promise<unknown> {
  if (task.kind === 'histogram') return keptHistogram(task.session, task.request, signal);
  if (task.kind === 'cle') return runCle(input!, task.options, { signal, onProgress });
  if (task.kind === 'plan') return runPlan(input!, task.options, { signal, onProgress });
  if (task.kind === 'quantize') return runQuantize(input!, task.job, { signal, onProgress });
  if (task.kind === 'diff') return runDiff(input!, task.after, { signal, onProgress });
  if (task.kind === 'compress') return runCompress(input!, task.options, { signal, onProgress });
  if (task.session === undefined) return runPipeline(input!, { signal, onProgress });
  homes.set(task.session, 'here');
  return runPipeline(input!, { signal, onProgress, session: task.session });
}

/** The fallback on its own: the same pipeline on the calling thread (blocks it while decoding). */
export const analyzeOnThisThread: Analyzer = (input, { signal, onProgress }) => {
  const name = modelInputName(input);
  if (signal.aborted) return Promise.reject(aborted(name));
  const work = (async () =>
    runPipeline(input.kind === 'url' ? { kind: 'url', url: absolute(input.url) } : input, { signal, onProgress }))();
  return rejectOnAbort(work, signal, () => aborted(name), name);
};

/**
 * Replaces how the Worker is created (tests force the fallback with a factory that throws or a Worker
 * that fails to load); `undefined` restores the default. The current Worker is stopped, its jobs rejected.
 */
export function setWorkerFactory(create: (() => Worker) | undefined): void {
  current?.terminate();
  current = started = undefined;
  factory = create;
  forgetHomes(undefined);
  for (const [id, job] of jobs) {
    jobs.delete(id);
    job.reject(new WeightlensError('ABORTED', `${job.name}: stopped, the Worker was replaced`));
  }
}

/** Sessions kept in a Worker that is gone (all of them when `alive` is undefined) can no longer be read. */
function forgetHomes(alive: Worker | undefined): void {
  for (const [session, home] of homes) if (home !== 'here' && home !== alive) homes.delete(session);
}

function defaultWorker(): Worker {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(url, { type: 'module', name: 'weightlens' });
  // Revoked once the script has loaded or failed; revoking at once could race the Worker's fetch.
  const revoke = () => URL.revokeObjectURL(url);
  worker.addEventListener('message', revoke, { once: true });
  worker.addEventListener('error', revoke, { once: true });
  return worker;
}

function startWorker(): Promise<Worker | undefined> {
  let worker: Worker;
  try {
    if (!factory && typeof Worker === 'undefined') return Promise.resolve(undefined);
    worker = current = (factory ?? defaultWorker)();
  } catch (e) {
    console.warn('weightlens: cannot start the analysis Worker, analysing on the main thread:', e);
    return Promise.resolve(undefined);
  }
  // Jobs wait for 'ready' before their bytes are transferred: a Worker that never loads (e.g. blocked by
  // CSP) reports an error, and the bytes are still here to analyse on this thread.
  return new Promise((resolve) => {
    let ready = false;
    worker.addEventListener('message', (event: MessageEvent<WorkerReply>) => {
      if (event.data.type !== 'ready') return route(event.data);
      ready = true;
      resolve(worker);
    });
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      worker.terminate();
      if (ready) workerDied(worker, event.message);
      else {
        console.warn(
          `weightlens: the analysis Worker failed to load${event.message ? ` (${event.message})` : ''}; analysing on the main thread`,
        );
        resolve(undefined);
      }
    });
  });
}

type JobSpec = Omit<Job, 'resolve' | 'reject' | 'onAbort'>;

function requestFor(id: number, { input, task }: JobSpec): WorkerRequest {
  if (task.kind === 'histogram') return { type: 'histogram', id, session: task.session, request: task.request };
  if (task.kind === 'cle') return { type: 'equalize', id, input: input!, options: task.options };
  if (task.kind === 'plan') return { type: 'plan', id, input: input!, options: task.options };
  if (task.kind === 'quantize') return { type: 'quantize', id, input: input!, job: task.job };
  if (task.kind === 'diff') return { type: 'diff', id, input: input!, after: task.after };
  if (task.kind === 'compress') return { type: 'compress', id, input: input!, options: task.options };
  return { type: 'analyze', id, input: input!, ...(task.session === undefined ? {} : { session: task.session }) };
}

function post<T>(worker: Worker, spec: JobSpec): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const id = nextId++;
    const { input, task, signal } = spec;
    const onAbort = () => jobs.delete(id) && worker.postMessage({ type: 'cancel', id } satisfies WorkerRequest);
    // Each buffer once: one model given as both sides of a diff is one buffer.
    const sides = [input, task.kind === 'diff' ? task.after : undefined];
    const bytes = [...new Set(sides.flatMap((side) => (side?.kind === 'bytes' ? [side.bytes] : [])))];
    // Transferred bytes are the Worker's: if it dies, this job cannot run here.
    jobs.set(id, {
      ...spec,
      input: bytes.length ? undefined : input,
      resolve: resolve as (value: never) => void,
      reject,
      onAbort,
    });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      worker.postMessage(requestFor(id, spec), bytes); // bytes move, never copied
      if (task.kind === 'stats' && task.session !== undefined) homes.set(task.session, worker);
    } catch (cause) {
      // e.g. a buffer already transferred elsewhere (detached) or a SharedArrayBuffer
      jobs.delete(id);
      reject(
        new WeightlensError('USAGE', `cannot send ${spec.name} to the analysis Worker: ${(cause as Error).message}`, {
          cause,
        }),
      );
    }
  });
}

function route(reply: Exclude<WorkerReply, { type: 'ready' }>): void {
  const job = jobs.get(reply.id);
  if (!job) return; // cancelled: late messages are dropped
  if (reply.type === 'progress') return job.onProgress(reply.progress);
  jobs.delete(reply.id);
  job.signal.removeEventListener('abort', job.onAbort);
  if (reply.type === 'result') job.resolve(reply.report as never);
  else if (reply.type === 'equalized' || reply.type === 'quantized') {
    // The page keeps the outcome: its spilled files must outlive the Worker (replaced, or dead) that made them.
    const folder = reply.outcome.spillFolder;
    if (folder) holdSpillFolder(folder, { steal: true }).catch(() => {}); // unheld, it is swept by the next run
    job.resolve(reply.outcome as never);
  } else if (reply.type === 'planned') job.resolve(reply.outcome as never);
  else if (reply.type === 'histogram') job.resolve(reply.histogram as never);
  else if (reply.type === 'diffed' || reply.type === 'compressed') job.resolve(reply.report as never);
  else job.reject(deserializeError(reply));
}

/** A Worker that failed after starting: later jobs run here, and so do its jobs whose input is still ours. */
function workerDied(worker: Worker, message: string): void {
  if (worker !== current) return; // already replaced by setWorkerFactory
  console.error(
    `weightlens: the analysis Worker failed${message ? ` (${message})` : ''}; analysing on the main thread from now on`,
  );
  started = Promise.resolve(undefined);
  forgetHomes(undefined);
  for (const [id, job] of jobs) {
    jobs.delete(id);
    if (job.input) {
      runTask(job.input, job.task, job.signal, job.onProgress).then((v) => job.resolve(v as never), job.reject);
    } else {
      // Its bytes were transferred, or it read a model kept in the Worker: both are gone. A Worker that
      // dies (out of memory, an engine fault) is not the file's fault: INTERNAL.
      const file = job.task.kind === 'histogram' ? undefined : job.name;
      job.reject(
        new WeightlensError(
          'INTERNAL',
          `${job.name}: failed, the analysis Worker stopped${message ? ` (${message})` : ''}; load the model again`,
          { file },
        ),
      );
    }
  }
}

/** Settles with `work` (its untyped errors as INTERNAL naming `file`), or rejects `cancelled()` on abort. */
function rejectOnAbort<T>(
  work: Promise<T>,
  signal: AbortSignal,
  cancelled: () => Error,
  file: string | undefined,
): Promise<T> {
  work.catch(() => {}); // after an abort nobody awaits it any more
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    work
      .then(resolve, (e) => reject(asWeightlensError(e, file)))
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const aborted = (name: string) => new WeightlensError('ABORTED', `loading ${name} was cancelled`, { file: name });

/** An input with its URL made absolute (absolute()); other inputs as they are. */
const absoluteInput = (input: AnalysisInput): AnalysisInput =>
  input.kind === 'url' ? { kind: 'url', url: absolute(input.url) } : input;

/** URLs are resolved here: the Worker's own base is a blob: URL. */
function absolute(url: string): string {
  const base =
    (globalThis as { document?: { baseURI?: string } }).document?.baseURI ??
    (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(url, base).href;
  } catch (cause) {
    throw new WeightlensError('USAGE', `"${url}" is not a valid URL`, { cause });
  }
}
