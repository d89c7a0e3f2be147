// The single-file CDN build (dist/cdn/weightlens.js): the whole library plus the elements, registered
// on load. Lit, Plot, the Wasm kernels and the Worker are all inside.
export * from './index.js';
export * from './elements.js';
// Both export a ModelSource: in the CDN build the name is the element (the input type stays reachable as
// the ModelSource type of 'weightlens').
export { ModelSource } from './elements.js';
