// The one place that decides where things live in Wasm memory and grows it. Layout: a staging area for
// the current tensor at STAGE_BASE, results after it. One tensor at a time, so memory stays bounded by
// the largest tensor, never by the model.
import { WeightlensError } from '../errors.js';

const PAGE = 65536;
const STAGE_BASE = PAGE; // page 0 is left to the AssemblyScript runtime
const ALIGN = 64;
/** wasm32 addresses 4 GiB; Chromium caps one ArrayBuffer near that too. */
const MAX_BYTES = 4 * 1024 * 1024 * 1024 - PAGE;

export const alignUp = (n: number, to = ALIGN) => Math.ceil(n / to) * to;

/** The file and tensor a kernel works on, named in its errors. */
export interface TensorLabel {
  readonly file?: string;
  readonly tensor?: string;
}

/** `file: tensor "w"` (or what of it is known), to start a message with. */
export function labelText({ file, tensor }: TensorLabel): string {
  const name = tensor === undefined ? 'a tensor' : `tensor "${tensor}"`;
  return file === undefined ? name : `${file}: ${name}`;
}

export class WasmArena {
  private cachedViews?: { buffer: ArrayBuffer; f32: Float32Array; f64: Float64Array };

  constructor(private readonly memory: WebAssembly.Memory) {}

  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /**
   * Float32 and float64 views of all of memory, for small reads and writes by index (address / 4, / 8):
   * made again only when memory grows, not once per kernel call (tens of thousands of small layers).
   */
  get views(): { f32: Float32Array; f64: Float64Array } {
    const { buffer } = this.memory;
    if (this.cachedViews?.buffer !== buffer)
      this.cachedViews = { buffer, f32: new Float32Array(buffer), f64: new Float64Array(buffer) };
    return this.cachedViews;
  }

  /** Address of the staged tensor. */
  get stage(): number {
    return STAGE_BASE;
  }

  /** Address just past a staged tensor of `stageBytes`, where results go. */
  resultsAt(stageBytes: number): number {
    return alignUp(STAGE_BASE + stageBytes);
  }

  /** Grows memory so [0, end) is addressable. Old typed-array views are detached afterwards. */
  ensure(end: number, what: string, label: TensorLabel = {}): void {
    const context = { ...label };
    if (!(end <= MAX_BYTES)) {
      throw new WeightlensError(
        'OUT_OF_MEMORY',
        `${labelText(label)}: ${what} would need ${end} bytes of WebAssembly memory, more than the ${MAX_BYTES} a wasm32 module can address`,
        context,
      );
    }
    const missing = end - this.memory.buffer.byteLength;
    if (missing <= 0) return;
    try {
      this.memory.grow(Math.ceil(missing / PAGE));
    } catch (cause) {
      throw new WeightlensError(
        'OUT_OF_MEMORY',
        `${labelText(label)}: ${what}: could not grow WebAssembly memory to ${end} bytes`,
        { ...context, cause },
      );
    }
  }
}
