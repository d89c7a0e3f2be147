// A quantization plan: which scheme each weight layer gets, or "float" to keep it. Saved and loaded as JSON:
//   { "default": <scheme> | "float", "layers": { "<layer name>": <scheme> | "float", … } }
// A layer not named takes the default; without a default it stays float.
import { WeightlensError } from '../errors.js';
import { checkScheme, type QuantMethod, type QuantScheme } from './scheme.js';

export type LayerChoice = QuantScheme | 'float';

export interface QuantPlan {
  readonly default?: LayerChoice;
  readonly layers?: Readonly<Record<string, LayerChoice>>;
}

/** What the plan says for a layer. */
export const choiceFor = (plan: QuantPlan, layer: string): LayerChoice =>
  (plan.layers && Object.hasOwn(plan.layers, layer) ? plan.layers[layer] : plan.default) ?? 'float';

/**
 * `plan` with every scheme quantized by `method` where the scheme allows it: the clipping search everywhere,
 * HQQ on asymmetric per-group schemes (the others stay min-max); 'min-max' drops any method.
 */
export function withMethod(plan: QuantPlan, method: QuantMethod): QuantPlan {
  const apply = (choice: LayerChoice): LayerChoice => {
    if (choice === 'float') return choice;
    const { method: _old, ...scheme } = choice;
    const fits = method === 'clip' || (method === 'hqq' && !scheme.symmetric && scheme.granularity === 'group');
    return fits ? { ...scheme, method } : scheme;
  };
  const layers: Record<string, LayerChoice> = Object.create(null) as Record<string, LayerChoice>;
  for (const [name, choice] of Object.entries(plan.layers ?? {})) layers[name] = apply(choice);
  return {
    ...(plan.default !== undefined ? { default: apply(plan.default) } : {}),
    ...(plan.layers ? { layers } : {}),
  };
}

/** A plan from parsed JSON (a file the user gave): every entry checked, `where` names the file. */
export function checkPlan(value: unknown, where: string): QuantPlan {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new WeightlensError('USAGE', `${where}: a quantization plan is a JSON object with "default" and/or "layers"`);
  const { default: fallback, layers, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new WeightlensError('USAGE', `${where}: unknown plan field "${unknown[0]}"`);
  const choice = (v: unknown, at: string): LayerChoice => (v === 'float' ? 'float' : checkScheme(v, `${where}: ${at}`));
  if (layers !== undefined && (typeof layers !== 'object' || layers === null || Array.isArray(layers)))
    throw new WeightlensError('USAGE', `${where}: "layers" must map layer names to schemes`);
  // No prototype: a layer named "__proto__" is a layer like any other, not the object's prototype.
  const checked: Record<string, LayerChoice> = Object.create(null) as Record<string, LayerChoice>;
  for (const [name, v] of Object.entries((layers ?? {}) as Record<string, unknown>))
    checked[name] = choice(v, `layer "${name}"`);
  return {
    ...(fallback !== undefined ? { default: choice(fallback, '"default"') } : {}),
    ...(layers !== undefined ? { layers: checked } : {}),
  };
}
