import { css } from 'lit';

export const styles = css`
  :host {
    --_clip-color: var(--wl-clip-color, #bc4c00);
    --_grid-level-color: var(--wl-grid-level-color, #8250df);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_clip-color: var(--wl-clip-color, #f0883e);
      --_grid-level-color: var(--wl-grid-level-color, #bc8cff);
    }
  }
  .overlay-summary {
    margin: 0 0 0.4em;
    color: var(--_muted-color);
    overflow-wrap: anywhere;
  }
  .overlay-summary strong {
    color: var(--_color);
    font-weight: 600;
  }
  .controls {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em 1em;
    margin: 0.25em 0 0.5em;
  }
  .controls label {
    display: inline-flex;
    align-items: center;
    gap: 0.4em;
  }
  .controls input[type='number'] {
    width: 6em;
  }
  select {
    font: inherit;
    color: inherit;
    background: var(--_background);
    border: 1px solid var(--_border-color);
    border-radius: var(--_radius);
    padding: 0.2em 0.4em;
  }
  .note {
    margin: 0.25em 0;
    color: var(--_outlier-color);
  }
  .zoom-note {
    margin: 0.25em 0;
    color: var(--_muted-color);
  }
  p.status.note {
    color: var(--_muted-color);
  }
`;
