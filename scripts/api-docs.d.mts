/** Types for scripts/api-docs.mjs. */
export const START: string;
export const END: string;
export function renderApi(manifest: unknown): string;
export function readmeWithApi(readme: string, manifest: unknown): string;
