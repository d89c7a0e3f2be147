// The oldest protobufjs the ONNX reader may run on: 8.6.6, the first with the fix for deeply nested
// messages that the reader relies on (package.json's `overrides` pins a later one in this repo).

export const MIN_PROTOBUFJS = [8, 6, 6];

/** Whether version "a.b.c" comes before [major, minor, patch]. */
export function olderThan(version, min) {
  const parts = version.split('.').map((p) => parseInt(p, 10));
  const i = min.findIndex((m, k) => parts[k] !== m);
  return i >= 0 && parts[i] < min[i];
}
