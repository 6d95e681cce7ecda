// Table tests of subsetting: this gateway's index, the pod slice each replica takes (with
// remnants, fewer pods than replicas, and the cases that take everything), and breaker capacity.
import { describe, expect, it } from '@jest/globals';
import { assignPods, gatewayIndex, revisionCapacity, type CapacityInput } from './subsetting.ts';

describe('gatewayIndex', () => {
  it.each([
    ['sorted position', '10.0.0.7', ['10.0.0.9', '10.0.0.7', '10.0.0.1'], 1],
    ['string order, as Knative sorts', '10.0.0.10', ['10.0.0.9', '10.0.0.10'], 0],
    ['duplicates count once', '10.0.0.9', ['10.0.0.1', '10.0.0.1', '10.0.0.9'], 1],
    ['not among the gateways', '10.0.0.5', ['10.0.0.1'], -1],
    ['no gateways', '10.0.0.5', [], -1],
  ])('%s', (_name, self, ips, expected) => {
    expect(gatewayIndex(self, ips)).toBe(expected);
  });
});

/** p00..p(n-1), zero-padded so string order is numeric order. */
const pods = (n: number) => Array.from({ length: n }, (_, i) => `p${String(i).padStart(2, '0')}`);

describe('assignPods', () => {
  const cases: [string, number, number, number, number, string[]][] = [
    ['even split', 6, 1, 3, 10, ['p02', 'p03']],
    ['remnant goes to a low index', 8, 0, 3, 10, ['p00', 'p01', 'p06']],
    ['second remnant', 8, 1, 3, 10, ['p02', 'p03', 'p07']],
    ['no remnant for a high index', 8, 2, 3, 10, ['p04', 'p05']],
    ['fewer pods than gateways: i mod n', 2, 3, 5, 1, ['p01']],
    ['fewer pods than gateways: wraps', 3, 4, 5, 1, ['p01']],
    ['a single pod serves every gateway', 1, 2, 3, 1, ['p00']],
    ['a single gateway takes all', 4, 0, 1, 1, pods(4)],
    ['not yet a gateway endpoint: all', 4, -1, 3, 1, pods(4)],
    ['containerConcurrency 0: all', 4, 1, 3, 0, pods(4)],
    ['no pods', 0, 1, 3, 1, []],
  ];
  it.each(cases)('%s', (_name, n, self, gateways, cc, expected) => {
    expect(assignPods(pods(n).reverse(), self, gateways, cc)).toEqual(expected);
  });

  it.each([
    [20, 3],
    [24, 5],
    [7, 7],
    [9, 2],
  ])('%d pods over %d gateways: every pod exactly once', (n, k) => {
    const all = Array.from({ length: k }, (_, i) => assignPods(pods(n), i, k, 1)).flat();
    expect(all.sort()).toEqual(pods(n));
  });
});

describe('revisionCapacity', () => {
  const cases: [string, CapacityInput, number][] = [
    ['pods: cc × assigned', { routing: 'pods', containerConcurrency: 10, assignedPods: 3 }, 30],
    ['pods: none assigned', { routing: 'pods', containerConcurrency: 10, assignedPods: 0 }, 0],
    ['pods: cc 0 with pods', { routing: 'pods', containerConcurrency: 0, assignedPods: 2 }, Infinity],
    ['pods: cc 0 without pods', { routing: 'pods', containerConcurrency: 0, assignedPods: 0 }, 0],
    [
      'cluster-ip: share of cc × backends',
      { routing: 'cluster-ip', containerConcurrency: 10, readyBackends: 3, gatewayCount: 4 },
      7,
    ],
    [
      'cluster-ip: at least 1',
      { routing: 'cluster-ip', containerConcurrency: 1, readyBackends: 1, gatewayCount: 3 },
      1,
    ],
    [
      'cluster-ip: no gateways known counts as one',
      { routing: 'cluster-ip', containerConcurrency: 2, readyBackends: 3, gatewayCount: 0 },
      6,
    ],
    [
      'cluster-ip: no backends',
      { routing: 'cluster-ip', containerConcurrency: 2, readyBackends: 0, gatewayCount: 2 },
      0,
    ],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(revisionCapacity(input)).toBe(expected);
  });
});
