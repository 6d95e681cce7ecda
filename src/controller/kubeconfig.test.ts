import { describe, expect, it } from '@jest/globals';
import { CoreV1Api, KubeConfig, RequestContext, HttpMethod } from '@kubernetes/client-node';
import { createServer, type Socket } from 'node:net';
import { limitRequestTime, reuseConnections } from './kubeconfig.ts';

function config(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node refuses plain HTTP unless TLS verification is off.
    clusters: [{ name: 'c', server, skipTLSVerify: server.startsWith('http:') }],
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

describe('limitRequestTime', () => {
  it('gives a call without a signal a deadline and leaves a caller-provided signal alone', async () => {
    const kc = limitRequestTime(config('https://10.0.0.1:6443'), 60_000);
    const bare = new RequestContext('https://10.0.0.1:6443/api/v1/namespaces', HttpMethod.GET);
    await kc.applySecurityAuthentication(bare);
    const deadline = bare.getSignal();
    expect(deadline).toBeInstanceOf(AbortSignal);
    expect(deadline?.aborted).toBe(false);

    const own = new AbortController().signal;
    const signalled = new RequestContext('https://10.0.0.1:6443/api/v1/namespaces', HttpMethod.GET);
    signalled.setSignal(own);
    await kc.applySecurityAuthentication(signalled);
    expect(signalled.getSignal()).toBe(own);
  });

  it('ends a call whose connection never answers, and the next call opens a new connection', async () => {
    // A peer that accepts and then says nothing, as a connection to a vanished API server does.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const kc = limitRequestTime(reuseConnections(config(`http://127.0.0.1:${port}`)), 100);
      const core = kc.makeApiClient(CoreV1Api);
      await expect(core.listNamespace()).rejects.toMatchObject({ name: 'TimeoutError' });
      await expect(core.listNamespace()).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(sockets).toHaveLength(2);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
