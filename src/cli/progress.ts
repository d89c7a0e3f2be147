// Progress on stderr while a model loads: rewritten in place on a terminal, a few plain lines otherwise.
import { etaSeconds, type Progress } from '../progress.js';
import { timeLeft } from '../text/duration.js';

export interface ProgressSink {
  /** `phase` separates steps (reading, statistics) so each gets its own lines in a log. */
  update(phase: string, progress: Progress): void;
  done(): void;
}

interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export function progressLine(stream: Stream, enabled: boolean): ProgressSink {
  if (!enabled) return { update() {}, done() {} };
  let lastPrinted = '';
  let lastTime = 0;
  let shown = false;
  let phaseNow = '';
  let phaseStart = 0;
  return {
    update(phase, progress) {
      const now = Date.now();
      if (phase !== phaseNow) [phaseNow, phaseStart] = [phase, now];
      const { fraction } = progress;
      const eta = progress.eta ?? etaSeconds(phaseStart, now, fraction);
      const text = eta === undefined ? progress.text : `${progress.text} (${timeLeft(eta)})`;
      if (stream.isTTY) {
        if (now - lastTime < 100 && fraction < 1) return; // no more than ~10 redraws a second
        lastTime = now;
        stream.write(`\r\x1b[K${text}`);
        shown = true;
      } else {
        const step = `${phase} ${Math.floor(fraction * 10)}`;
        if (step === lastPrinted) return; // a log file gets at most ~11 lines per phase
        lastPrinted = step;
        stream.write(`${text}\n`);
      }
    },
    done() {
      if (stream.isTTY && shown) stream.write('\r\x1b[K');
    },
  };
}
