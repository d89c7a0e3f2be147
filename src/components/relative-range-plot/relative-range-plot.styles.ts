import { css } from 'lit';

export const styles = css`
  .plot svg,
  .histogram svg {
    display: block;
    width: 100%;
    height: auto;
  }
  .lower {
    display: grid;
    grid-template-columns: minmax(0, 1fr) auto;
    gap: 0.5em 1.5em;
    align-items: start;
    margin-top: 0.5em;
  }
  .lower.narrow {
    grid-template-columns: minmax(0, 1fr);
  }
  .summary caption {
    text-align: left;
    font-weight: 600;
    padding-bottom: 0.25em;
  }
  .summary th {
    font-weight: normal;
    color: var(--_muted-color);
  }
  .note {
    color: var(--_muted-color);
  }
`;
