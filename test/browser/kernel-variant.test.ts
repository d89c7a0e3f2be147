import { describe, it } from 'node:test';
import { expect } from 'chai';
import { kernelVariant } from '../../src/kernels/wasm-module.js';

describe('kernel build selection', () => {
  it('runs the relaxed-SIMD build in Chromium, so the shared kernel tests cover it (Node covers plain SIMD)', () => {
    expect(kernelVariant()).to.equal('relaxed-simd');
  });
});
