import { expect } from 'chai';
import { WeightlensError, type WeightlensErrorCode } from '../../src/errors.js';

/** Awaits `promise`, expecting a WeightlensError with `code`; returns it for checks on the message. */
export async function rejects(promise: Promise<unknown>, code: WeightlensErrorCode): Promise<WeightlensError> {
  try {
    await promise;
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(WeightlensError);
    expect((e as WeightlensError).code, (e as Error).message).to.equal(code);
    return e as WeightlensError;
  }
  throw new Error(`expected a ${code} error, nothing was thrown`);
}
