// Table tests of child naming against knative.dev/pkg kmeta.ChildName's golden vectors.
import { describe, expect, it } from '@jest/globals';
import { childName, deploymentName, podAutoscalerName } from './names.ts';

describe('childName', () => {
  const cases: [string, string, string][] = [
    ['asdf', '-deployment', 'asdf-deployment'],
    ['f'.repeat(63), '-deployment', 'ffffffffffffffffffff105d7597f637e83cc711605ac3ea4957-deployment'],
    ['f'.repeat(63), '-deploy', 'ffffffffffffffffffffffff105d7597f637e83cc711605ac3ea4957-deploy'],
    ['f'.repeat(63), 'f'.repeat(63), 'fffffffffffffffffffffffffffffff0502661254f13c89973cb3a83e0cbec0'],
    ['a', 'f'.repeat(63), 'ab5cfd486935decbc0d305799f4ce4414ffffffffffffffffffffffffffffff'],
    ['b'.repeat(32), 'f'.repeat(32), 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb329c7c81b9ab3ba71aa139066aa5625d'],
    ['aaaa', 'b---a'.repeat(20), 'aaaa7a3f7966594e3f0849720eced8212c18b---ab---ab---ab---ab---ab'],
    [
      'a'.repeat(17),
      'a.-.-.-.-.-.-.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      'aaaaaaaaaaaaaaaaaa1eb10dc911444f8434af83b7225442da',
    ],
    // Exactly 63 characters is still plain concatenation.
    ['h'.repeat(57), '-00001', `${'h'.repeat(57)}-00001`],
  ];
  it.each(cases)('childName(%j, %j)', (parent, suffix, want) => {
    const got = childName(parent, suffix);
    expect(got).toBe(want);
    expect(got.length).toBeLessThanOrEqual(63);
  });
});

describe('revision child names', () => {
  const cases: [string, string, string][] = [
    ['hello-00001', 'hello-00001-deployment', 'hello-00001'],
    // 60 + "-deployment" is too long: the name is cut and the parent's MD5 spliced in.
    ['r'.repeat(60), 'rrrrrrrrrrrrrrrrrrrrfc58ac6720764672e18f97efd7ef704e-deployment', 'r'.repeat(60)],
  ];
  it.each(cases)('revision %s', (name, deployment, pa) => {
    const rev = { metadata: { name } };
    expect(deploymentName(rev)).toBe(deployment);
    expect(podAutoscalerName(rev)).toBe(pa);
  });
});
