/**
 * openModel: any model source (bytes, Blob/File, URL) -> Model. Reads once into one buffer (the decoder keeps
 * zero-copy views into it, so the file is never held twice), reports progress, honours cancellation.
 */
import { WeightlensError, throwIfAborted } from '../errors.js';
import { decodeModel } from './decode.js';
import { filesSource, toUrl, urlSource, type ExternalDataSource } from './external-data.js';
import type { Model } from './model.js';
import type { Progress } from '../progress.js';
import { megabytes } from '../text/megabytes.js';

/** Progress with the bytes behind it: `fraction` and `text` are of this phase alone. */
export interface OpenProgress extends Progress {
  phase: 'read' | 'decode';
  loaded: number;
  total?: number;
}

/** A read step; of unknown size, the fraction approaches 1 as bytes arrive (half at 16 MB). */
export function readProgress(loaded: number, total?: number): OpenProgress {
  return total
    ? {
        phase: 'read',
        loaded,
        total,
        fraction: loaded / total,
        text: `reading ${megabytes(loaded)} / ${megabytes(total)} MB`,
      }
    : {
        phase: 'read',
        loaded,
        ...(total === undefined ? {} : { total }),
        fraction: 1 - 1 / (1 + loaded / 16e6),
        text: `reading ${megabytes(loaded)} MB`,
      };
}

export interface OpenOptions {
  /** Name used in messages; defaults to the File's name, the URL's last segment, or "model.onnx". */
  fileName?: string;
  /** Where external tensor data comes from; a URL model defaults to files next to it. */
  externalData?: ExternalDataSource | Iterable<File>;
  signal?: AbortSignal;
  onProgress?: (p: OpenProgress) => void;
  /** fetch to use for URL models and their external data (auth headers, tests). */
  fetch?: typeof fetch;
}

export type ModelSource = Uint8Array | ArrayBuffer | Blob | URL | string;

export async function openModel(source: ModelSource, options: OpenOptions = {}): Promise<Model> {
  const { bytes, fileName, externalData } = await readModelSource(source, options);
  const total = bytes.byteLength;
  options.onProgress?.({
    phase: 'decode',
    loaded: 0,
    total,
    fraction: 0,
    text: `decoding ${fileName} (${megabytes(total)} MB)`,
  });
  const model = decodeModel(bytes, { fileName, ...(externalData ? { externalData } : {}) });
  options.onProgress?.({ phase: 'decode', loaded: total, total, fraction: 1, text: `decoded ${fileName}` });
  return model;
}

/** A source read into one buffer, not yet decoded (the Worker pipeline looks at it before decoding). */
export interface ReadSource {
  bytes: Uint8Array;
  fileName: string;
  externalData?: ExternalDataSource;
}

/** The read half of openModel: bytes, the name for messages and where external data comes from. */
export async function readModelSource(source: ModelSource, options: OpenOptions = {}): Promise<ReadSource> {
  const { signal, onProgress } = options;
  let fileName = options.fileName;
  let externalData = toExternalSource(options.externalData);
  let bytes: Uint8Array;

  if (source instanceof Uint8Array) {
    bytes = source;
  } else if (source instanceof ArrayBuffer) {
    bytes = new Uint8Array(source);
  } else if (typeof Blob !== 'undefined' && source instanceof Blob) {
    fileName ??= (source as Partial<File>).name || 'model.onnx';
    bytes = await readBlob(source, fileName, signal, onProgress);
  } else if (typeof source === 'string' || source instanceof URL) {
    const url = toUrl(source);
    fileName ??= decodeURIComponent(url.pathname.split('/').pop() || '') || url.href;
    const fetchImpl = options.fetch ?? ((i, init) => fetch(i, init));
    bytes = await fetchBytes(url, fileName, fetchImpl, signal, onProgress);
    externalData ??= urlSource(url, fetchImpl);
  } else {
    throw new WeightlensError(
      'USAGE',
      `openModel: expected bytes, a Blob/File or a URL, got ${Object.prototype.toString.call(source)}`,
    );
  }
  fileName ??= 'model.onnx';
  throwIfAborted(signal, fileName);
  return { bytes, fileName, ...(externalData ? { externalData } : {}) };
}

function toExternalSource(external: OpenOptions['externalData']): ExternalDataSource | undefined {
  if (external === undefined) return undefined;
  return typeof external === 'function' ? external : filesSource(external);
}

function isAbort(e: unknown, signal?: AbortSignal): boolean {
  return !!signal?.aborted || (e as { name?: string } | null)?.name === 'AbortError';
}

function ioError(fileName: string, what: string, cause: unknown, signal?: AbortSignal): WeightlensError {
  if (cause instanceof WeightlensError) return cause;
  if (isAbort(cause, signal))
    return new WeightlensError('ABORTED', `loading ${fileName} was cancelled`, { file: fileName, cause });
  const message = cause instanceof Error ? cause.message : String(cause);
  return new WeightlensError('IO', `${fileName}: ${what} (${message})`, { file: fileName, cause });
}

async function readBlob(
  blob: Blob,
  fileName: string,
  signal?: AbortSignal,
  onProgress?: (p: OpenProgress) => void,
): Promise<Uint8Array> {
  throwIfAborted(signal, fileName);
  try {
    return await readStream(blob.stream(), blob.size, fileName, signal, onProgress);
  } catch (e) {
    throw ioError(fileName, 'cannot read the file', e, signal);
  }
}

async function fetchBytes(
  url: URL,
  fileName: string,
  fetchImpl: typeof fetch,
  signal?: AbortSignal,
  onProgress?: (p: OpenProgress) => void,
): Promise<Uint8Array> {
  throwIfAborted(signal, fileName);
  let res: Response;
  try {
    res = await fetchImpl(url, signal ? { signal } : {});
  } catch (e) {
    throw ioError(fileName, `cannot fetch ${url.href}`, e, signal);
  }
  if (!res.ok) {
    throw new WeightlensError(
      'IO',
      `${fileName}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''} fetching ${url.href}`,
      { file: fileName },
    );
  }
  // Content-Length counts encoded bytes; with Content-Encoding the decoded body is longer, so only trust it
  // for the preallocation when the body is sent as is.
  const length = Number(res.headers.get('Content-Length'));
  const total = Number.isSafeInteger(length) && length > 0 && !res.headers.get('Content-Encoding') ? length : undefined;
  try {
    if (!res.body) return new Uint8Array(await res.arrayBuffer());
    return await readStream(res.body, total, fileName, signal, onProgress);
  } catch (e) {
    throw ioError(fileName, `cannot read ${url.href}`, e, signal);
  }
}

/**
 * Reads a byte stream into one buffer. With a known total it is preallocated (one copy, no concat);
 * otherwise chunks are joined at the end.
 */
async function readStream(
  stream: ReadableStream<Uint8Array>,
  total: number | undefined,
  fileName: string,
  signal?: AbortSignal,
  onProgress?: (p: OpenProgress) => void,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  let buffer = total === undefined ? undefined : new Uint8Array(total);
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  onProgress?.(readProgress(0, total));
  try {
    for (;;) {
      if (signal?.aborted) {
        await reader.cancel().catch(() => {});
        throwIfAborted(signal, fileName);
      }
      const { done, value } = await reader.read();
      if (done) break;
      if (buffer) {
        if (loaded + value.byteLength > buffer.byteLength) {
          // The source is longer than announced: grow (rare; costs one copy).
          const grown = new Uint8Array(Math.max(buffer.byteLength * 2, loaded + value.byteLength));
          grown.set(buffer.subarray(0, loaded));
          buffer = grown;
        }
        buffer.set(value, loaded);
      } else {
        chunks.push(value);
      }
      loaded += value.byteLength;
      onProgress?.(readProgress(loaded, total));
    }
  } finally {
    reader.releaseLock();
  }
  if (buffer) return loaded === buffer.byteLength ? buffer : buffer.subarray(0, loaded);
  if (chunks.length === 1) return chunks[0]!;
  const joined = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks.splice(0)) {
    joined.set(c, offset);
    offset += c.byteLength;
  }
  return joined;
}
