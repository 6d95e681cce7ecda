// The tests `npm run test:conformance` does not run, each with the reason beside its name. Every
// entry is a debt with an issue behind it: the list shrinks as ebb grows, and a reason that no
// longer holds is a bug in this file.
import type { SuiteName } from './knative.ts';

export const LEFT_OUT: Record<SuiteName, Readonly<Record<string, string>>> = {
  api: {},
  runtime: {},
  e2e: {},
};

/** The -test.skip pattern for a suite's left-out tests, or undefined when none is. */
export function skipPattern(suite: SuiteName): string | undefined {
  const names = Object.keys(LEFT_OUT[suite]);
  return names.length === 0 ? undefined : `^(${names.join('|')})$`;
}
