// `npm run bench:gateway-pass`: what it costs when a gateway replica owns no pod of a revision and
// passes its requests to the replica that does (docs/dataplane.md, "Several gateway replicas").
// No cluster: two replicas of the gateway's request path in this process, one hello-world app in a
// child process as the revision's one pod (containerConcurrency 1,000, so nothing queues), and
// the same closed-loop load sent to the app itself, to the replica that owns the pod, and to the
// one that passes requests on. Both replicas share this process's thread, so its CPU per request
// counts the pass's two hops. REQUESTS (default 20,000) over CONNECTIONS (default 16).
import { startHelloApp } from './hello-app.ts';
import { runLoad, type LoadResult } from './http-load.ts';
import { gatewayReplicas, HOST } from '../src/gateway/testing/loopback-gateway.ts';

const REQUESTS = Number(process.env.REQUESTS ?? '20000');
const CONNECTIONS = Number(process.env.CONNECTIONS ?? '16');

function say(message: string): void {
  process.stdout.write(`[bench:gateway-pass] ${message}\n`);
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted.length === 0
    ? NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
}

async function measure(port: number): Promise<{ result: LoadResult; cpuUs: number }> {
  const target = { address: '127.0.0.1', port, host: HOST, path: '/' };
  const shape = { kind: 'closed', connections: CONNECTIONS } as const;
  await runLoad({ target, shape, durationMs: 3_000, maxRequests: 3_000, timeoutMs: 5_000, workers: 1 });
  const before = process.threadCpuUsage();
  const result = await runLoad({
    target,
    shape,
    durationMs: 120_000,
    maxRequests: REQUESTS,
    timeoutMs: 10_000,
    workers: 1,
  });
  const cpu = process.threadCpuUsage(before);
  return { result, cpuUs: (cpu.user + cpu.system) / Math.max(1, result.ok) };
}

const app = await startHelloApp();
const pod = `127.0.0.1:${String(app.port)}`;
const replicas = await gatewayReplicas(2, {
  settings: { containerConcurrency: 1000 },
  pods: [pod],
  queueDepth: 10_000,
});
const owner = replicas.find((r) => r.backend.readyPods === 1);
const passer = replicas.find((r) => r.backend.readyPods === 0);
if (owner === undefined || passer === undefined) throw new Error('expected one replica to own the pod');

const rows: [string, number][] = [
  ['the app itself', app.port],
  ['the replica that owns the pod', owner.port],
  ['a replica that passes to the owner', passer.port],
];
say(
  `${String(REQUESTS)} requests per target over ${String(CONNECTIONS)} keep-alive connections, closed loop`,
);
for (const [name, port] of rows) {
  const { result, cpuUs } = await measure(port);
  say(
    `${name}: ${result.throughput.toFixed(0)} req/s, p50 ${quantile(result.latencyMs, 0.5).toFixed(2)} ms, ` +
      `p99 ${quantile(result.latencyMs, 0.99).toFixed(2)} ms, this process's thread ${cpuUs.toFixed(1)} µs/request, ` +
      `${String(result.sent - result.ok)} failed`,
  );
}
for (const r of replicas) await r.close();
app.stop();
