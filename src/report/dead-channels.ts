// What a layer's dead channels mean, in one sentence shared by the CLI, the elements and the plots' text.
import { DEAD_RANGE_RATIO } from '../analysis/relative-range.js';
import { shortNumber } from './short-number.js';

interface DeadChannelFigures {
  name: string;
  deadChannels: readonly number[];
  channels: { min: readonly unknown[] };
}

/** True when no channel of the layer is live: each holds one value, or no finite value. */
export const allChannelsDead = (layer: DeadChannelFigures) =>
  layer.channels.min.length > 0 && layer.deadChannels.length === layer.channels.min.length;

/** The note on a layer's dead channels; null when it has none. */
export function deadChannelNote(layer: DeadChannelFigures): string | null {
  const dead = layer.deadChannels.length;
  if (dead === 0) return null;
  if (allChannelsDead(layer)) {
    return `every channel of ${layer.name} is dead (each holds one value, or no finite value): it has no relative range`;
  }
  return (
    `${dead} of ${layer.channels.min.length} channels dead (range ≤ ${shortNumber(DEAD_RANGE_RATIO)} of the layer's largest): ` +
    'harmless for weight quantization, left out of the relative range'
  );
}
