// Golden vectors of Knative's TestComputeActivatorNum (total value 100, capacity 100).
import { describe, expect, it } from '@jest/globals';
import { numActivators } from './activators.ts';

describe('numActivators', () => {
  it.each([
    ['no pods: the minimum', 0, 200, 2],
    ['one pod plus burst capacity', 1, 200, 3],
    ['TBC 0: the minimum, however many pods', 100, 0, 2],
    ['unlimited TBC: pod capacity only', 5, -1, 5],
    ['many pods plus burst capacity', 15, 200, 17],
    ['partial capacity rounds up', 1, 1, 2],
    ['just over three replicas', 3, 1, 4],
  ])('%s', (_name, readyPods, targetBurstCapacity, want) => {
    expect(numActivators({ readyPods, totalValue: 100, targetBurstCapacity, activatorCapacity: 100 })).toBe(
      want,
    );
  });
});
