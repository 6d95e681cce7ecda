// The last thing `npm run test:e2e` prints when it fails: which step failed and, for failed tests,
// their names and the head of each failure. It comes after the cluster dump and the teardown, so
// that a CI log cut to its tail still shows why the run failed.
import { z } from 'zod';

/** The part of jest's `--json` report the summary reads. */
const JestReport = z.object({
  numFailedTests: z.number().optional(),
  numRuntimeErrorTestSuites: z.number().optional(),
  testResults: z.array(
    z.object({
      name: z.string(),
      status: z.string(),
      message: z.string().optional(),
      assertionResults: z
        .array(
          z.object({
            fullName: z.string(),
            status: z.string(),
            failureMessages: z.array(z.string()).optional(),
          }),
        )
        .optional(),
    }),
  ),
});

export interface StepResult {
  /** What the step was, e.g. "cluster up" or "suites (disruptive)". */
  name: string;
  code: number;
  /** The last lines the step printed, kept for a step with no jest report. */
  tail: readonly string[];
  /** jest's --json report, as read from its output file; absent for steps that are not jest runs. */
  report?: unknown;
}

// ANSI colour codes, which jest keeps in its failure messages.
const ANSI = new RegExp(String.raw`\u001b\[[0-9;]*m`, 'g');

function head(text: string, lines: number): string[] {
  const all = text.replace(ANSI, '').trimEnd().split('\n');
  return all.length <= lines ? all : [...all.slice(0, lines), `… (${all.length - lines} more lines)`];
}

/** Failed tests (or suites that failed to run) in a jest report, each with the head of its message. */
export function jestFailures(report: unknown, linesPerFailure = 12): string[] {
  const parsed = JestReport.safeParse(report);
  if (!parsed.success) return [];
  const out: string[] = [];
  for (const suite of parsed.data.testResults) {
    const failed = (suite.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const test of failed) {
      out.push(`✕ ${suite.name} › ${test.fullName}`);
      const message = (test.failureMessages ?? []).join('\n');
      for (const line of head(message, linesPerFailure)) out.push(`    ${line}`);
    }
    // A suite that fails outside any test (an import error, a failing beforeAll) has no failed
    // assertion of its own, only the suite's message.
    if (failed.length === 0 && suite.status === 'failed') {
      out.push(`✕ ${suite.name} (the suite itself failed)`);
      for (const line of head(suite.message ?? '', linesPerFailure)) out.push(`    ${line}`);
    }
  }
  return out;
}

/** The summary's lines; empty when every step passed. */
export function summarize(steps: readonly StepResult[]): string[] {
  const failed = steps.filter((s) => s.code !== 0);
  if (failed.length === 0) return [];
  const out = ['===== e2e summary: failed ====='];
  for (const step of steps)
    out.push(`${step.code === 0 ? 'ok  ' : 'FAIL'}  ${step.name} (exit ${step.code})`);
  for (const step of failed) {
    const failures = step.report === undefined ? [] : jestFailures(step.report);
    out.push('', `--- ${step.name} ---`);
    if (failures.length > 0) out.push(...failures);
    else out.push(...step.tail);
  }
  return out;
}

/** Keeps the last `size` lines of a stream of text chunks. */
export class LineTail {
  private readonly lines: string[] = [];
  private partial = '';
  private readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line.replace(ANSI, ''));
      if (this.lines.length > this.size) this.lines.shift();
    }
  }

  get(): string[] {
    const last = this.partial === '' ? [] : [this.partial.replace(ANSI, '')];
    return [...this.lines, ...last].slice(-this.size);
  }
}
