// Results JSON (`weightlens stats --json`): recognised by its first byte, parsed and checked before an
// element reads it.
import { WeightlensError } from '../errors.js';
import { rangeFigures } from '../analysis/relative-range.js';
import type { StatsReport } from './stats-report.js';

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
