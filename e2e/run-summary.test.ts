import { describe, expect, test } from '@jest/globals';
import { jestFailures, LineTail, summarize } from './run-summary.ts';

const report = {
  numFailedTests: 1,
  testResults: [
    {
      name: '/repo/e2e/tests/serving.test.ts',
      status: 'failed',
      message: '',
      assertionResults: [
        { fullName: 'serving hello becomes Ready', status: 'passed', failureMessages: [] },
        {
          fullName: 'serving split lands 70/30',
          status: 'failed',
          failureMessages: [
            '\u001b[31mError: expected 70\u001b[39m\n    at line 1\n    at line 2\n    at line 3',
          ],
        },
      ],
    },
    {
      name: '/repo/e2e/tests/webhook.test.ts',
      status: 'failed',
      message: 'Cannot find module ./kube.ts',
      assertionResults: [],
    },
    { name: '/repo/e2e/tests/chart.test.ts', status: 'passed', assertionResults: [] },
  ],
};

describe('jestFailures', () => {
  test('names each failed test and the head of its message, without colour codes', () => {
    expect(jestFailures(report, 2)).toEqual([
      '✕ /repo/e2e/tests/serving.test.ts › serving split lands 70/30',
      '    Error: expected 70',
      '        at line 1',
      '    … (2 more lines)',
      '✕ /repo/e2e/tests/webhook.test.ts (the suite itself failed)',
      '    Cannot find module ./kube.ts',
    ]);
  });

  test.each([
    ['not an object', 'nope'],
    ['no testResults', { numFailedTests: 0 }],
    ['null', null],
  ])('a report that is %s gives no lines', (_what, bad) => {
    expect(jestFailures(bad)).toEqual([]);
  });
});

describe('summarize', () => {
  test('is empty when every step passed', () => {
    expect(summarize([{ name: 'cluster up', code: 0, tail: ['up'] }])).toEqual([]);
  });

  test('lists every step, then the jest failures or the tail of each failed step', () => {
    expect(
      summarize([
        { name: 'cluster up', code: 0, tail: ['up'] },
        { name: 'deploy', code: 1, tail: ['[deploy] ebb-webhook 0/1: ImagePullBackOff'] },
        { name: 'suites', code: 1, tail: ['ignored, the report says more'], report },
      ]),
    ).toEqual([
      '===== e2e summary: failed =====',
      'ok    cluster up (exit 0)',
      'FAIL  deploy (exit 1)',
      'FAIL  suites (exit 1)',
      '',
      '--- deploy ---',
      '[deploy] ebb-webhook 0/1: ImagePullBackOff',
      '',
      '--- suites ---',
      ...jestFailures(report),
    ]);
  });

  test('falls back to the tail when a jest run left no readable report', () => {
    const lines = summarize([{ name: 'suites', code: 1, tail: ['SyntaxError: x'], report: {} }]);
    expect(lines.slice(-1)).toEqual(['SyntaxError: x']);
  });
});

describe('LineTail', () => {
  test('keeps the last lines across chunk boundaries, the unfinished one included', () => {
    const tail = new LineTail(3);
    tail.push('one\ntw');
    tail.push('o\nthree\nfour\nfi');
    expect(tail.get()).toEqual(['three', 'four', 'fi']);
    tail.push('ve\n');
    expect(tail.get()).toEqual(['three', 'four', 'five']);
  });

  test('strips colour codes', () => {
    const tail = new LineTail(5);
    tail.push('\u001b[1m\u001b[31mFAIL\u001b[39m\u001b[22m x\n');
    expect(tail.get()).toEqual(['FAIL x']);
  });
});
