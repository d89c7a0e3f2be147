/**
 * The one error type weightlens throws for bad input. `code` is stable (tests and callers switch on it);
 * the message names the file, the tensor and the field so a user can find the problem without a debugger.
 */
export type WeightlensErrorCode =
  | 'NOT_ONNX' // the bytes are not an ONNX ModelProto
  | 'TRUNCATED' // the file ends inside a protobuf field
  | 'BAD_TENSOR' // a tensor's payload does not match its shape and data type
  | 'UNSUPPORTED_DTYPE' // a data type we cannot read as weights
  | 'UNSUPPORTED' // a valid feature of a quantized format weightlens does not read (2-bit MatMulNBits, a reordering g_idx)
  | 'EXTERNAL_DATA' // external data missing, unreadable or out of range
  | 'UNSAFE_PATH' // an external-data location that escapes the model's folder
  | 'BAD_GRAPH' // a graph that refers to things that do not exist
  | 'LAYER_NOT_FOUND' // --layer / layer= names no weight layer
  | 'IO' // the file or URL could not be read
  | 'OUT_OF_MEMORY' // a tensor does not fit in WebAssembly memory
  | 'ABORTED' // the caller cancelled
  | 'BAD_REPORT' // a results JSON that is not what `weightlens stats --json` writes
  | 'NO_WEIGHTS' // the weights themselves are needed (e.g. a histogram) but only results JSON was loaded
  | 'USAGE' // the command line or API was called wrongly
  | 'INTERNAL'; // a bug in weightlens (or the engine under it), not a problem with the file; also raised by guards that catch one before it does harm

export interface WeightlensErrorContext {
  file?: string;
  tensor?: string;
  field?: string;
  cause?: unknown;
}

export class WeightlensError extends Error {
  override readonly name = 'WeightlensError';
  readonly code: WeightlensErrorCode;
  readonly file?: string;
  readonly tensor?: string;
  readonly field?: string;

  constructor(code: WeightlensErrorCode, message: string, context: WeightlensErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    this.file = context.file;
    this.tensor = context.tensor;
    this.field = context.field;
  }
}

/**
 * Runs `step`; a WeightlensError from it that names no tensor (the kernels check their preconditions but
 * know no names) comes back naming `file` and `tensor`. Other errors pass unchanged.
 */
export async function namingTensor<T>(file: string, tensor: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (!(e instanceof WeightlensError) || e.tensor !== undefined) throw e;
    const field = e.field === undefined ? {} : { field: e.field };
    throw new WeightlensError(e.code, `${file}: tensor "${tensor}": ${e.message}`, {
      file,
      tensor,
      ...field,
      cause: e,
    });
  }
}

/**
 * `e` as a WeightlensError: typed errors pass through, anything else (a bug, an engine failure such as a
 * RangeError) becomes INTERNAL naming the file and keeping the original message and cause.
 */
export function asWeightlensError(e: unknown, file?: string): WeightlensError {
  if (e instanceof WeightlensError) return e;
  const err = e as { name?: unknown; message?: unknown } | null;
  const original =
    typeof err?.message === 'string'
      ? `${typeof err.name === 'string' ? err.name : 'Error'}: ${err.message}`
      : String(e);
  return new WeightlensError('INTERNAL', `${file ?? 'the model'}: internal error: ${original}`, { file, cause: e });
}

/** Throws ABORTED if the signal fired; call between units of work so cancelling never waits long. */
export function throwIfAborted(signal: AbortSignal | undefined, file?: string): void {
  if (signal?.aborted) throw new WeightlensError('ABORTED', `loading ${file ?? 'the model'} was cancelled`, { file });
}
