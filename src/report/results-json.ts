// Results JSON (`weightlens stats --json`): recognised by its first byte, parsed and checked before an
// element reads it.
import { WeightlensError } from '../errors.js';
import { rangeFigures } from '../analysis/relative-range.js';
import type { QuantReport } from './quant-error.js';
import type { StatsReport } from './stats-report.js';

const isSqnr = (v: unknown) => v === null || typeof v === 'number';
const isGroupFigure = (g: unknown) => {
  const { block, sqnr } = (g ?? {}) as { block?: unknown; sqnr?: unknown };
  return Number.isSafeInteger(block) && (block as number) >= 1 && isSqnr(sqnr);
};

/**
 * Why `quant` is not what computeStats writes, or undefined when it is. Results written before per-group
 * figures have no `perGroup`: still valid (the figures show as unavailable).
 */
function quantProblem(quant: QuantReport | null): string | undefined {
  if (quant === null) return undefined;
  for (const bits of ['int8', 'int4'] as const) {
    for (const mode of ['symmetric', 'asymmetric'] as const) {
      const f = quant?.[bits]?.[mode];
      const at = `quant.${bits}.${mode}`;
      if (typeof f !== 'object' || f === null) return `${at} is missing`;
      if (!isSqnr(f.perTensor) || !isSqnr(f.perChannel)) return `${at}.perTensor/perChannel are not dB or null`;
      if (f.perGroup === undefined) continue;
      if (!Array.isArray(f.perGroup)) return `${at}.perGroup is not an array`;
      const bad = f.perGroup.findIndex((g) => !isGroupFigure(g));
      if (bad >= 0) return `${at}.perGroup[${bad}] is not { block: a positive integer, sqnr: dB or null }`;
    }
  }
  return undefined;
}

/** Results JSON starts with '{' (after white space); an ONNX file starts with a protobuf tag, never '{'. */
export function looksLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes.subarray(0, 64)) {
    if (b === 0x7b) return true;
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0xef && b !== 0xbb && b !== 0xbf) return false;
  }
  return false;
}

/** Checks that `value` has the shape of a StatsReport (the fields the elements read). */
export function validateReport(value: unknown, fileName: string): StatsReport {
  const bad = (why: string) =>
    new WeightlensError('BAD_REPORT', `${fileName}: not a weightlens stats JSON (${why})`, { file: fileName });
  if (typeof value !== 'object' || value === null) throw bad('not an object');
  const r = value as Partial<StatsReport>;
  if (!Array.isArray(r.layers)) throw bad('no "layers" array');
  if (typeof r.model !== 'object' || r.model === null) throw bad('no "model" object');
  r.layers.forEach((layer, i) => {
    const where = `layers[${i}]`;
    if (typeof layer?.name !== 'string') throw bad(`${where}.name is not a string`);
    const ch = layer.channels;
    if (typeof ch !== 'object' || ch === null) throw bad(`${where}.channels is missing`);
    const n = Array.isArray(ch.min) ? ch.min.length : -1;
    for (const key of ['min', 'max', 'mean', 'std', 'absMax'] as const) {
      if (!Array.isArray(ch[key]) || ch[key].length !== n)
        throw bad(`${where}.channels.${key} is not an array of ${n} numbers`);
    }
    if (!Array.isArray(layer.relativeRange) || layer.relativeRange.length !== n)
      throw bad(`${where}.relativeRange has not ${n} entries`);
    if (!Array.isArray(layer.outliers)) throw bad(`${where}.outliers is not an array`);
    // Results written before dead channels were told apart: their range figures again, from min and max.
    if (layer.deadChannels === undefined) {
      const toNumber = (v: number | null) => v ?? NaN;
      Object.assign(layer, rangeFigures(ch.min.map(toNumber), ch.max.map(toNumber)));
    }
    if (!Array.isArray(layer.deadChannels)) throw bad(`${where}.deadChannels is not an array`);
    const quantBad = layer.quant === undefined ? undefined : quantProblem(layer.quant);
    if (quantBad) throw bad(`${where}.${quantBad}`);
  });
  return r as StatsReport;
}

/** Parses and checks results JSON read as bytes. */
export function parseReport(bytes: Uint8Array, fileName: string): StatsReport {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new WeightlensError('BAD_REPORT', `${fileName}: not a weightlens stats JSON (${(cause as Error).message})`, {
      file: fileName,
      cause,
    });
  }
  return validateReport(value, fileName);
}
