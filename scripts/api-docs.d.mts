/** Types for scripts/api-docs.mjs. */
export const START: string;
export const END: string;
export const ELEMENT_API_DOC: string;
export function renderApi(manifest: unknown): string;
export function withApiTables(markdown: string, manifest: unknown): string;
