/** Types for scripts/build-lib/protobufjs-floor.mjs (used by test/node/consumer-package.test.ts). */
export const MIN_PROTOBUFJS: [number, number, number];
export function olderThan(version: string, min: readonly number[]): boolean;
