// KubeConfig with connection reuse. @kubernetes/client-node 2.0.1 builds a new undici dispatcher,
// so a new TCP connection and TLS handshake, for every API call: under load a controller spends
// most of its CPU in handshakes. Caching the dispatcher per cluster and credentials lets calls
// share keep-alive connections; tokens still travel per request, so rotation is unaffected.
//
// client-node also gives API calls no deadline: a pooled connection whose peer vanished (an API
// server restarted behind a Service IP, a NAT entry dropped) leaves a call waiting for undici's
// 300 s header timeout, or longer for a body. client-go finds such connections with HTTP/2 pings;
// here every unary call gets a deadline instead, and an aborted call takes its connection with it.
import { KubeConfig, Observable, type Cluster, type ConfigurationOptions } from '@kubernetes/client-node';
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

/**
 * How long one API call (not a watch or a log stream) may take from sending to its last byte.
 * The API server's own limit for a request is 60 s; a list of thousands of objects takes a
 * second or two.
 */
export const API_REQUEST_TIMEOUT_MS = 30_000;

interface SignalContext {
  getSignal(): AbortSignal | undefined;
  setSignal(signal: AbortSignal): void;
}

type ApplyAuthentication = (context: SignalContext) => Promise<void>;

/**
 * Gives every API call made through `kc` a deadline of `timeoutMs` unless it carries its own
 * signal. Watches and log streams pass their own AbortController to fetch and are unaffected.
 */
export function limitRequestTime(kc: KubeConfig, timeoutMs = API_REQUEST_TIMEOUT_MS): KubeConfig {
  const target = kc as unknown as { applySecurityAuthentication?: ApplyAuthentication };
  const original = target.applySecurityAuthentication;
  if (typeof original !== 'function') return kc;
  const apply = original.bind(kc);
  target.applySecurityAuthentication = async (context) => {
    await apply(context);
    if (typeof context.getSignal === 'function' && context.getSignal() === undefined)
      context.setSignal(AbortSignal.timeout(timeoutMs));
  };
  return kc;
}

/**
 * Options for one API call that abort it after `ms`, replacing whatever deadline the KubeConfig
 * gives it (e.g. a Lease renewal, which must fail well before the lease runs out).
 */
export function withDeadline(ms: number, options?: ConfigurationOptions): ConfigurationOptions {
  return {
    ...options,
    middleware: [
      ...(options?.middleware ?? []),
      {
        pre: (context) => {
          context.setSignal(AbortSignal.timeout(ms));
          return new Observable(Promise.resolve(context));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/**
 * KUBECONFIG, ~/.kube/config or the in-cluster service account, with connection reuse and a
 * deadline on every API call.
 */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return limitRequestTime(reuseConnections(kc));
}
