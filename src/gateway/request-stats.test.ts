// Table tests of the gateway's request stats: time-weighted average concurrency over a period,
// the immediate stat for a revision's first request and its subtraction, and dropping idle keys.
import { describe, expect, it } from '@jest/globals';
import { ConcurrencyReporter, RequestStats, type RevisionStat, type StatValues } from './request-stats.ts';

/** `+key@t` starts a request, `-key@t` ends one, `report@t` takes a report. */
type Event = `+${string}@${number}` | `-${string}@${number}` | `report@${number}`;

describe('RequestStats', () => {
  const cases: [string, [number, 'in' | 'out'][], number, StatValues][] = [
    ['nothing happened', [], 1000, { averageConcurrency: 0, requestCount: 0 }],
    [
      'one request for half the period',
      [
        [0, 'in'],
        [500, 'out'],
      ],
      1000,
      { averageConcurrency: 0.5, requestCount: 1 },
    ],
    [
      'two overlapping requests',
      [
        [0, 'in'],
        [250, 'in'],
        [750, 'out'],
      ],
      1000,
      // 1 for 250 ms, 2 for 500 ms, 1 for 250 ms.
      { averageConcurrency: 1.5, requestCount: 2 },
    ],
    [
      'only the time since creation counts',
      [
        [600, 'in'],
        [800, 'out'],
      ],
      1000,
      { averageConcurrency: 0.5, requestCount: 1 },
    ],
  ];
  it.each(cases)('%s', (_name, events, reportAt, expected) => {
    const stats = new RequestStats(events[0]?.[0] ?? 0);
    for (const [t, kind] of events) {
      if (kind === 'in') stats.requestIn(t);
      else stats.requestOut(t);
    }
    expect(stats.report(reportAt)).toEqual(expected);
  });

  it('carries concurrency into the next period and resets the rest', () => {
    const stats = new RequestStats(0);
    stats.requestIn(0);
    stats.requestIn(0);
    expect(stats.report(1000)).toEqual({ averageConcurrency: 2, requestCount: 2 });
    stats.requestOut(1500);
    expect(stats.report(2000)).toEqual({ averageConcurrency: 1.5, requestCount: 0 });
  });
});

describe('ConcurrencyReporter', () => {
  /** Replays events; returns the first-request signals as `key@t` and each report. */
  function run(events: Event[]): (string | RevisionStat[])[] {
    const reporter = new ConcurrencyReporter();
    const out: (string | RevisionStat[])[] = [];
    for (const e of events) {
      const [what, at] = e.split('@') as [string, string];
      const now = Number(at);
      if (what === 'report') out.push(reporter.reportAt(now));
      else if (what.startsWith('+')) {
        if (reporter.requestStarted(what.slice(1), now)) out.push(`first ${what.slice(1)}@${at}`);
      } else reporter.requestEnded(what.slice(1), now);
    }
    return out;
  }
  const stat = (key: string, averageConcurrency: number, requestCount: number): RevisionStat => ({
    key,
    averageConcurrency,
    requestCount,
  });

  const cases: [string, Event[], (string | RevisionStat[])[]][] = [
    [
      'the first request is signalled and subtracted from the next report',
      ['+a@0', '+a@0', '-a@500', 'report@1000'],
      // 2 for 500 ms, 1 for 500 ms: 1.5, less the 1 already sent; 2 requests less 1.
      ['first a@0', [stat('a', 0.5, 1)]],
    ],
    [
      'the subtracted concurrency does not go below 0',
      ['+a@900', '-a@950', 'report@1000'],
      ['first a@900', [stat('a', 0, 0)]],
    ],
    [
      'later requests of a busy key are not signalled',
      ['+a@0', 'report@1000', '+a@1500', 'report@2000'],
      ['first a@0', [stat('a', 0, 0)], [stat('a', 1.5, 1)]],
    ],
    [
      'a key idle for a whole period is reported once more, then dropped',
      ['+a@0', '-a@500', 'report@1000', 'report@2000', 'report@3000'],
      ['first a@0', [stat('a', 0, 0)], [stat('a', 0, 0)], []],
    ],
    [
      'after being dropped, the next request is a first request again',
      ['+a@0', '-a@100', 'report@1000', 'report@2000', '+a@2500', 'report@3000'],
      ['first a@0', [stat('a', 0, 0)], [stat('a', 0, 0)], 'first a@2500', [stat('a', 0, 0)]],
    ],
    [
      'a request starting at the report instant keeps its entry',
      ['+a@1000', 'report@1000', '-a@1500', 'report@2000'],
      ['first a@1000', [stat('a', 0, 0)], [stat('a', 0.5, 0)]],
    ],
    [
      'keys are independent',
      ['+a@0', '+b@500', 'report@1000', '-a@1000', '-b@1000', 'report@2000'],
      ['first a@0', 'first b@500', [stat('a', 0, 0), stat('b', 0, 0)], [stat('a', 0, 0), stat('b', 0, 0)]],
    ],
    ['an end without a start is ignored', ['-a@0', 'report@1000'], [[]]],
  ];
  it.each(cases)('%s', (_name, events, expected) => {
    expect(run(events)).toEqual(expected);
  });
});
