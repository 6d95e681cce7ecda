import { describe, expect, it } from '@jest/globals';
import { BRIDGE_IP, MAX_NODES, nodeLayout, parseNodeCount, POD_CIDR } from './topology.ts';

describe('nodeLayout', () => {
  it('puts node 1 at the bridge address and each further node on its own address, ports and range', () => {
    const first = nodeLayout(1);
    const second = nodeLayout(2);
    expect(first).toMatchObject({
      name: 'ebb-node',
      ip: BRIDGE_IP,
      podRange: { start: '10.244.16.1', end: '10.244.31.254' },
      cgroup: '/ebb/ebb-node',
    });
    expect(second).toMatchObject({
      name: 'ebb-node-2',
      ip: '10.244.0.2',
      podRange: { start: '10.244.32.1', end: '10.244.47.254' },
      cgroup: '/ebb/ebb-node-2',
    });
    expect(second.healthzPort).not.toBe(first.healthzPort);
  });

  it('keeps every node range inside the pod CIDR and apart from the others', () => {
    expect(POD_CIDR).toBe('10.244.0.0/16');
    const thirds = Array.from({ length: MAX_NODES }, (_, i) => {
      const { start, end } = nodeLayout(i + 1).podRange;
      return [Number(start.split('.')[2]), Number(end.split('.')[2])] as const;
    });
    for (const [i, [low, high]] of thirds.entries()) {
      expect(low).toBeGreaterThan(0); // 10.244.0.0/24 holds the nodes' own addresses
      expect(high).toBeLessThan(256);
      const next = thirds[i + 1];
      if (next !== undefined) expect(next[0]).toBeGreaterThan(high);
    }
  });

  it('refuses a node index out of range with the range in the message', () => {
    expect(() => nodeLayout(0)).toThrow(`1 to ${MAX_NODES}`);
    expect(() => nodeLayout(MAX_NODES + 1)).toThrow(`1 to ${MAX_NODES}`);
  });
});

describe('parseNodeCount', () => {
  it('reads --nodes N and --nodes=N, and defaults to one node', () => {
    expect(parseNodeCount([])).toBe(1);
    expect(parseNodeCount(['--nodes', '2'])).toBe(2);
    expect(parseNodeCount(['--nodes=3'])).toBe(3);
  });

  it('names the flag and the allowed range for a bad count', () => {
    for (const bad of [
      ['--nodes'],
      ['--nodes', 'two'],
      ['--nodes=0'],
      [`--nodes=${MAX_NODES + 1}`],
      ['--nodes=1.5'],
    ])
      expect(() => parseNodeCount(bad)).toThrow(`give a whole number from 1 to ${MAX_NODES}`);
  });
});
