// Table tests of config-gc parsing against Knative's keys, defaults and messages.
import { describe, expect, it } from '@jest/globals';
import type { FieldError } from '../field-error.ts';
import { DISABLED, parseGCConfig, type GCConfig } from './gc.ts';

const problems = (errors: readonly FieldError[]): string[] =>
  errors.map((e) => `${e.paths.join(', ')}: ${e.message}`);

const HOUR = 3_600_000;

describe('config-gc', () => {
  const valid: [string, Record<string, string>, GCConfig][] = [
    [
      'an empty ConfigMap',
      {},
      {
        retainSinceCreateTimeMs: 48 * HOUR,
        retainSinceLastActiveTimeMs: 15 * HOUR,
        minNonActiveRevisions: 20,
        maxNonActiveRevisions: 1000,
      },
    ],
    [
      'immediate collection: everything 0 or disabled',
      {
        'retain-since-create-time': 'disabled',
        'retain-since-last-active-time': 'Disabled',
        'min-non-active-revisions': '0',
        'max-non-active-revisions': '0',
      },
      {
        retainSinceCreateTimeMs: DISABLED,
        retainSinceLastActiveTimeMs: DISABLED,
        minNonActiveRevisions: 0,
        maxNonActiveRevisions: 0,
      },
    ],
    [
      'empty values keeping the defaults, and min above a disabled max',
      {
        'retain-since-create-time': '',
        'retain-since-last-active-time': '1h30m',
        'min-non-active-revisions': '30',
        'max-non-active-revisions': 'DISABLED',
      },
      {
        retainSinceCreateTimeMs: 48 * HOUR,
        retainSinceLastActiveTimeMs: 1.5 * HOUR,
        minNonActiveRevisions: 30,
        maxNonActiveRevisions: DISABLED,
      },
    ],
  ];

  it.each(valid)('accepts %s', (_name, data, expected) => {
    const parsed = parseGCConfig(data);
    expect(parsed.errors).toEqual([]);
    expect(parsed.config).toEqual(expected);
  });

  const invalid: [string, Record<string, string>, string[]][] = [
    [
      'min above max',
      { 'min-non-active-revisions': '30', 'max-non-active-revisions': '10' },
      [
        'data[min-non-active-revisions]: min-non-active-revisions(30) must be <= max-non-active-revisions(10)',
      ],
    ],
    [
      'a negative min',
      { 'min-non-active-revisions': '-1' },
      ['data[min-non-active-revisions]: min-non-active-revisions must be non-negative, was: -1'],
    ],
    [
      'durations that are invalid or negative',
      { 'retain-since-create-time': '2d', 'retain-since-last-active-time': '-1h' },
      [
        'data[retain-since-create-time]: failed to parse retain-since-create-time: time: invalid duration "2d"',
        'data[retain-since-last-active-time]: failed to parse retain-since-last-active-time: must be non-negative',
      ],
    ],
    [
      'a min that is not an int64 and a max of -1 (ParseUint)',
      { 'min-non-active-revisions': '', 'max-non-active-revisions': '-1' },
      [
        'data[min-non-active-revisions]: failed to parse "min-non-active-revisions": strconv.ParseInt: parsing "": invalid syntax',
        'data[max-non-active-revisions]: failed to parse max-non-active-revisions: strconv.ParseUint: parsing "-1": invalid syntax',
      ],
    ],
    [
      'a max above MaxInt64',
      { 'max-non-active-revisions': '9223372036854775808' },
      [
        'data[max-non-active-revisions]: failed to parse max-non-active-revisions: value should be lower than 9223372036854775807',
      ],
    ],
    [
      'a max above MaxUint64',
      { 'max-non-active-revisions': '18446744073709551616' },
      [
        'data[max-non-active-revisions]: failed to parse max-non-active-revisions: strconv.ParseUint: parsing "18446744073709551616": value out of range',
      ],
    ],
  ];

  it.each(invalid)('rejects %s', (_name, data, expected) => {
    expect(problems(parseGCConfig(data).errors)).toEqual(expected);
  });
});
