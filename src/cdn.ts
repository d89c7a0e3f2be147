// The single-file CDN build (dist/cdn/weightlens.js): the whole library plus the elements, registered
// on load. Lit, Plot, the Wasm kernels and the Worker are all inside.
export * from './index.js';
export * from './elements.js';
