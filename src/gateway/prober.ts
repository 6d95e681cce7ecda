// Probes pods that the EndpointSlices list as not yet ready, every PROBE_PERIOD_MS, so that a
// cold start is forwarded the moment the app listens instead of after the kubelet's next readiness
// probe and the EndpointSlice update that follows it. The probe is the Revision's own readiness
// check: a TCP connect by default, or its httpGet path (2xx/3xx). A pod passes once; after that the
// EndpointSlices are the authority again (a pod that turns unready there is dropped).
import { connect } from 'node:net';
import { request } from 'node:http';
import { splitAddress } from './endpoints.ts';

export const PROBE_PERIOD_MS = 25;
const PROBE_TIMEOUT_MS = 300;

/** What to check on a starting pod. */
export type ProbeSpec = { kind: 'tcp' } | { kind: 'http'; path: string; port?: number };

export function probeOnce(address: string, spec: ProbeSpec, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve) => {
    if (spec.kind === 'tcp') {
      const socket = connect({ host, port });
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(timeoutMs, () => {
        done(false);
      });
      socket.once('connect', () => {
        done(true);
      });
      socket.once('error', () => {
        done(false);
      });
      return;
    }
    const req = request(
      {
        host,
        port: spec.port ?? port,
        path: spec.path,
        method: 'GET',
        timeout: timeoutMs,
        agent: false,
        headers: { 'user-agent': 'ebb-gateway-probe', 'k-network-probe': 'queue' },
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      resolve(false);
    });
    req.end();
  });
}

/** Keeps probing the given addresses until each passes (then `onReady`) or is withdrawn. */
export class StartingPodProber {
  private readonly active = new Map<string, { spec: ProbeSpec; timer?: NodeJS.Timeout; inFlight: boolean }>();
  private readonly onReady: (address: string) => void;
  private readonly probe: (address: string, spec: ProbeSpec) => Promise<boolean>;

  constructor(onReady: (address: string) => void, probe = probeOnce) {
    this.onReady = onReady;
    this.probe = probe;
  }

  /** Probes exactly these addresses from now on. */
  set(addresses: Iterable<string>, spec: ProbeSpec): void {
    const want = new Set(addresses);
    for (const address of [...this.active.keys()]) if (!want.has(address)) this.withdraw(address);
    for (const address of want) {
      const entry = this.active.get(address);
      if (entry !== undefined) {
        entry.spec = spec;
        continue;
      }
      this.active.set(address, { spec, inFlight: false });
      this.tick(address);
    }
  }

  stop(): void {
    for (const address of [...this.active.keys()]) this.withdraw(address);
  }

  get size(): number {
    return this.active.size;
  }

  private withdraw(address: string): void {
    const entry = this.active.get(address);
    if (entry?.timer !== undefined) clearTimeout(entry.timer);
    this.active.delete(address);
  }

  private tick(address: string): void {
    const entry = this.active.get(address);
    if (entry === undefined || entry.inFlight) return;
    entry.inFlight = true;
    void this.probe(address, entry.spec).then((ok) => {
      entry.inFlight = false;
      if (this.active.get(address) !== entry) return;
      if (ok) {
        this.active.delete(address);
        this.onReady(address);
        return;
      }
      entry.timer = setTimeout(() => {
        this.tick(address);
      }, PROBE_PERIOD_MS);
      entry.timer.unref();
    });
  }
}
