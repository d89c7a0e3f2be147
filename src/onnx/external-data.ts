/**
 * External tensor data (ONNX `data_location = EXTERNAL`): where the bytes come from is a pluggable source
 * (browser Files, HTTP, a Node directory), and every source gets the same location checks, because a model
 * file is untrusted input and its `location` must never reach outside the model's folder.
 */
import { WeightlensError, throwIfAborted } from '../errors.js';
import type { ExternalLocation } from './model.js';

/** One external data file, read in pieces so a multi-GB weights file is never loaded whole. */
export interface ExternalFile {
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes from `offset`; the caller has checked the range against `size`. */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * Optional: bytes from `offset` straight into `dest` (e.g. WebAssembly memory, no buffer in between);
   * resolves to how many were read (fewer only at the end of the file).
   */
  readInto?(offset: number, dest: Uint8Array, signal?: AbortSignal): Promise<number>;
}

/** Opens the file an external_data `location` names (relative to the model's folder). */
export type ExternalDataSource = (location: string, signal?: AbortSignal) => Promise<ExternalFile>;

/**
 * Checks a location from the model and returns it with '/' separators. Rejects what could escape the
 * model's folder: absolute paths (`/x`, `C:\x`, `\\host\x`), URLs (`http:`…), any `..` segment, empty.
 */
export function validateLocation(location: string): string {
  const unsafe = (why: string): never => {
    throw new WeightlensError('UNSAFE_PATH', `external data location "${location}" ${why}`, {
      field: 'external_data.location',
    });
  };
  if (location === '') unsafe('is empty');
  if (location.includes('\0')) unsafe('contains a NUL character');
  const path = location.replace(/\\/g, '/');
  if (path.startsWith('/')) unsafe('is an absolute path');
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(path)) unsafe('is an absolute path or URL');
  const segments = path.split('/');
  if (segments.includes('..')) unsafe('leaves the model folder (..)');
  return segments.filter((s) => s !== '' && s !== '.').join('/');
}

function notFound(location: string, where: string): WeightlensError {
  return new WeightlensError('EXTERNAL_DATA', `external data file "${location}" not found ${where}`, {
    field: 'external_data.location',
  });
}

type NamedBlob = Blob & { name: string; webkitRelativePath?: string };

/**
 * The file an external-data `location` names among browser File objects (a folder picked with
 * `webkitdirectory`, or files dropped next to the model): the end of its webkitRelativePath, or its name.
 */
export function fileAt<F extends NamedBlob>(files: readonly F[], location: string): F {
  const path = validateLocation(location);
  const match =
    files.find(
      (f) => f.webkitRelativePath && (f.webkitRelativePath === path || f.webkitRelativePath.endsWith('/' + path)),
    ) ?? files.find((f) => f.name === path);
  if (!match) throw notFound(location, `among the ${files.length} selected file(s)`);
  return match;
}

/** External data from browser File objects, matched to locations by `fileAt`. */
export function filesSource(files: Iterable<NamedBlob>): ExternalDataSource {
  const list = [...files];
  return async (location) => {
    const match = fileAt(list, location);
    return {
      name: match.name,
      size: match.size,
      // slice() reads only the tensor's bytes, never the whole (possibly multi-GB) file
      read: async (offset, length) => new Uint8Array(await match.slice(offset, offset + length).arrayBuffer()),
      readInto: (offset, dest) => blobReadInto(match, offset, dest),
    };
  };
}

/** What a stream read of a Blob fills at a time, one buffer reused from read to read. */
const STREAM_PIECE = 8 * 1024 * 1024;

/**
 * The readers of reads under way, held here: in a Worker, Chromium can collect a Blob's stream that only a
 * pending read refers to, and that read then never settles (a CLE in a Worker hung on it).
 */
const reading = new Set<ReadableStreamBYOBReader>();

/**
 * Bytes of `blob` from `offset` into `dest` through a byte-stream reader refilling one small buffer. Not
 * arrayBuffer(): Chromium frees the buffers it returns late, even in 8 MB pieces (a 2.6 GB tensor peaked at
 * 1.2-1.5 GB of renderer memory). Where Blob streams are not byte streams, one arrayBuffer().
 */
async function blobReadInto(blob: Blob, offset: number, dest: Uint8Array): Promise<number> {
  const slice = blob.slice(offset, offset + dest.byteLength);
  let reader: ReadableStreamBYOBReader;
  try {
    reader = slice.stream().getReader({ mode: 'byob' });
  } catch {
    const bytes = new Uint8Array(await slice.arrayBuffer());
    dest.set(bytes);
    return bytes.byteLength;
  }
  reading.add(reader);
  let buffer = new ArrayBuffer(Math.max(1, Math.min(STREAM_PIECE, dest.byteLength)));
  let filled = 0;
  try {
    while (filled < dest.byteLength) {
      const { value, done } = await reader.read(new Uint8Array(buffer));
      if (done || !value) break; // the file shrank: the caller reports the short read
      dest.set(value, filled);
      filled += value.byteLength;
      buffer = value.buffer as ArrayBuffer; // the same memory, handed back by the reader
    }
    await reader.cancel(); // dest is full: no read only to learn that the stream ended
  } finally {
    reading.delete(reader);
  }
  return filled;
}

/**
 * External data next to a model URL. Uses HTTP Range requests; a server that ignores Range (200) gets one
 * full download that later reads slice.
 */
export function urlSource(
  baseUrl: string | URL,
  fetchImpl: typeof fetch = (i, init) => fetch(i, init),
): ExternalDataSource {
  const base = toUrl(baseUrl);
  return async (location, signal) => {
    const path = validateLocation(location);
    // blob: and data: URLs have no folder: resolving next to them throws, so only when data is asked for.
    let folder: URL;
    try {
      folder = new URL('./', base);
    } catch {
      throw new WeightlensError(
        'EXTERNAL_DATA',
        `external data file "${location}" cannot be found next to ${base.protocol} URL ${base.href.slice(0, 60)}`,
      );
    }
    const url = new URL(path.split('/').map(encodeURIComponent).join('/'), folder);
    if (!url.href.startsWith(folder.href)) throw notFound(location, `inside ${folder.href}`); // belt and braces
    // Probe with a one-byte range: 206 tells the size and that ranges work; 200 is the whole file.
    const probe = await fetchImpl(url, { headers: { Range: 'bytes=0-0' }, signal });
    if (probe.status === 404 || probe.status === 410) throw notFound(location, `at ${url.href} (HTTP ${probe.status})`);
    if (!probe.ok) {
      throw new WeightlensError(
        'EXTERNAL_DATA',
        `external data file "${location}" could not be fetched: HTTP ${probe.status} from ${url.href}`,
      );
    }
    const total = /\/(\d+)\s*$/.exec(probe.headers.get('Content-Range') ?? '');
    if (probe.status === 206 && total) {
      await probe.body?.cancel().catch(() => {});
      return {
        name: path,
        size: Number(total[1]),
        read: async (offset, length, readSignal) => {
          if (length === 0) return new Uint8Array(0);
          const res = await fetchImpl(url, {
            headers: { Range: `bytes=${offset}-${offset + length - 1}` },
            signal: readSignal,
          });
          if (!res.ok) {
            throw new WeightlensError(
              'EXTERNAL_DATA',
              `external data file "${location}": HTTP ${res.status} reading bytes ${offset}+${length}`,
            );
          }
          const bytes = new Uint8Array(await res.arrayBuffer());
          return res.status === 206 ? bytes : bytes.subarray(offset, offset + length);
        },
      };
    }
    const whole = new Uint8Array(await probe.arrayBuffer());
    return {
      name: path,
      size: whole.byteLength,
      read: async (offset, length) => whole.subarray(offset, offset + length),
    };
  };
}

/** A URL from a string: absolute, or relative to the page when there is one. */
export function toUrl(url: string | URL): URL {
  if (url instanceof URL) return url;
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(url, page);
  } catch (cause) {
    throw new WeightlensError('USAGE', `"${url}" is not a valid URL`, { cause });
  }
}

/**
 * Reads external tensors for one model: opens each location once (cached), checks ranges against the file
 * size, and puts the model file and tensor name into every error.
 */
export class ExternalDataReader {
  private readonly files = new Map<string, Promise<ExternalFile>>();

  constructor(
    private readonly fileName: string,
    private readonly source: ExternalDataSource | undefined,
  ) {}

  /** `needed` bytes of the tensor's external data, from byte `from` of it (a piece of a large tensor). */
  async read(
    ext: ExternalLocation,
    needed: number,
    tensor: string,
    signal?: AbortSignal,
    from = 0,
  ): Promise<Uint8Array> {
    let bytes: Uint8Array = new Uint8Array(0);
    await this.checked(ext, needed, tensor, signal, from, async (file, offset) => {
      bytes = await file.read(offset, needed, signal);
      return bytes.byteLength;
    });
    return bytes;
  }

  /** Like read, into `dest` (its length is what is needed): straight from the file where it can. */
  readInto(ext: ExternalLocation, dest: Uint8Array, tensor: string, signal?: AbortSignal, from = 0): Promise<void> {
    return this.checked(ext, dest.byteLength, tensor, signal, from, async (file, offset) => {
      if (file.readInto) return file.readInto(offset, dest, signal);
      const bytes = await file.read(offset, dest.byteLength, signal);
      dest.set(bytes.subarray(0, dest.byteLength));
      return bytes.byteLength;
    });
  }

  /** Runs `io` (returning the bytes it got) on the file after the checks, with every error put in context. */
  private async checked(
    ext: ExternalLocation,
    needed: number,
    tensor: string,
    signal: AbortSignal | undefined,
    from: number,
    io: (file: ExternalFile, offset: number) => Promise<number>,
  ): Promise<void> {
    const context = { file: this.fileName, tensor, field: 'external_data' };
    const prefix = `${this.fileName}: tensor "${tensor}"`;
    throwIfAborted(signal, this.fileName);
    try {
      validateLocation(ext.location);
      if (!this.source) {
        throw new WeightlensError(
          'EXTERNAL_DATA',
          `stores its data in external file "${ext.location}", but no external data source was given`,
        );
      }
      const file = await this.open(ext.location, signal);
      const length = ext.length ?? from + needed;
      if (ext.offset + length > file.size) {
        throw new WeightlensError(
          'EXTERNAL_DATA',
          `external data offset ${ext.offset} + length ${length} is beyond the end of "${ext.location}" (${file.size} bytes)`,
        );
      }
      const got = await io(file, ext.offset + from);
      if (got !== needed) {
        throw new WeightlensError(
          'EXTERNAL_DATA',
          `reading "${ext.location}" returned ${got} bytes, expected ${needed}`,
        );
      }
    } catch (e) {
      if (signal?.aborted || (e as { name?: string }).name === 'AbortError') {
        throw new WeightlensError('ABORTED', `loading ${this.fileName} was cancelled`, {
          file: this.fileName,
          cause: e,
        });
      }
      if (e instanceof WeightlensError)
        throw new WeightlensError(e.code, `${prefix}: ${e.message}`, { ...context, cause: e });
      const message = e instanceof Error ? e.message : String(e);
      throw new WeightlensError('EXTERNAL_DATA', `${prefix}: cannot read external data "${ext.location}": ${message}`, {
        ...context,
        cause: e,
      });
    }
  }

  private open(location: string, signal?: AbortSignal): Promise<ExternalFile> {
    let file = this.files.get(location);
    if (!file) {
      file = this.source!(location, signal);
      this.files.set(location, file);
      file.catch(() => this.files.delete(location)); // a failed or cancelled open may be retried
    }
    return file;
  }
}
