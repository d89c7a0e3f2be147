// How one weight is quantized: bits, symmetric or not, and the granularity of its scales (docs/definitions.md,
// "Quantized export"). Plans (which scheme each layer gets) are made of these.
import { WeightlensError } from '../errors.js';

export type Granularity = 'tensor' | 'channel' | 'group';

/**
 * How the scales and zero points are chosen (docs/definitions.md): min-max ranges; the clipping search
 * (per entry, the clip ratio of least squared error, never worse than min-max); HQQ zero points
 * (asymmetric per-group only, kept per block where they lower the error).
 */
export type QuantMethod = 'min-max' | 'clip' | 'hqq';
export const METHODS: readonly QuantMethod[] = ['min-max', 'clip', 'hqq'];

export interface QuantScheme {
  readonly bits: 8 | 4;
  readonly symmetric: boolean;
  readonly granularity: Granularity;
  /** Rows per block along the input axis (granularity 'group' only). */
  readonly block?: number;
  /** Default 'min-max'. */
  readonly method?: QuantMethod;
}

export const GRANULARITIES: readonly Granularity[] = ['tensor', 'channel', 'group'];

/** e.g. "int4 asymmetric per-group 32". */
export function schemeName(s: QuantScheme): string {
  const per = s.granularity === 'group' ? `per-group ${s.block}` : `per-${s.granularity}`;
  const method = s.method && s.method !== 'min-max' ? `, ${s.method === 'clip' ? 'clipping search' : 'HQQ'}` : '';
  return `int${s.bits} ${s.symmetric ? 'symmetric' : 'asymmetric'} ${per}${method}`;
}

/** A scheme from untrusted input (CLI flags, plan JSON): every field checked, `where` names the source. */
export function checkScheme(value: unknown, where: string): QuantScheme {
  const bad = (why: string) => new WeightlensError('USAGE', `${where}: ${why}`);
  if (typeof value !== 'object' || value === null) throw bad('a scheme must be an object');
  const { bits, symmetric, granularity, block, method } = value as Record<string, unknown>;
  if (bits !== 8 && bits !== 4) throw bad(`bits must be 8 or 4, not ${JSON.stringify(bits)}`);
  if (typeof symmetric !== 'boolean') throw bad(`symmetric must be true or false, not ${JSON.stringify(symmetric)}`);
  if (!GRANULARITIES.includes(granularity as Granularity))
    throw bad(`granularity must be one of ${GRANULARITIES.join(', ')}, not ${JSON.stringify(granularity)}`);
  if (method !== undefined && !METHODS.includes(method as QuantMethod))
    throw bad(`method must be one of ${METHODS.join(', ')}, not ${JSON.stringify(method)}`);
  if (method === 'hqq' && (symmetric || granularity !== 'group'))
    throw bad('the HQQ method refines the zero points of asymmetric per-group quantization only');
  const how = method !== undefined && method !== 'min-max' ? { method: method as QuantMethod } : {};
  if (granularity !== 'group') {
    if (block !== undefined) throw bad(`a block size needs granularity "group", not "${String(granularity)}"`);
    return { bits, symmetric, granularity: granularity as Granularity, ...how };
  }
  if (!(typeof block === 'number' && Number.isInteger(block) && block >= 2 && block <= 2 ** 24))
    throw bad(`per-group quantization needs a block size, an integer from 2 to 2^24 (not ${JSON.stringify(block)})`);
  return { bits, symmetric, granularity: 'group', block, ...how };
}
