import { describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { reuseConnections } from './kubeconfig.ts';

function config(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: false }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

type Create = (cluster: unknown, options: object) => unknown;
const create = (kc: KubeConfig): Create => (kc as unknown as { createDispatcher: Create }).createDispatcher;

describe('reuseConnections', () => {
  it('client-node alone builds a new dispatcher per call (the problem)', () => {
    const kc = config('https://10.0.0.1:6443');
    const cluster = kc.getCurrentCluster();
    const options = { ca: Buffer.from('ca') };
    const first = create(kc).call(kc, cluster, options);
    expect(first).toBeDefined();
    expect(create(kc).call(kc, cluster, options)).not.toBe(first);
  });

  it('shares one dispatcher per cluster and credentials', () => {
    const kc = reuseConnections(config('https://10.0.0.1:6443'));
    const cluster = kc.getCurrentCluster();
    const first = create(kc)(cluster, { ca: Buffer.from('ca') });
    expect(first).toBeDefined();
    expect(create(kc)(cluster, { ca: Buffer.from('ca') })).toBe(first);
    expect(create(kc)(cluster, { ca: Buffer.from('other ca') })).not.toBe(first);
  });
});
