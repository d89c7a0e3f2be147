/** Resolves after `n` animation frames: lets elements draw what they were just given. */
export const frames = (n: number) =>
  new Promise<void>((resolve) => {
    const step = () => (n-- <= 0 ? resolve() : requestAnimationFrame(step));
    step();
  });
