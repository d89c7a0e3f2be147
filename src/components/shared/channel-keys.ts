// Keyboard reading of a per-channel chart: ←/→ (and ↑/↓) one channel, PageUp/PageDown ten, Home/End the
// ends of the shown span. Shared by every element with a channel readout.
import type { ChannelDomain } from '../../plot/channels.js';

const STEPS: Record<string, number> = {
  ArrowRight: 1,
  ArrowUp: 1,
  ArrowLeft: -1,
  ArrowDown: -1,
  PageUp: 10,
  PageDown: -10,
};

/** The channel a key moves the reading to (clamped to the span), or null for keys it does not handle. */
export function channelAfterKey(key: string, reading: number | null, [lo, hi]: ChannelDomain): number | null {
  let next: number;
  if (key in STEPS) next = (reading ?? lo - 1) + STEPS[key]!;
  else if (key === 'Home') next = lo;
  else if (key === 'End') next = hi;
  else return null;
  return Math.min(hi, Math.max(lo, next));
}
