// Runs a Node script as a child process with a hang detector and its peak memory measured (and optionally
// a heap limit), for tests that throw hostile input at weightlens and must survive what it does.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ChildRun {
  /** Exit code; null when killed. */
  status: number | null;
  stdout: string;
  stderr: string;
  /** Killed by the hang detector. */
  hung: boolean;
  /** Peak resident memory of the process (kB; 0 if it died before reporting). */
  maxRssKb: number;
}

// Written at exit by the child itself: covers Wasm memory and ArrayBuffers, which the heap limit does not.
const REPORT_RSS =
  'data:text/javascript,import{writeFileSync}from"node:fs";process.on("exit",()=>writeFileSync(process.env.WEIGHTLENS_RSS_FILE,String(process.resourceUsage().maxRSS)))';

/**
 * `node script …args`, killed after `hangAfterMs` (a liveness check, not a timing one). `heapLimitMb` adds
 * `--max-old-space-size`: leave it out to run a command as users run it.
 */
export function runNode(
  script: string,
  args: readonly string[],
  options: { cwd: string; hangAfterMs: number; heapLimitMb?: number },
): Promise<ChildRun> {
  const folder = mkdtempSync(join(tmpdir(), 'weightlens-rss-'));
  const rssFile = join(folder, 'rss');
  return new Promise((resolve, reject) => {
    const heapLimit = options.heapLimitMb === undefined ? [] : [`--max-old-space-size=${options.heapLimitMb}`];
    const child = spawn(process.execPath, [...heapLimit, '--import', REPORT_RSS, script, ...args], {
      cwd: options.cwd,
      env: { ...process.env, WEIGHTLENS_RSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, options.hangAfterMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      let maxRssKb = 0;
      try {
        maxRssKb = Number(readFileSync(rssFile, 'utf8'));
      } catch {
        // killed or crashed before its exit handler ran: the status says so
      }
      rmSync(folder, { recursive: true, force: true });
      resolve({ status, stdout, stderr, hung, maxRssKb });
    });
  });
}

/** Runs `jobs` with at most `parallel` at a time, results in order. */
export async function pool<T>(jobs: readonly (() => Promise<T>)[], parallel: number): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  return results;
}
