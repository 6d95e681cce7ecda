// Reading `go tool test2json` events into the conformance summary.
import { describe, expect, it } from '@jest/globals';
import { failureReason, parseEvents, readEvents, summaryLine, type TestEvent } from './go-test-events.ts';

const out = (Test: string, Output: string): TestEvent => ({ Action: 'output', Test, Output });

describe('readEvents', () => {
  const events: TestEvent[] = [
    { Action: 'run', Test: 'TestA' },
    out('TestA', '    util.go:129: Checking that the endpoint vends the expected text: hi\n'),
    { Action: 'pass', Test: 'TestA' },
    { Action: 'run', Test: 'TestB' },
    out('TestB', '    service.go:153: Checking to ensure Service Status is populated\n'),
    out(
      'TestB',
      '    service_test.go:65: imageDigest  is not valid for imageName x: imageDigest not present\n',
    ),
    out('TestB', '    service_test.go:85: Deleting Service: b\n'),
    { Action: 'fail', Test: 'TestB' },
    { Action: 'run', Test: 'TestC' },
    { Action: 'run', Test: 'TestC/slow' },
    out('TestC/slow', '    timeout_test.go:140: Failed request: unexpected EOF\n'),
    { Action: 'fail', Test: 'TestC/slow' },
    { Action: 'pass', Test: 'TestC/fast' },
    { Action: 'fail', Test: 'TestC' },
    { Action: 'skip', Test: 'TestD' },
    { Action: 'output', Output: 'PASS\n' },
  ];
  const report = readEvents('api', events);

  it('counts top-level tests only, by outcome', () => {
    expect(report.results.map((r) => [r.name, r.outcome])).toEqual([
      ['TestA', 'pass'],
      ['TestB', 'fail'],
      ['TestC', 'fail'],
      ['TestD', 'skip'],
    ]);
    expect(summaryLine(report)).toBe('api: 1 passed, 2 failed, 1 skipped');
  });

  it("names a failure by its verdict line, not by the test's last log line", () => {
    expect(report.results.find((r) => r.name === 'TestB')?.reason).toBe(
      'service_test.go:65: imageDigest  is not valid for imageName x: imageDigest not present',
    );
  });

  it('names a failure in a subtest by the subtest', () => {
    expect(report.results.find((r) => r.name === 'TestC')?.reason).toBe(
      'slow: timeout_test.go:140: Failed request: unexpected EOF',
    );
  });

  it('keeps output outside any test, where a panic or a flag error shows', () => {
    expect(report.orphanOutput).toEqual(['PASS\n']);
  });
});

describe('failureReason', () => {
  it('falls back to a panic line', () => {
    expect(failureReason(['panic: runtime error: index out of range\n'])).toBe(
      'panic: runtime error: index out of range',
    );
  });

  it('says nothing for output without a reported line', () => {
    expect(failureReason(['=== RUN   TestX\n'])).toBeUndefined();
  });
});

describe('parseEvents', () => {
  it('reads one JSON event a line and keeps other lines as output', () => {
    expect(parseEvents('{"Action":"pass","Test":"TestA"}\nnot json\n\n')).toEqual([
      { Action: 'pass', Test: 'TestA' },
      { Action: 'output', Output: 'not json\n' },
    ]);
  });
});
