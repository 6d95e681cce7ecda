// Table tests of config-domain parsing and the domain lookup by Route labels.
import { describe, expect, it } from '@jest/globals';
import type { FieldError } from '../field-error.ts';
import { domainForLabels, parseDomainConfig, type DomainEntry } from './domain.ts';

const problems = (errors: readonly FieldError[]): string[] =>
  errors.map((e) => `${e.paths.join(', ')}: ${e.message}`);

describe('config-domain', () => {
  const parsing: [string, Record<string, string>, string | undefined, DomainEntry[]][] = [
    ['an empty ConfigMap', {}, undefined, [{ domain: 'svc.cluster.local', selector: {} }]],
    [
      'another cluster domain',
      { _example: 'example.com: |\n  selector: {}' },
      'corp.internal',
      [{ domain: 'svc.corp.internal', selector: {} }],
    ],
    [
      'a default domain given as "" and a selected one',
      { 'example.com': '', 'prod.example.com': 'selector:\n  app: prod\ntype: wildcard' },
      undefined,
      [
        { domain: 'example.com', selector: {} },
        { domain: 'prod.example.com', selector: { app: 'prod' } },
      ],
    ],
    [
      'only selected domains, so the cluster default is added',
      { 'prod.example.com': 'selector:\n  app: prod' },
      undefined,
      [
        { domain: 'prod.example.com', selector: { app: 'prod' } },
        { domain: 'svc.cluster.local', selector: {} },
      ],
    ],
  ];

  it.each(parsing)('parses %s', (_name, data, clusterDomain, expected) => {
    const parsed = parseDomainConfig(data, clusterDomain);
    expect(parsed.errors).toEqual([]);
    expect(parsed.config.entries).toEqual(expected);
  });

  const invalid: [string, Record<string, string>, (string | ReturnType<typeof expect.stringMatching>)[]][] = [
    [
      'a value that is not YAML',
      { 'example.com': 'selector: [' },
      [expect.stringMatching(/^data\[example\.com\]: invalid YAML: \S/)],
    ],
    [
      'a selector with a non-string value',
      { 'example.com': 'selector:\n  replicas:\n    - 3' },
      ['data[example.com]: selector must map label names to strings'],
    ],
  ];

  it.each(invalid)('rejects %s', (_name, data, expected) => {
    expect(problems(parseDomainConfig(data).errors)).toEqual(expected);
  });

  const config = parseDomainConfig({
    'example.com': '',
    'aaa.example.com': '',
    'prod.example.com': 'selector:\n  app: prod',
    'eu.prod.example.com': 'selector:\n  app: prod\n  region: eu',
    'b.example.com': 'selector:\n  team: b',
    'a.example.com': 'selector:\n  team: b',
  }).config;

  const lookup: [string, Record<string, string>, string][] = [
    [
      'cluster-local visibility',
      { app: 'prod', 'networking.knative.dev/visibility': 'cluster-local' },
      'svc.cluster.local',
    ],
    ['the most specific selector', { app: 'prod', region: 'eu' }, 'eu.prod.example.com'],
    ['the alphabetically first domain on a tie', { team: 'b' }, 'a.example.com'],
    ['the alphabetically first default when nothing else matches', { app: 'dev' }, 'aaa.example.com'],
  ];

  it.each(lookup)('looks up %s', (_name, labels, expected) => {
    expect(domainForLabels(config, labels)).toBe(expected);
  });
});
