// KubeConfig with connection reuse. @kubernetes/client-node 2.0.1 builds a new undici dispatcher,
// so a new TCP connection and TLS handshake, for every API call: under load a controller spends
// most of its CPU in handshakes. Caching the dispatcher per cluster and credentials lets calls
// share keep-alive connections; tokens still travel per request, so rotation is unaffected.
import { KubeConfig, type Cluster } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';

interface DispatcherOptions {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  servername?: string;
  rejectUnauthorized?: boolean;
}

type CreateDispatcher = (cluster: Cluster | null, options: DispatcherOptions) => unknown;

function digest(value: Buffer | string | undefined): string {
  return value === undefined ? '' : createHash('sha256').update(value).digest('hex');
}

/** Makes `kc` reuse one dispatcher (connection pool) per cluster and credentials. */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher?: CreateDispatcher };
  const original = target.createDispatcher;
  if (typeof original !== 'function') return kc; // a client-node that no longer needs this
  const create = original.bind(kc);
  const cache = new Map<string, unknown>();
  target.createDispatcher = (cluster, options) => {
    const key = [
      cluster?.server ?? '',
      digest(options.ca),
      digest(options.cert),
      digest(options.key),
      options.servername ?? '',
      String(options.rejectUnauthorized),
    ].join('|');
    let dispatcher = cache.get(key);
    if (dispatcher === undefined) {
      dispatcher = create(cluster, options);
      cache.set(key, dispatcher);
    }
    return dispatcher;
  };
  return kc;
}

/** KUBECONFIG, ~/.kube/config or the in-cluster service account, with connection reuse. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return reuseConnections(kc);
}
