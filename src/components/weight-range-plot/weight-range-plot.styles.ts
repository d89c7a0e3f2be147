import { css } from 'lit';

export const styles = css`
  :host {
    --_model-range-color: var(--wl-model-range-color, #8250df);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_model-range-color: var(--wl-model-range-color, #a371f7);
    }
  }
  .readout .dead {
    color: var(--_dead-color);
    font-weight: 600;
  }
  .readout .outlier {
    color: var(--_outlier-color);
    font-weight: 600;
  }
  .zoom {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em 1em;
    margin: 0.25em 0;
  }
  .zoom input {
    width: 6em;
  }
  .zoom label {
    display: inline-flex;
    align-items: center;
    gap: 0.4em;
  }
`;
