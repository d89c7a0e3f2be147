// How one weight is quantized: bits, symmetric or not, and the granularity of its scales (docs/definitions.md,
// "Quantized export"). Plans (which scheme each layer gets) are made of these.
import { WeightlensError } from '../errors.js';

export type Granularity = 'tensor' | 'channel' | 'group';

export interface QuantScheme {
  readonly bits: 8 | 4;
  readonly symmetric: boolean;
  readonly granularity: Granularity;
  /** Rows per block along the input axis (granularity 'group' only). */
  readonly block?: number;
}

export const GRANULARITIES: readonly Granularity[] = ['tensor', 'channel', 'group'];

/** e.g. "int4 asymmetric per-group 32". */
export function schemeName(s: QuantScheme): string {
  const per = s.granularity === 'group' ? `per-group ${s.block}` : `per-${s.granularity}`;
  return `int${s.bits} ${s.symmetric ? 'symmetric' : 'asymmetric'} ${per}`;
}

/** A scheme from untrusted input (CLI flags, plan JSON): every field checked, `where` names the source. */
export function checkScheme(value: unknown, where: string): QuantScheme {
  const bad = (why: string) => new WeightlensError('USAGE', `${where}: ${why}`);
  if (typeof value !== 'object' || value === null) throw bad('a scheme must be an object');
  const { bits, symmetric, granularity, block } = value as Record<string, unknown>;
  if (bits !== 8 && bits !== 4) throw bad(`bits must be 8 or 4, not ${JSON.stringify(bits)}`);
  if (typeof symmetric !== 'boolean') throw bad(`symmetric must be true or false, not ${JSON.stringify(symmetric)}`);
  if (!GRANULARITIES.includes(granularity as Granularity))
    throw bad(`granularity must be one of ${GRANULARITIES.join(', ')}, not ${JSON.stringify(granularity)}`);
  if (granularity !== 'group') {
    if (block !== undefined) throw bad(`a block size needs granularity "group", not "${String(granularity)}"`);
    return { bits, symmetric, granularity: granularity as Granularity };
  }
  if (!(typeof block === 'number' && Number.isInteger(block) && block >= 2 && block <= 2 ** 24))
    throw bad(`per-group quantization needs a block size, an integer from 2 to 2^24 (not ${JSON.stringify(block)})`);
  return { bits, symmetric, granularity: 'group', block };
}
