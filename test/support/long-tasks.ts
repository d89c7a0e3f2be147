// Instruments for the main-thread bar (no task over 50 ms while a model loads), for browser tests.

/** Resolves after `n` animation frames. */
export const frames = (n: number) => new Promise<void>((resolve) => {
  const step = () => (n-- <= 0 ? resolve() : requestAnimationFrame(step));
  step();
});

/** Long-task entries reported while `work` runs (observed from before it starts, unbuffered). */
export async function longTasksDuring(work: () => Promise<void>): Promise<PerformanceEntry[]> {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ type: 'longtask', buffered: false });
  await work();
  await frames(3); // entries are delivered after the task that ran long
  entries.push(...observer.takeRecords());
  observer.disconnect();
  return entries;
}

/** The largest gap between back-to-back zero-delay macrotasks: how long the main thread was busy at once. */
export function gapMeter(): { stop(): number } {
  const channel = new MessageChannel();
  let last = performance.now();
  let longest = 0;
  let running = true;
  channel.port1.onmessage = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) channel.port2.postMessage(0);
  };
  channel.port2.postMessage(0);
  return {
    stop() {
      running = false;
      channel.port1.close();
      return longest;
    },
  };
}
