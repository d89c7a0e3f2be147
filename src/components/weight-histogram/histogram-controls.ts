// <weight-histogram>'s inputs: which channel, linear or log counts, the quantizer overlaid (bit width and
// scheme, one grid per tensor or per channel), and the weight range zoomed to. Each sets the element's
// public property of the same name, so typing in them and setting the attribute do the same thing.
import { html, type TemplateResult } from 'lit';
import type { GridGranularity, OverlayOptions } from '../../plot/weight-histogram.js';
import type { LayerHistogram } from '../../report/weight-histogram.js';
import type { WeightHistogram } from './weight-histogram.js';

type Settings = Pick<WeightHistogram, 'channel' | 'scale' | 'bits' | 'scheme' | 'grid' | 'zoom'>;

const OVERLAYS = [
  [8, 'symmetric'],
  [8, 'asymmetric'],
  [4, 'symmetric'],
  [4, 'asymmetric'],
] as const;

const inputValue = (e: Event) => (e.target as HTMLInputElement | HTMLSelectElement).value;

/** Channel (empty: the whole tensor, up to `lastChannel`), log counts, and the quantizer's grid. */
export function histogramControls(
  el: Settings,
  lastChannel: number,
  h: LayerHistogram,
  options: OverlayOptions,
): TemplateResult {
  const setChannel = (e: Event) => {
    const text = inputValue(e).trim();
    el.channel = text === '' ? null : Number(text);
  };
  const setOverlay = (e: Event) => {
    const [bits, scheme] = OVERLAYS[Number(inputValue(e))]!;
    el.bits = bits;
    el.scheme = scheme;
  };
  return html`<div part="controls" class="controls">
    <label>Output channel
      <input part="channel-input" type="number" min="0" max=${lastChannel} placeholder="all" .value=${h.channel === null ? '' : String(h.channel)} @change=${setChannel} />
    </label>
    <label><input part="scale-toggle" type="checkbox" .checked=${el.scale === 'log'} @change=${(e: Event) => (el.scale = (e.target as HTMLInputElement).checked ? 'log' : 'linear')} /> Log counts</label>
    <label>Grid
      <select part="overlay-select" @change=${setOverlay}>
        ${OVERLAYS.map(([bits, scheme], i) => html`<option value=${i} ?selected=${bits === options.bits && scheme === options.scheme}>INT${bits} ${scheme}</option>`)}
      </select>
    </label>
    <label>per
      <select part="grid-select" @change=${(e: Event) => (el.grid = inputValue(e) as GridGranularity)}>
        <option value="tensor" ?selected=${options.grid === 'tensor'}>tensor</option>
        <option value="channel" ?selected=${options.grid === 'channel'}>channel</option>
      </select>
    </label>
  </div>`;
}

/** The weight range shown, typed in (either end), and a button back to the whole range. */
export function zoomControls(el: Settings, h: LayerHistogram): TemplateResult {
  const [lo, hi] = el.zoom ?? [h.lo, h.hi];
  const set = (which: 0 | 1) => (e: Event) => {
    const value = Number(inputValue(e));
    const [from, to] = el.zoom ?? [h.lo, h.hi]; // read now: the other end may have changed since this render
    el.zoom = which === 0 ? [value, to] : [from, value];
  };
  return html`<div part="zoom" class="controls zoom" role="group" aria-label="Zoom to weights">
    <label>Weights from <input part="zoom-from" type="number" step="any" .value=${String(lo)} @change=${set(0)} /></label>
    <label>to <input part="zoom-to" type="number" step="any" .value=${String(hi)} @change=${set(1)} /></label>
    <button part="zoom-reset" type="button" ?disabled=${!h.zoomed} @click=${() => (el.zoom = null)}>Show the whole range</button>
  </div>`;
}
