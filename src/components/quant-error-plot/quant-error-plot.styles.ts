import { css } from 'lit';

export const styles = css`
  :host {
    --_per-tensor-color: var(--wl-per-tensor-color, #bc4c00);
    --_per-channel-color: var(--wl-per-channel-color, #0969da);
    --_per-group-color: var(--wl-per-group-color, #8250df);
    --_gap-color: var(--wl-gap-color, #8c959f);
    --_change-color: var(--wl-change-color, #d4a72c);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_per-tensor-color: var(--wl-per-tensor-color, #f0883e);
      --_per-channel-color: var(--wl-per-channel-color, #58a6ff);
      --_per-group-color: var(--wl-per-group-color, #a371f7);
      --_gap-color: var(--wl-gap-color, #6e7681);
      --_change-color: var(--wl-change-color, #d29922);
    }
  }
  .plot {
    position: relative;
    max-height: var(--wl-quant-plot-max-height, 32em);
    overflow: auto;
    overscroll-behavior: contain;
    border-radius: var(--_radius);
    cursor: pointer;
    user-select: none;
  }
  .canvas {
    position: relative;
  }
  .cursor {
    position: absolute;
    left: 0;
    right: 0;
    pointer-events: none;
    border: 1px dashed var(--_accent-color);
    border-radius: 2px;
  }
  .plot:not(:focus-visible) .cursor {
    display: none;
  }
  .readout {
    min-height: 1.4em;
    margin: 0.4em 0;
    overflow-wrap: anywhere;
  }
  .hint,
  .note {
    color: var(--_muted-color);
  }
  .note {
    margin: 0.25em 0;
  }
  tr.selected th,
  tr.selected td {
    background: var(--_selected-background);
  }
  thead th {
    vertical-align: bottom;
  }
`;
