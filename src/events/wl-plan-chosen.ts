import type { PlanReport } from '../pipeline/plan-quantization.js';
import type { QuantPlan } from '../quant/plan.js';

/**
 * A quantization plan was chosen in <quant-plan>: by the data-free planner for the budget (`report` is its
 * front, chosen and uniform plans), by hand (one layer's scheme changed) or from a plan file.
 */
export type WlPlanChosenEvent = CustomEvent<{ plan: QuantPlan; by: 'planner' | 'hand' | 'file'; report?: PlanReport }>;

declare global {
  interface GlobalEventHandlersEventMap {
    'wl-plan-chosen': WlPlanChosenEvent;
  }
}
