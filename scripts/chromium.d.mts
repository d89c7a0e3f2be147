/** Types for scripts/chromium.mjs (used by the Node-side browser tests). */
export function chromiumPath(): string;
export const chromiumArgs: string[];
