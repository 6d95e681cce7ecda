// Reads `go tool test2json` events into what `npm run test:conformance` reports: each top-level
// test's result, and for each failure the line that says why.

/** One line of test2json's output (https://pkg.go.dev/cmd/test2json). */
export interface TestEvent {
  Action: string;
  Test?: string;
  Output?: string;
}

export type Outcome = 'pass' | 'fail' | 'skip';

export interface TestResult {
  name: string;
  outcome: Outcome;
  /** For a failure: the first line a failing (sub)test reported through t.Error or t.Fatal. */
  reason?: string;
}

export interface SuiteReport {
  suite: string;
  results: TestResult[];
  /** Output outside any test: a panic, a flag error, a setup failure. */
  orphanOutput: string[];
}

/** `    file_test.go:123: message`: how `go test -v` prints a test's t.Log, t.Error and t.Fatal. */
const REPORTED = /^\s+([\w./-]+\.go):(\d+): (.*)$/;
/** Files whose lines are logging, not the test's verdict. */
const LOGGING_FILES = /(logging|logger|logstream|spoof|prober|cleanup|util)\.go$/;
const FAILURE_WORDS =
  /\b(fail|failed|failure|error|expected|want|unexpected|timed out|did not|didn't|not ready|not valid|invalid|not present|incorrect|missing|should|shouldn't|got)\b/i;

/** The line most likely to say why `lines` (one failing test's output) failed. */
export function failureReason(lines: readonly string[]): string | undefined {
  const reported = lines
    .map((l) => REPORTED.exec(l.replace(/\n$/, '')))
    .filter((m): m is RegExpExecArray => m !== null);
  const verdicts = reported.filter((m) => !LOGGING_FILES.test(m[1] ?? ''));
  // A test's own file is where its t.Error and t.Fatal calls are; helpers mostly log.
  const own = verdicts.filter((m) => (m[1] ?? '').endsWith('_test.go'));
  const pick =
    own.find((m) => FAILURE_WORDS.test(m[3] ?? '')) ??
    verdicts.find((m) => FAILURE_WORDS.test(m[3] ?? '')) ??
    reported.find((m) => FAILURE_WORDS.test(m[3] ?? '')) ??
    verdicts.at(-1) ??
    reported.at(-1);
  if (pick !== undefined) return `${pick[1]}:${pick[2]}: ${(pick[3] ?? '').trim()}`;
  const panic = lines.find((l) => l.startsWith('panic:'));
  return panic?.trim();
}

/** Folds a suite's test2json events into its results. */
export function readEvents(suite: string, events: Iterable<TestEvent>): SuiteReport {
  const outcome = new Map<string, Outcome>();
  const output = new Map<string, string[]>();
  const orphanOutput: string[] = [];
  for (const e of events) {
    if (e.Test === undefined) {
      if (e.Action === 'output' && e.Output !== undefined) orphanOutput.push(e.Output);
      continue;
    }
    if (e.Action === 'output' && e.Output !== undefined) {
      const lines = output.get(e.Test) ?? [];
      lines.push(e.Output);
      output.set(e.Test, lines);
    } else if (e.Action === 'pass' || e.Action === 'fail' || e.Action === 'skip') {
      outcome.set(e.Test, e.Action);
    }
  }
  const results: TestResult[] = [];
  for (const [name, result] of outcome) {
    if (name.includes('/')) continue;
    const entry: TestResult = { name, outcome: result };
    if (result === 'fail') {
      // The deepest failing subtests say more than their parent's "--- FAIL" lines.
      const failing = [...outcome]
        .filter(([n, o]) => o === 'fail' && (n === name || n.startsWith(`${name}/`)))
        .map(([n]) => n)
        .sort((a, b) => b.split('/').length - a.split('/').length);
      for (const n of failing) {
        const reason = failureReason(output.get(n) ?? []);
        if (reason !== undefined) {
          entry.reason = n === name ? reason : `${n.slice(name.length + 1)}: ${reason}`;
          break;
        }
      }
    }
    results.push(entry);
  }
  results.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { suite, results, orphanOutput };
}

/** Parses test2json's output, one JSON object per line; a line that is not one is kept as output. */
export function parseEvents(text: string): TestEvent[] {
  const events: TestEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value === 'object' && value !== null && typeof (value as TestEvent).Action === 'string')
        events.push(value as TestEvent);
      else events.push({ Action: 'output', Output: `${line}\n` });
    } catch {
      events.push({ Action: 'output', Output: `${line}\n` });
    }
  }
  return events;
}

export function count(report: SuiteReport, outcome: Outcome): number {
  return report.results.filter((r) => r.outcome === outcome).length;
}

/** `api: 28 passed, 0 failed, 0 skipped` */
export function summaryLine(report: SuiteReport): string {
  return `${report.suite}: ${count(report, 'pass')} passed, ${count(report, 'fail')} failed, ${count(report, 'skip')} skipped`;
}
