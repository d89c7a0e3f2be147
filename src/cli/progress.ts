// Progress on stderr while a model loads: rewritten in place on a terminal, a few plain lines otherwise.
export interface ProgressSink {
  update(text: string, fraction: number): void;
  done(): void;
}

interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export function progressLine(stream: Stream, enabled: boolean): ProgressSink {
  if (!enabled) return { update() {}, done() {} };
  let lastPrinted = -1;
  let lastTime = 0;
  let shown = false;
  return {
    update(text, fraction) {
      const now = Date.now();
      if (stream.isTTY) {
        if (now - lastTime < 100 && fraction < 1) return; // no more than ~10 redraws a second
        lastTime = now;
        stream.write(`\r\x1b[K${text}`);
        shown = true;
      } else {
        const decile = Math.floor(fraction * 10);
        if (decile === lastPrinted) return; // a log file gets at most ~11 lines per phase
        lastPrinted = decile;
        stream.write(`${text}\n`);
      }
    },
    done() {
      if (stream.isTTY && shown) stream.write('\r\x1b[K');
    },
  };
}
