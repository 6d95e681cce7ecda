// Table tests for reading a revision's pods off its EndpointSlices.
import { describe, expect, it } from '@jest/globals';
import type { V1Endpoint, V1EndpointSlice } from '@kubernetes/client-node';
import { revisionEndpoints, sliceRevisionKey, type RevisionEndpoints } from './endpoints.ts';

function ep(ip: string, ready?: boolean, terminating?: boolean): V1Endpoint {
  const conditions: V1Endpoint['conditions'] = {};
  if (ready !== undefined) conditions.ready = ready;
  if (terminating !== undefined) conditions.terminating = terminating;
  return { addresses: [ip], conditions };
}

function slice(endpoints: V1Endpoint[], port: number | null = 8080, addressType = 'IPv4'): V1EndpointSlice {
  return {
    addressType,
    endpoints,
    ports: port === null ? [] : [{ name: 'http', port }],
    metadata: { namespace: 'ns', name: 's', labels: { 'serving.knative.dev/revision': 'hello-00001' } },
  };
}

const cases: [string, V1EndpointSlice[], RevisionEndpoints][] = [
  ['no slices', [], { ready: [], starting: [], terminating: [] }],
  [
    'ready, starting and terminating pods',
    [slice([ep('10.0.0.2', true), ep('10.0.0.1', false), ep('10.0.0.3', false, true)])],
    { ready: ['10.0.0.2:8080'], starting: ['10.0.0.1:8080'], terminating: ['10.0.0.3:8080'] },
  ],
  [
    'ready unset means ready, as the API says',
    [slice([ep('10.0.0.9')])],
    { ready: ['10.0.0.9:8080'], starting: [], terminating: [] },
  ],
  [
    'an address in two slices counts once, in its best state, sorted',
    [slice([ep('10.0.0.5', false), ep('10.0.0.4', true)]), slice([ep('10.0.0.5', true)])],
    { ready: ['10.0.0.4:8080', '10.0.0.5:8080'], starting: [], terminating: [] },
  ],
  [
    'a slice without a port is skipped',
    [slice([ep('10.0.0.1', true)], null)],
    { ready: [], starting: [], terminating: [] },
  ],
  [
    'FQDN slices are skipped',
    [slice([ep('a.example', true)], 80, 'FQDN')],
    { ready: [], starting: [], terminating: [] },
  ],
  [
    'IPv6 addresses are bracketed',
    [slice([ep('fd00::1', true)], 80, 'IPv6')],
    { ready: ['[fd00::1]:80'], starting: [], terminating: [] },
  ],
];

describe('revisionEndpoints', () => {
  it.each(cases)('%s', (_name, slices, want) => {
    expect(revisionEndpoints(slices)).toEqual(want);
  });
});

describe('sliceRevisionKey', () => {
  it('is namespace/revision from the label, or undefined without it', () => {
    expect(sliceRevisionKey(slice([]))).toBe('ns/hello-00001');
    expect(
      sliceRevisionKey({ addressType: 'IPv4', endpoints: [], metadata: { namespace: 'ns' } }),
    ).toBeUndefined();
  });
});
