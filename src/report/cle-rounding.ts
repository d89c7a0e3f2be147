// What writing the equalized weights back in float16/bfloat16 did to them. CLE computes in float32; the
// export rounds each rewritten value to the stored type, so the equalized model computes a slightly
// different function. Measured per layer where the exporter encodes the values.
import type { RewrittenLayer, TensorKey } from '../cle/plan-cle.js';
import type { TensorRounding } from '../onnx/export/export.js';
import type { CleRounding } from './cle-report.js';

/** The report's rounding figures; undefined when no rewritten tensor was narrowed (float32/float64 models). */
export function cleRounding(
  rewritten: readonly RewrittenLayer[],
  written: readonly TensorRounding[],
): CleRounding | undefined {
  const byTensor = new Map(written.map((r) => [`${r.graph}\0${r.tensor}`, r]));
  const of = (key: TensorKey | undefined) => (key ? byTensor.get(`${key.graph}\0${key.name}`) : undefined);
  const layers: CleRounding['layers'] = rewritten.flatMap(({ layer, weight, bias }) => {
    const [w, b] = [of(weight), of(bias)];
    if (!w && !b) return [];
    return [
      { name: layer, dtype: (w ?? b)!.dtype, weight: w?.relativeChange ?? 0, ...(b ? { bias: b.relativeChange } : {}) },
    ];
  });
  if (layers.length === 0) return undefined;
  return { worst: Math.max(...layers.flatMap((l) => [l.weight, l.bias ?? 0])), layers };
}

/** The rounding figures in words: the stored types, the largest change (3 significant digits) and its layer. */
export function roundingFacts({ worst, layers }: CleRounding): { dtypes: string; worst: string; layer: string } {
  return {
    dtypes: [...new Set(layers.map((l) => l.dtype))].join('/'),
    worst: Number.isFinite(worst) ? worst.toExponential(2) : 'inf (overflow)',
    layer: layers.find((l) => l.weight === worst || l.bias === worst)!.name,
  };
}
