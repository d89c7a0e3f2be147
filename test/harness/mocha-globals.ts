// The browser stand-in for `node:test`: web-test-runner runs mocha, whose describe/it are globals.
// Only the calls our tests use are mapped.
type Body = () => unknown;
interface MochaGlobals {
  describe(name: string, body: () => void): void;
  it(name: string, body: Body): void;
  before(body: Body): void;
  after(body: Body): void;
  afterEach(body: Body): void;
}
const mocha = globalThis as unknown as MochaGlobals;

export const describe = (name: string, body: () => void) => mocha.describe(name, body);
export const it = (name: string, body: Body) => mocha.it(name, body);
export const test = it;
export const before = (body: Body) => mocha.before(body);
export const after = (body: Body) => mocha.after(body);
export const afterEach = (body: Body) => mocha.afterEach(body);
