// Waiting for a quiet machine before a benchmark starts. Everything shares two cores here: a run
// that starts while an earlier one's cleanup (a namespace of 1,000 Services being deleted, say)
// still keeps the cluster busy measures that cleanup as much as itself.
import { setTimeout as sleep } from 'node:timers/promises';
import { machineBusySeconds } from './host-process.ts';

/** The benchmarks' rule: 10 s in a row with at most 0.3 of the 2 cores busy (an idle local cluster
 * with ebb uses about 0.1), waiting up to 5 minutes, then measuring anyway and saying so. */
export const BENCH_QUIET: QuietRule = { maxBusyCores: 0.3, seconds: 10 };
export const BENCH_QUIET_TIMEOUT_S = 300;

/** One line for a benchmark's log. */
export function describeQuiet(q: QuietResult, rule: QuietRule = BENCH_QUIET): string {
  return q.quiet
    ? `machine quiet (${q.busyCores} cores busy over ${rule.seconds} s) after ${q.waitedSeconds} s`
    : `machine still busy (${q.busyCores} cores over the last ${rule.seconds} s) after ${q.waitedSeconds} s; measuring anyway`;
}

export interface QuietRule {
  /** Busy cores (all processes) at or under which a one-second sample counts as quiet. */
  maxBusyCores: number;
  /** Consecutive quiet seconds wanted. */
  seconds: number;
}

/** Per-second busy-core samples, newest last: true when the last `rule.seconds` are all quiet. */
export function isQuiet(samples: readonly number[], rule: QuietRule): boolean {
  if (samples.length < rule.seconds) return false;
  return samples.slice(-rule.seconds).every((busy) => busy <= rule.maxBusyCores);
}

export interface QuietResult {
  quiet: boolean;
  waitedSeconds: number;
  /** Mean busy cores over the last `rule.seconds` samples. */
  busyCores: number;
}

/** Samples the machine once a second until it is quiet or `timeoutSeconds` pass. */
export async function waitForQuiet(
  rule: QuietRule,
  timeoutSeconds: number,
  signal?: AbortSignal,
): Promise<QuietResult> {
  const samples: number[] = [];
  const started = performance.now();
  let before = machineBusySeconds();
  let at = performance.now();
  while (!signal?.aborted) {
    await sleep(1000);
    const now = performance.now();
    const busy = machineBusySeconds();
    samples.push((busy - before) / ((now - at) / 1000));
    before = busy;
    at = now;
    const recent = samples.slice(-rule.seconds);
    const result = {
      waitedSeconds: Math.round((now - started) / 1000),
      busyCores: Number((recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(2)),
    };
    if (isQuiet(samples, rule)) return { quiet: true, ...result };
    if (now - started >= timeoutSeconds * 1000) return { quiet: false, ...result };
  }
  return { quiet: false, waitedSeconds: Math.round((performance.now() - started) / 1000), busyCores: NaN };
}

/** What each benchmark does before it measures: waits by BENCH_QUIET and logs the outcome. */
export async function quietStart(say: (message: string) => void, signal?: AbortSignal): Promise<QuietResult> {
  const quiet = await waitForQuiet(BENCH_QUIET, BENCH_QUIET_TIMEOUT_S, signal);
  say(describeQuiet(quiet));
  return quiet;
}
