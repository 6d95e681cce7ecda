// `npm run bench:gateway-alloc`: how many bytes the gateway's request path allocates per proxied
// request, and where. The allocation rate sets how often V8 stops the gateway for a scavenge, and
// those pauses are what the p99 at 1,000 req/s lands on (docs/benchmarks.md). No cluster: the
// gateway's own request path (src/gateway/testing/loopback-gateway.ts) runs in this process in front of
// a hello-world app in a child process, loaded by http-load's worker threads (their allocations
// are their own isolates', not counted). V8's sampling heap profiler, keeping the samples of
// objects that minor and major GCs already collected, attributes the bytes to functions.
//
// Allocation counts do not depend on what else the machine is doing, unlike timings. A first run
// of the same load, without the heap profiler, reports the CPU of the gateway's thread per request;
// that figure does depend on the rest of the machine (it varied by ±15 % between runs of the same
// code here), so compare it only over several runs.
// REQUESTS (default 40,000), CONNECTIONS (default 16), FAST=0 for node:http alone, OUT=file writes
// the JSON, CPU_PROFILE=file a V8 CPU profile of the first run.
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { HOST, loopbackGateway } from '../src/gateway/testing/loopback-gateway.ts';
import { startHelloApp } from './hello-app.ts';
import { runLoad, type LoadSpec } from './http-load.ts';

const REQUESTS = Number(process.env.REQUESTS ?? '40000');
const CONNECTIONS = Number(process.env.CONNECTIONS ?? '16');
/** FAST=0: node:http alone, as the gateway served every request before its fast path. */
const FAST = process.env.FAST !== '0';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

function say(message: string): void {
  process.stdout.write(`[bench:gateway-alloc] ${message}\n`);
}

async function gateway(appPort: number): Promise<{ port: number; close: () => Promise<void> }> {
  const gw = await loopbackGateway({ pods: [`127.0.0.1:${appPort}`], queueDepth: 10_000 });
  // As the gateway does every second for the autoscaler.
  const stats = setInterval(() => gw.reporter.reportAt(Date.now()), 1000);
  // FAST=0: node:http's server, which the fast path hands connections to, listens itself.
  const fallback = gw.fast.options.fallback;
  if (!FAST) await new Promise<void>((resolve) => fallback.listen(0, '127.0.0.1', resolve));
  return {
    port: FAST ? gw.port : (fallback.address() as AddressInfo).port,
    close: async () => {
      clearInterval(stats);
      await gw.close();
    },
  };
}

/** Bytes allocated by each function (self), keyed `function (file:line)`. */
function bySite(root: ProfileNode): Map<string, number> {
  const sites = new Map<string, number>();
  const walk = (node: ProfileNode): void => {
    if (node.selfSize > 0) {
      const { functionName, url, lineNumber } = node.callFrame;
      const file = url.replace(/^(file:\/\/)?\/.*?\/(src|bench|node_modules)\//, '$2/');
      const key = `${functionName || '(anonymous)'} (${file || '(native)'}:${lineNumber + 1})`;
      sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child);
  };
  walk(root);
  return sites;
}

function owner(site: string): 'ebb' | 'node' | 'library' {
  if (site.includes('(src/')) return 'ebb';
  if (site.includes('(node_modules/')) return 'library';
  return 'node';
}

const app = await startHelloApp();
const gw = await gateway(app.port);
const port = gw.port;
const target = { address: '127.0.0.1', port, host: HOST, path: '/' };

// Warm up: connections, JIT, pools.
await runLoad({
  target,
  shape: { kind: 'closed', connections: CONNECTIONS },
  durationMs: 5_000,
  maxRequests: 5_000,
  timeoutMs: 5_000,
  workers: 1,
});

// CPU of the gateway's own thread per request, with no heap profiler attached. The load generator
// runs in a worker thread and the app in another process, so neither is counted. CPU_PROFILE=file
// writes a V8 CPU profile of this phase (the profiler's own cost then counts too).
/** The same load for both runs: REQUESTS over CONNECTIONS keep-alive connections, closed loop. */
const load: LoadSpec = {
  target,
  shape: { kind: 'closed', connections: CONNECTIONS },
  durationMs: 120_000,
  maxRequests: REQUESTS,
  timeoutMs: 10_000,
  workers: 1,
};
const session = new Session();
session.connect();
if (process.env.CPU_PROFILE !== undefined) {
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const cpuBefore = process.threadCpuUsage();
const timed = await runLoad(load);
const cpu = process.threadCpuUsage(cpuBefore);
if (process.env.CPU_PROFILE !== undefined) {
  const { profile: cpuProfile } = await session.post('Profiler.stop');
  await writeFile(process.env.CPU_PROFILE, JSON.stringify(cpuProfile));
}
const cpuPerRequest = (cpu.user + cpu.system) / Math.max(1, timed.ok);

const scavenges = { count: 0 };
const gcs = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    // detail.kind 1 is a minor GC (a scavenge).
    if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === 1) {
      scavenges.count++;
    }
  }
});
gcs.observe({ entryTypes: ['gc'] });
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 256,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
const result = await runLoad(load);
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as {
  profile: { head: ProfileNode };
};
session.disconnect();
gcs.disconnect();
await gw.close();
app.stop();

const failed = result.sent - result.ok + (timed.sent - timed.ok);
const sites = [...bySite(profile.head)].sort((a, b) => b[1] - a[1]);
const total = sites.reduce((sum, [, bytes]) => sum + bytes, 0);
const perRequest = total / Math.max(1, result.ok);
const shares = { ebb: 0, node: 0, library: 0 };
for (const [site, bytes] of sites) shares[owner(site)] += bytes;

say(`${String(result.ok)} requests proxied (${String(failed)} failed), ${String(CONNECTIONS)} connections`);
say(
  `gateway thread CPU per request: ${cpuPerRequest.toFixed(1)} µs (user ${(cpu.user / Math.max(1, timed.ok)).toFixed(1)}, system ${(cpu.system / Math.max(1, timed.ok)).toFixed(1)}; ${String(timed.ok)} requests, no profiler)`,
);
say(`allocated per request: ${(perRequest / 1024).toFixed(1)} KiB (sampled)`);
for (const [who, bytes] of Object.entries(shares))
  say(
    `  ${who}: ${(bytes / Math.max(1, result.ok) / 1024).toFixed(1)} KiB (${((100 * bytes) / total).toFixed(0)} %)`,
  );
// The profiler keeps a record of every sampled object, so the pauses it sees are far longer than
// the gateway's own; only their number means something here.
say(
  `scavenges: ${String(scavenges.count)}, one per ${(result.ok / Math.max(1, scavenges.count)).toFixed(0)} requests`,
);
say('top allocation sites (bytes per request):');
for (const [site, bytes] of sites.slice(0, 25))
  say(`  ${(bytes / Math.max(1, result.ok)).toFixed(0).padStart(7)}  ${site}`);

if (process.env.OUT !== undefined) {
  await writeFile(
    process.env.OUT,
    `${JSON.stringify(
      {
        bench: 'gateway-alloc',
        node: process.version,
        requests: result.ok,
        failed,
        connections: CONNECTIONS,
        bytesPerRequest: Math.round(perRequest),
        cpuMicrosPerRequest: Number(cpuPerRequest.toFixed(1)),
        shares: Object.fromEntries(
          Object.entries(shares).map(([k, v]) => [k, Math.round(v / Math.max(1, result.ok))]),
        ),
        scavenges: scavenges.count,
        sites: sites
          .slice(0, 50)
          .map(([site, bytes]) => ({ site, bytesPerRequest: Math.round(bytes / Math.max(1, result.ok)) })),
      },
      null,
      2,
    )}\n`,
  );
}
process.exitCode = failed === 0 ? 0 : 1;
