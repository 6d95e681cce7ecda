// What a benchmark run cost the cluster as a whole, not only ebb: the API server's write requests
// (its `apiserver_request_total`, any cluster) and, when the cluster runs on this machine (the
// local cluster), the CPU time of the machine and of each control-plane and ebb process from /proc.
// Snapshots before and after a run give the cost per created object.
import type { KubeConfig } from '@kubernetes/client-node';
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:https';

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const TICKS_PER_SECOND = 100;
const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Processes worth naming, by a fragment of their command line. */
const PROCESSES: [string, string][] = [
  ['kube-apiserver', '/kube-apiserver '],
  ['etcd', '/etcd '],
  ['kube-controller-manager', '/kube-controller-manager '],
  ['ebb controller', 'ebb.js controller'],
  ['ebb autoscaler', 'ebb.js autoscaler'],
  ['ebb gateway', 'ebb.js gateway'],
  ['ebb webhook', 'ebb.js webhook'],
  ['kube-scheduler', '/kube-scheduler '],
  ['kube-proxy', '/kube-proxy '],
  ['coredns', '/coredns '],
  ['kubelet', '/kubelet '],
  ['containerd', '/containerd '],
];

export interface CostSnapshot {
  /** Write requests by `VERB resource[.group][/subresource]`, as the API server counts them. */
  writes: Map<string, number>;
  /** Busy CPU seconds of the whole machine; undefined when the API server is not on this machine. */
  machineCpuSeconds: number | undefined;
  /** CPU seconds by process name, summed over processes of the same name (e.g. two controllers). */
  processCpuSeconds: Map<string, number>;
}

export interface CostPerObject {
  writes: number;
  /** Writes by `VERB resource[.group][/subresource]`, e.g. `POST events` → 3. */
  writesBy: Record<string, number>;
  /** Status writes by resource, e.g. `services` → 1. */
  statusWrites: Record<string, number>;
  machineCpuMs: number | undefined;
  processCpuMs: Record<string, number>;
}

/** Write requests by verb and resource from a Prometheus text exposition of the API server's metrics. */
export function apiWrites(metricsText: string): Map<string, number> {
  const writes = new Map<string, number>();
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const m = /^apiserver_request_total\{(.*)\}\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    if (!WRITE_VERBS.has(labels.verb ?? '')) continue;
    const resource = labels.group ? `${labels.resource ?? ''}.${labels.group}` : (labels.resource ?? '');
    const key = `${labels.verb ?? ''} ${resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    writes.set(key, (writes.get(key) ?? 0) + Number(m[2]));
  }
  return writes;
}

/** Busy CPU seconds from /proc/stat's first line (all but idle and iowait). */
export function busySeconds(procStat: string): number {
  const fields = (procStat.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
  return (user + nice + system + irq + softirq) / TICKS_PER_SECOND;
}

/** The difference of two snapshots, divided by the number of objects the run created. */
export function costPerObject(before: CostSnapshot, after: CostSnapshot, count: number): CostPerObject {
  let writes = 0;
  const writesBy: Record<string, number> = {};
  const statusWrites: Record<string, number> = {};
  for (const [key, n] of after.writes) {
    const delta = n - (before.writes.get(key) ?? 0);
    if (delta <= 0) continue;
    writes += delta;
    writesBy[key] = delta / count;
    if (key.endsWith('/status')) {
      const resource = (key.split(' ')[1] ?? '').slice(0, -'/status'.length).split('.')[0] ?? '';
      statusWrites[resource] = (statusWrites[resource] ?? 0) + delta / count;
    }
  }
  const processCpuMs: Record<string, number> = {};
  for (const [name, seconds] of after.processCpuSeconds) {
    processCpuMs[name] = ((seconds - (before.processCpuSeconds.get(name) ?? 0)) * 1000) / count;
  }
  const machineCpuMs =
    before.machineCpuSeconds === undefined || after.machineCpuSeconds === undefined
      ? undefined
      : ((after.machineCpuSeconds - before.machineCpuSeconds) * 1000) / count;
  return { writes: writes / count, writesBy, statusWrites, machineCpuMs, processCpuMs };
}

async function processCpu(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      const name = PROCESSES.find(([, fragment]) => cmdline.includes(fragment))?.[0];
      if (name === undefined) continue;
      // Fields after the command name in parentheses; utime and stime are the 14th and 15th.
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(rest[11]) + Number(rest[12]);
      out.set(name, (out.get(name) ?? 0) + ticks / TICKS_PER_SECOND);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return out;
}

function getRaw(kc: KubeConfig, path: string): Promise<string> {
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined) return Promise.reject(new Error('the kubeconfig names no cluster'));
  const url = new URL(path, server);
  return (async () => {
    const options: Parameters<typeof request>[1] = { method: 'GET', headers: {} };
    await kc.applyToHTTPSOptions(options);
    return await new Promise<string>((resolve, reject) => {
      const req = request(url, options, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300) reject(new Error(`GET ${path}: HTTP ${String(res.statusCode)}`));
          else resolve(body);
        });
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)));
      req.end();
    });
  })();
}

export async function costSnapshot(kc: KubeConfig): Promise<CostSnapshot> {
  const [metrics, processCpuSeconds] = await Promise.all([getRaw(kc, '/metrics'), processCpu()]);
  const local = processCpuSeconds.has('kube-apiserver');
  const machineCpuSeconds = local ? busySeconds(await readFile('/proc/stat', 'utf8')) : undefined;
  return { writes: apiWrites(metrics), machineCpuSeconds, processCpuSeconds };
}
