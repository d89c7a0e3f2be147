import { css } from 'lit';

export const styles = css`
  :host {
    --_change-color: var(--wl-change-color, #d4a72c);
    --_weight-svd-color: var(--wl-weight-svd-color, #0969da);
    --_spatial-svd-color: var(--wl-spatial-svd-color, #8250df);
    --_pruning-color: var(--wl-pruning-color, #bc4c00);
    --_channel-pruning-color: var(--wl-channel-pruning-color, #1a7f37);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_change-color: var(--wl-change-color, #d29922);
      --_weight-svd-color: var(--wl-weight-svd-color, #4493f8);
      --_spatial-svd-color: var(--wl-spatial-svd-color, #ab7df8);
      --_pruning-color: var(--wl-pruning-color, #f0883e);
      --_channel-pruning-color: var(--wl-channel-pruning-color, #3fb950);
    }
  }
  .summary {
    border: 1px solid var(--_border-color);
    border-radius: var(--_radius);
    padding: 0.6em 0.9em;
    margin: 0 0 0.6em;
  }
  .summary p {
    margin: 0 0 0.4em;
  }
  .summary p:last-child {
    margin: 0;
  }
  .summary input {
    width: 5em;
  }
  .muted {
    color: var(--_muted-color);
  }
  thead th {
    white-space: normal;
    vertical-align: bottom;
  }
  .layer {
    margin-top: 1em;
  }
  .layer h3 {
    font-size: 1em;
    margin: 0 0 0.3em;
    overflow-wrap: anywhere;
  }
  .legend {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25em 1.25em;
    margin: 0 0 0.4em;
    padding: 0;
    list-style: none;
  }
  .swatch {
    display: inline-block;
    width: 1.4em;
    height: 0;
    border-top: 3px solid;
    vertical-align: middle;
    margin-right: 0.35em;
  }
  .swatch.rule {
    border-top: 2px dashed var(--_change-color);
  }
  .swatch.reference {
    border-top: 2px dotted currentColor;
  }
  .notes {
    margin: 0.4em 0 0;
  }
`;
