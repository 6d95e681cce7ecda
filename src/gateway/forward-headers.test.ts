// Table tests of the headers sent to a pod: X-Forwarded-* and Forwarded appended or set, IPv6 and
// quoting in Forwarded, trusted front proxies, and internal routing headers stripped.
import { describe, expect, it } from '@jest/globals';
import {
  forwardHeaders,
  isInternalHeader,
  type ForwardContext,
  type HeaderRecord,
} from './forward-headers.ts';

const ctx = (clientIP: string | undefined, extra: Partial<ForwardContext> = {}): ForwardContext => ({
  clientIP,
  proto: 'http',
  ...extra,
});

describe('forwardHeaders', () => {
  const cases: [string, HeaderRecord, ForwardContext, HeaderRecord][] = [
    [
      'a first hop sets every forwarding header',
      { host: 'r.ns.example.com', accept: '*/*' },
      ctx('10.1.2.3'),
      {
        host: 'r.ns.example.com',
        accept: '*/*',
        'x-forwarded-for': '10.1.2.3',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'r.ns.example.com',
        forwarded: 'for=10.1.2.3;host=r.ns.example.com;proto=http',
      },
    ],
    [
      'appends to existing X-Forwarded-For and Forwarded, overrides proto and host',
      {
        host: 'r.ns.example.com:8080',
        'x-forwarded-for': '1.1.1.1',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'spoofed.example.com',
        forwarded: 'for=1.1.1.1',
      },
      ctx('10.1.2.3'),
      {
        host: 'r.ns.example.com:8080',
        'x-forwarded-for': '1.1.1.1, 10.1.2.3',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'r.ns.example.com:8080',
        forwarded: 'for=1.1.1.1, for=10.1.2.3;host="r.ns.example.com:8080";proto=http',
      },
    ],
    [
      'a trusted front proxy keeps its proto and host',
      { host: 'r.ns.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'www.example.com' },
      ctx('10.1.2.3', { trustForwarded: true }),
      {
        host: 'r.ns.example.com',
        'x-forwarded-for': '10.1.2.3',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'www.example.com',
        forwarded: 'for=10.1.2.3;host=r.ns.example.com;proto=http',
      },
    ],
    [
      'trusted, but nothing to keep',
      { host: 'r.ns' },
      ctx('10.1.2.3', { trustForwarded: true, proto: 'https' }),
      {
        host: 'r.ns',
        'x-forwarded-for': '10.1.2.3',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'r.ns',
        forwarded: 'for=10.1.2.3;host=r.ns;proto=https',
      },
    ],
    [
      'IPv6 client: bracketed and quoted in Forwarded',
      { host: 'r.ns' },
      ctx('2001:db8::1'),
      {
        host: 'r.ns',
        'x-forwarded-for': '2001:db8::1',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'r.ns',
        forwarded: 'for="[2001:db8::1]";host=r.ns;proto=http',
      },
    ],
    [
      'IPv4-mapped IPv6 client shown as IPv4',
      { host: 'r.ns' },
      ctx('::ffff:10.1.2.3'),
      {
        host: 'r.ns',
        'x-forwarded-for': '10.1.2.3',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'r.ns',
        forwarded: 'for=10.1.2.3;host=r.ns;proto=http',
      },
    ],
    [
      'unknown client and no host',
      { 'x-forwarded-host': 'stale' },
      ctx(undefined),
      { 'x-forwarded-proto': 'http', forwarded: 'for=unknown;proto=http' },
    ],
    [
      'repeated forwarding headers are joined',
      { host: 'r.ns', 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'] },
      ctx('10.1.2.3'),
      {
        host: 'r.ns',
        'x-forwarded-for': '1.1.1.1, 2.2.2.2, 10.1.2.3',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'r.ns',
        forwarded: 'for=10.1.2.3;host=r.ns;proto=http',
      },
    ],
    [
      'internal headers are stripped, others kept as they are',
      {
        host: 'r.ns',
        'knative-serving-tag': 'v1',
        'knative-serving-revision': 'r-1',
        'knative-serving-namespace': 'ns',
        'k-network-probe': 'queue',
        'x-ebb-anything': 'x',
        'X-Ebb-Upper': 'x',
        'set-cookie': ['a=1', 'b=2'],
        'x-request-id': 'abc',
        skipped: undefined,
      },
      ctx('10.1.2.3'),
      {
        host: 'r.ns',
        'set-cookie': ['a=1', 'b=2'],
        'x-request-id': 'abc',
        'x-forwarded-for': '10.1.2.3',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'r.ns',
        forwarded: 'for=10.1.2.3;host=r.ns;proto=http',
      },
    ],
  ];
  it.each(cases)('%s', (_name, incoming, context, expected) => {
    const before = structuredClone(incoming);
    expect(forwardHeaders(incoming, context)).toEqual(expected);
    expect(incoming).toEqual(before);
  });
});

describe('isInternalHeader', () => {
  it.each([
    ['Knative-Serving-Tag', true],
    ['K-Network-Probe', true],
    ['x-ebb-route', true],
    ['x-ebbx', false],
    ['knative-serving-other', false],
    ['accept', false],
  ])('%s -> %s', (name, expected) => {
    expect(isInternalHeader(name)).toBe(expected);
  });
});
