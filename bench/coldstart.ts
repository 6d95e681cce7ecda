// `npm run bench:coldstart`: how long the first request to a revision at zero takes through ebb's
// gateway, and how much of that is the platform rather than the app. COUNT Knative Services
// (dev.local/helloworld) are created with `initial-scale: 0`, so none has a pod, and each gets one
// request in turn, timed from send to the end of the answer. The app's own start (process spawn
// until it accepts a TCP connection) is timed COUNT times outside the cluster, with the image's own
// Node binary and app; platform share = total − app start. Then a burst: BURST concurrent
// requests to one more revision at zero, counting errors and sampling the gateway's memory.
// Each cold start also records whether the gateway's network namespace still held a neighbour (ARP)
// entry for the new pod's IP, left by an earlier pod with that IP: the local cluster reuses pod IPs
// at once, and such an entry black-holes the gateway's packets until the kernel re-resolves it;
// --flush-stale-neighbours deletes those entries first, so the figures show ebb's own cold start.
// Goals: p50 total ≤ 700 ms, platform share ≤ 300 ms, no errors in the burst. Needs the local
// cluster with ebb installed (`npm run deploy`), as root on its host. Borrows config-autoscaler's
// allow-zero-initial-scale and one namespace, and gives both back, also on failure or Ctrl-C.
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { BRIDGE, BRIDGE_IP } from '../e2e/cluster/topology.ts';
import { ANNOTATION } from '../src/apis/autoscaling/register.ts';
import { bridgeAddress, memoryKiB, neighbours, podProcess } from './host-process.ts';
import { accepts, freePort } from './local-port.ts';
import {
  AUTOSCALER_CONFIG,
  BENCH_LABEL,
  borrowAutoscalerConfig,
  componentPods,
  connect,
  createNamespace,
  createService,
  deleteNamespace,
  describe,
  Failure,
  gatewayAddress,
  gatewayWarnings,
  HELLO_IMAGE,
  interruptSignal,
  machine,
  markdownTable,
  percentile,
  revisionPods,
  SYSTEM_NAMESPACE,
  waitReady,
  type Address,
  type Clients,
  type PodIdentity,
  type ReadyService,
} from './serving-fixture.ts';
import { quietStart, type QuietResult } from './quiet.ts';

const run = promisify(execFile);
const ALLOW_ZERO = 'allow-zero-initial-scale';
const GOALS = { totalP50Ms: 700, platformP50Ms: 300, burstErrors: 0 } as const;
const GATEWAY_METRICS_PORT = 9090;

function say(message: string): void {
  process.stderr.write(`[bench:coldstart] ${message}\n`);
}

// ---- Options -------------------------------------------------------------------------------

interface Options {
  count: number;
  burst: number;
  prefix: string;
  out: string | undefined;
  flushStaleNeighbours: boolean;
}

const USAGE = `usage: node bench/coldstart.ts [--count N] [--burst B] [--namespace PREFIX] [--out FILE]
  --count N           cold starts, and app starts timed outside the cluster (COUNT, default 10)
  --burst B           concurrent requests to one revision at zero; 0 skips the burst (BURST, default 1000)
  --namespace PREFIX  namespace prefix; a random suffix is added (NAMESPACE, default bench-coldstart)
  --out FILE          also write the results as JSON to FILE (OUT)
  --flush-stale-neighbours
                      before each cold start and the burst, delete the gateway's neighbour (ARP)
                      entries for pod IPs no pod holds (FLUSH_STALE_NEIGHBOURS=1); see the header`;

function countOption(raw: string, what: string, min: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new Failure(`${what}: expected a whole number of at least ${min}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Flags win over the environment, which wins over the defaults. */
function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        count: { type: 'string' },
        burst: { type: 'string' },
        namespace: { type: 'string' },
        out: { type: 'string' },
        'flush-stale-neighbours': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new Failure(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const str = (flag: string, name: string, fallback: string): string => {
    const v = values[flag];
    return typeof v === 'string' ? v : (env[name] ?? fallback);
  };
  const prefix = str('namespace', 'NAMESPACE', 'bench-coldstart');
  if (!/^[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?$/.test(prefix)) {
    throw new Failure(
      `--namespace / NAMESPACE: expected a DNS label prefix of at most 50 characters, got ${JSON.stringify(prefix)}`,
    );
  }
  const out = str('out', 'OUT', '');
  return {
    count: countOption(str('count', 'COUNT', '10'), '--count / COUNT', 1),
    burst: countOption(str('burst', 'BURST', '1000'), '--burst / BURST', 0),
    prefix,
    out: out === '' ? undefined : out,
    flushStaleNeighbours: values['flush-stale-neighbours'] === true || env.FLUSH_STALE_NEIGHBOURS === '1',
  };
}

// ---- The app's own start -------------------------------------------------------------------

/**
 * Spawns the image's command on the host (the same Node binary and app script) and
 * times until it accepts a TCP connection, polling every 2 ms; `count` times, one at a time.
 */
async function appStarts(count: number): Promise<number[]> {
  // The image's entrypoint: the same Node binary running the same app (e2e/cluster/images/).
  const command = process.execPath;
  const args = [fileURLToPath(new URL('../e2e/images/helloworld.ts', import.meta.url))];
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const started = performance.now();
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port) },
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        resolve();
      }),
    );
    try {
      while (!(await accepts(port))) {
        if (child.exitCode !== null) {
          throw new Failure(`${command} ${args.join(' ')} exited with ${child.exitCode} before listening`);
        }
        if (performance.now() - started > 10_000) {
          throw new Failure(`${command} ${args.join(' ')} did not listen on 127.0.0.1:${port} within 10 s`);
        }
        await sleep(2);
      }
      times.push(performance.now() - started);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }
  return times;
}

// ---- Requests through the gateway ----------------------------------------------------------

interface Answer {
  status: number;
  /** The gateway answered itself (x-ebb-gateway: refused). */
  refused: boolean;
  body: string;
  ms: number;
}

function get(gateway: Address, host: string, agent: Agent | false, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = request(
      { host: gateway.address, port: gateway.port, path: '/', headers: { host }, agent, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            refused: res.headers['x-ebb-gateway'] === 'refused',
            body: body.trim().slice(0, 300),
            ms: performance.now() - started,
          });
        });
        res.on('error', (error) => {
          resolve({ status: 0, refused: false, body: error.message, ms: performance.now() - started });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      resolve({
        status: 0,
        refused: false,
        body: error.code ?? error.message,
        ms: performance.now() - started,
      });
    });
    req.end();
  });
}

/**
 * The first request to a revision at zero. A 404 or 503 made by the gateway before any pod is asked
 * for means the gateway has not yet seen the Route or Revision (a watch event late): it starts no
 * pod, so the request is sent again and timed afresh.
 */
async function coldRequest(
  gateway: Address,
  svc: ReadyService,
  signal: AbortSignal,
): Promise<{ answer: Answer; retries: number }> {
  let retries = 0;
  for (;;) {
    const answer = await get(gateway, svc.host, false, 60_000);
    const notYetKnown =
      answer.refused &&
      (answer.status === 404 || (answer.status === 503 && !answer.body.includes('queue'))) &&
      retries < 50;
    if (!notYetKnown) return { answer, retries };
    retries++;
    await sleep(100, undefined, { signal });
  }
}

/** The webhook reads config-autoscaler through its own watch: wait until it allows initial-scale 0. */
async function webhookAllowsZero(c: Clients, namespace: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      await createService(
        c,
        namespace,
        'dry-run-probe',
        { [ANNOTATION.initialScale[0]]: '0' },
        { dryRun: true },
      );
      return;
    } catch (error) {
      last = describe(error);
      if (!last.includes('initial-scale')) throw new Failure(`a dry-run create of a Service failed: ${last}`);
    }
    await sleep(250, undefined, { signal });
  }
  throw new Failure(`the webhook still rejects initial-scale 0 30 s after ${ALLOW_ZERO} was set: ${last}`);
}

/** Sum and count of the gateway's cold-start histogram for one namespace (its own view of the wait). */
async function gatewayColdStarts(
  pods: PodIdentity[],
  namespace: string,
): Promise<{ sum: number; count: number } | undefined> {
  let sum = 0;
  let count = 0;
  try {
    for (const pod of pods) {
      const response = await fetch(`http://${pod.ip}:${GATEWAY_METRICS_PORT}/metrics`, {
        signal: AbortSignal.timeout(2000),
      });
      const text = await response.text();
      for (const m of text.matchAll(
        /^ebb_gateway_cold_start_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/gm,
      )) {
        if (!(m[2] ?? '').includes(`namespace="${namespace}"`)) continue;
        if (m[1] === 'sum') sum += Number(m[3]);
        else count += Number(m[3]);
      }
    }
  } catch {
    return undefined;
  }
  return { sum, count };
}

// ---- What the gateway's network namespace remembers -----------------------------------------

interface ColdStart {
  name: string;
  /** When the request was sent (ISO time), to find the cold start in the components' logs. */
  sentAt: string;
  /** The pod's IP, read after the answer. */
  ip: string;
  ms: number;
  status: number;
  body: string;
  /** Sent again because the gateway did not know the route yet. */
  resent: number;
  /** Before the request, the gateway's namespace held a neighbour entry for the IP the pod got. */
  staleNeighbour: boolean;
  /** Before the request, the gateway's entry for the bridge (its route to Services) had an old MAC. */
  staleBridge: boolean;
}

/**
 * The pod IPs the gateways' neighbour tables hold, and whether any of them has an outdated MAC for
 * the bridge (a Linux bridge takes the lowest MAC of its ports unless one is set, so it changes as
 * pods come and go).
 */
function gatewayNeighbours(pids: number[]): { pods: Set<string>; bridgeStale: boolean } {
  const pods = new Set<string>();
  const bridge = bridgeAddress(BRIDGE);
  let bridgeStale = false;
  for (const pid of pids) {
    for (const [ip, { mac }] of neighbours(pid)) {
      if (ip === BRIDGE_IP) bridgeStale ||= bridge !== undefined && mac !== bridge;
      else pods.add(ip);
    }
  }
  return { pods, bridgeStale };
}

/**
 * With --flush-stale-neighbours: deletes, in the gateways' network namespaces, the neighbour entries
 * for pod IPs that no pod holds now, and an outdated one for the bridge, so that a cold start
 * measures ebb rather than the local cluster's address reuse. Resolves with how many it deleted.
 */
async function flushStaleNeighbours(c: Clients, pids: number[]): Promise<number> {
  const pods = await c.core.listPodForAllNamespaces();
  const live = new Set(pods.items.map((p) => p.status?.podIP ?? '').filter((ip) => ip !== ''));
  const bridge = bridgeAddress(BRIDGE);
  let deleted = 0;
  for (const pid of pids) {
    for (const [ip, { mac, device }] of neighbours(pid)) {
      const stale = ip === BRIDGE_IP ? bridge !== undefined && mac !== bridge : !live.has(ip);
      if (!stale) continue;
      try {
        await run('nsenter', ['-t', String(pid), '-n', 'ip', 'neigh', 'del', ip, 'dev', device]);
        deleted++;
      } catch (error) {
        throw new Failure(
          `cannot delete the neighbour entry ${ip} in the gateway's (pid ${pid}) namespace: ${describe(error)}`,
        );
      }
    }
  }
  return deleted;
}

function noteOf(s: ColdStart): string {
  const notes = [
    ...(s.staleNeighbour ? ['the gateway held a stale neighbour entry for this IP'] : []),
    ...(s.staleBridge ? ["the gateway's neighbour entry for the bridge was stale"] : []),
    ...(s.resent > 0 ? [`resent ${s.resent} ×: route not yet known to the gateway`] : []),
  ];
  return notes.length === 0 ? '' : ` (${notes.join('; ')})`;
}

// ---- The burst ------------------------------------------------------------------------------

interface Burst {
  requests: number;
  ok: number;
  statuses: Record<string, number>;
  /** A few of the failed answers, as the client saw them. */
  failures: string[];
  latencyMs: number[];
  wallMs: number;
  /** The revision's pods after the burst, with the gateway holding a stale neighbour entry for their IP before. */
  pods: { ip: string; staleNeighbour: boolean }[];
  gatewayRssKiB: { before: number; peak: number; after: number; hwmAfter: number };
}

/** Samples the gateways' resident memory every 20 ms until stopped; resolves with the peak (sum). */
class RssSampler {
  peak = 0;
  private readonly pids: number[];
  private readonly timer: NodeJS.Timeout;

  constructor(pids: number[]) {
    this.pids = pids;
    this.sample();
    this.timer = setInterval(() => {
      this.sample();
    }, 20);
  }

  current(): number {
    return this.pids.reduce((sum, pid) => sum + memoryKiB(pid).rss, 0);
  }

  private sample(): void {
    this.peak = Math.max(this.peak, this.current());
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

async function burst(
  c: Clients,
  gateway: Address,
  svc: ReadyService,
  namespace: string,
  size: number,
  gatewayPids: number[],
): Promise<Burst> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const neighboursBefore = gatewayNeighbours(gatewayPids);
  const sampler = new RssSampler(gatewayPids);
  const before = sampler.current();
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: size }, () => get(gateway, svc.host, agent, 120_000)),
  );
  const wallMs = performance.now() - started;
  await sleep(500); // the gateway frees its buffers after the answers
  const peak = sampler.stop();
  agent.destroy();
  const statuses: Record<string, number> = {};
  const failures: string[] = [];
  for (const a of answers) {
    const key = a.status === 0 ? `error ${a.body}` : String(a.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (a.status !== 200 && failures.length < 3) failures.push(`${a.status || 'no answer'}: ${a.body}`);
  }
  return {
    requests: size,
    ok: answers.filter((a) => a.status === 200).length,
    statuses,
    failures,
    latencyMs: answers
      .filter((a) => a.status === 200)
      .map((a) => a.ms)
      .sort((a, b) => a - b),
    wallMs,
    pods: (await revisionPods(c, namespace, svc.revision)).map((p) => ({
      ip: p.ip,
      staleNeighbour: p.ip !== '' && neighboursBefore.pods.has(p.ip),
    })),
    gatewayRssKiB: {
      before,
      peak,
      after: sampler.current(),
      hwmAfter: gatewayPids.reduce((sum, pid) => sum + memoryKiB(pid).peak, 0),
    },
  };
}

// ---- Report ---------------------------------------------------------------------------------

interface Run {
  starts: ColdStart[];
  appStarts: number[];
  gatewayWait: { sum: number; count: number } | undefined;
  /** Stale neighbour entries deleted with --flush-stale-neighbours. */
  flushed: number;
  burst: Burst | undefined;
  namespace: string;
  gatewayPods: string[];
  warnings: unknown;
  quiet: QuietResult;
}

interface Spread {
  n: number;
  p50: number;
  p90: number;
  min: number;
  max: number;
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: Math.round(percentile(sorted, 50)),
    p90: Math.round(percentile(sorted, 90)),
    min: Math.round(sorted[0] ?? NaN),
    max: Math.round(sorted.at(-1) ?? NaN),
  };
}

function report(options: Options, run: Run): { table: string; json: object } {
  const answered = run.starts.filter((s) => s.status === 200);
  const clean = answered.filter((s) => !s.staleNeighbour && !s.staleBridge);
  const total = spread(answered.map((s) => s.ms));
  const cleanTotal = spread(clean.map((s) => s.ms));
  const app = spread(run.appStarts);
  const platform = { p50: total.p50 - app.p50, p90: total.p90 - app.p90 };
  const cleanPlatform = { p50: cleanTotal.p50 - app.p50, p90: cleanTotal.p90 - app.p90 };
  const failed = run.starts.filter((s) => s.status !== 200);
  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  const mib = (kib: number): number => Math.round(kib / 1024);
  const ms = (f: Spread): string => `p50 ${f.p50} ms, p90 ${f.p90} ms, min ${f.min}, max ${f.max}`;
  const rows: string[][] = [
    [
      `first request at zero, total (${total.n} cold starts)`,
      `p50 ≤ ${GOALS.totalP50Ms} ms`,
      `${ms(total)} (${verdict(total.p50 <= GOALS.totalP50Ms)})`,
    ],
    [
      `  of which onto pod IPs the gateway had no stale entry for (${cleanTotal.n})`,
      `p50 ≤ ${GOALS.totalP50Ms} ms`,
      cleanTotal.n === 0 ? '—' : `${ms(cleanTotal)} (${verdict(cleanTotal.p50 <= GOALS.totalP50Ms)})`,
    ],
    [`app's own start, spawn → accepts TCP (${app.n} runs)`, '—', ms(app)],
    [
      'platform share (total − app start)',
      `p50 ≤ ${GOALS.platformP50Ms} ms`,
      `p50 ${platform.p50} ms, p90 ${platform.p90} ms (${verdict(platform.p50 <= GOALS.platformP50Ms)})`,
    ],
    [
      '  of which onto fresh pod IPs',
      `p50 ≤ ${GOALS.platformP50Ms} ms`,
      cleanTotal.n === 0
        ? '—'
        : `p50 ${cleanPlatform.p50} ms, p90 ${cleanPlatform.p90} ms (${verdict(cleanPlatform.p50 <= GOALS.platformP50Ms)})`,
    ],
  ];
  if (run.gatewayWait !== undefined && run.gatewayWait.count > 0) {
    rows.push([
      "gateway's own cold-start histogram (arrival → forwarded), mean",
      '—',
      `${Math.round((run.gatewayWait.sum / run.gatewayWait.count) * 1000)} ms over ${run.gatewayWait.count}`,
    ]);
    rows.push([
      "  minus the app's start p50: the platform's share by the gateway's clock",
      '—',
      `${Math.round((run.gatewayWait.sum / run.gatewayWait.count) * 1000) - app.p50} ms (mean)`,
    ]);
  }
  if (failed.length > 0) rows.push(['cold starts without a 200', '0', String(failed.length)]);
  if (options.flushStaleNeighbours) {
    rows.push(["stale neighbour entries deleted in the gateway's namespace", '—', String(run.flushed)]);
  }
  const b = run.burst;
  if (b !== undefined) {
    const errors = b.requests - b.ok;
    const stale = b.pods.filter((p) => p.staleNeighbour).length;
    rows.push(
      [
        `burst: ${b.requests} concurrent requests at zero, errors`,
        `${GOALS.burstErrors}`,
        `${errors} (${verdict(errors <= GOALS.burstErrors)}); ${Object.entries(b.statuses)
          .map(([status, n]) => `${n} × ${status}`)
          .join(', ')}`,
      ],
      [
        '  burst latency p50 / p99 / max; all answered after',
        '—',
        `${Math.round(percentile(b.latencyMs, 50))} / ${Math.round(percentile(b.latencyMs, 99))} / ${Math.round(b.latencyMs.at(-1) ?? NaN)} ms; ${Math.round(b.wallMs)} ms; ${b.pods.length} pods (${stale} on IPs with a stale gateway entry)`,
      ],
      [
        '  gateway RSS before / peak (20 ms samples) / after',
        '—',
        `${mib(b.gatewayRssKiB.before)} / ${mib(b.gatewayRssKiB.peak)} / ${mib(b.gatewayRssKiB.after)} MiB (VmHWM since start ${mib(b.gatewayRssKiB.hwmAfter)} MiB)`,
      ],
    );
  }
  const m = machine();
  const table = [
    `Cold-start benchmark: ${HELLO_IMAGE} through the gateway (${run.gatewayPods.join(', ')})`,
    `Machine: ${m.cpus} cores (${m.model}), ${m.memoryGiB} GiB, Node ${m.node}; ${run.quiet.busyCores} cores busy before the first request; load average ${m.loadAverage} at the end; cluster, ebb and the benchmark share the cores`,
    '',
    markdownTable(['figure', 'goal', 'measured'], rows),
    '',
    ...run.starts.map(
      (s) =>
        `  ${s.name}: ${s.status === 200 ? '200' : `HTTP ${s.status || 'none'} (${s.body})`} in ${Math.round(s.ms)} ms, pod ${s.ip || '?'}${noteOf(s)}`,
    ),
    ...(b?.failures ?? []).map((f) => `  failed burst request: ${f}`),
  ].join('\n');
  const json = {
    bench: 'coldstart',
    options,
    machine: { ...m, busyCoresAtStart: run.quiet.busyCores, quietAtStart: run.quiet.quiet },
    namespace: run.namespace,
    gatewayPods: run.gatewayPods,
    coldStarts: run.starts.map((s) => ({ ...s, ms: Math.round(s.ms) })),
    totalMs: total,
    totalOnFreshIpsMs: cleanTotal,
    appStartMs: { ...app, all: run.appStarts.map(Math.round) },
    platformMs: platform,
    platformOnFreshIpsMs: cleanPlatform,
    flushedNeighbourEntries: options.flushStaleNeighbours ? run.flushed : undefined,
    gatewayColdStartMeanMs:
      run.gatewayWait === undefined || run.gatewayWait.count === 0
        ? undefined
        : Math.round((run.gatewayWait.sum / run.gatewayWait.count) * 1000),
    burst:
      b === undefined
        ? undefined
        : {
            ...b,
            latencyMs: {
              p50: Math.round(percentile(b.latencyMs, 50)),
              p99: Math.round(percentile(b.latencyMs, 99)),
              max: Math.round(b.latencyMs.at(-1) ?? NaN),
            },
            wallMs: Math.round(b.wallMs),
          },
    gatewayWarnings: run.warnings,
    goals: {
      ...GOALS,
      met:
        failed.length === 0 &&
        total.p50 <= GOALS.totalP50Ms &&
        platform.p50 <= GOALS.platformP50Ms &&
        (b === undefined || b.requests - b.ok <= GOALS.burstErrors),
    },
  };
  return { table, json };
}

// ---- Main -----------------------------------------------------------------------------------

async function main(options: Options, signal: AbortSignal): Promise<number> {
  const c = connect();
  const gateway = await gatewayAddress(c);
  const gatewayPods = await componentPods(c, 'gateway');
  const gatewayPids = gatewayPods.map((p) => podProcess(p)).filter((pid) => pid !== undefined);
  if (gatewayPids.length === 0 || gatewayPids.length !== gatewayPods.length) {
    throw new Failure(
      `found ${gatewayPids.length} host processes for ${gatewayPods.length} Running gateway pods; the memory and neighbour-table figures need the local cluster's nodes on this host, and root`,
    );
  }
  say(
    `${options.count} cold starts of ${HELLO_IMAGE}, then a burst of ${options.burst} (KUBECONFIG=${c.kubeconfig})`,
  );
  say(`timing the app's own start ${options.count} times outside the cluster`);
  const appStartMs = await appStarts(options.count);

  const startedAt = Date.now();
  let borrowed: Awaited<ReturnType<typeof borrowAutoscalerConfig>> | undefined;
  let namespace: string | undefined;
  let cleanupFailed = false;
  let result: { table: string; json: object } | undefined;
  try {
    borrowed = await borrowAutoscalerConfig(c, { [ALLOW_ZERO]: 'true' });
    if (borrowed !== undefined) say(`set ${ALLOW_ZERO}: "true" in ${SYSTEM_NAMESPACE}/${AUTOSCALER_CONFIG}`);
    namespace = await createNamespace(c, options.prefix, 'coldstart');
    say(`namespace ${namespace}`);
    await webhookAllowsZero(c, namespace, signal);
    const names = Array.from({ length: options.count }, (_, i) => `cold-${String(i).padStart(2, '0')}`);
    if (options.burst > 0) names.push('burst');
    const atZero = { [ANNOTATION.initialScale[0]]: '0' };
    for (const name of names) await createService(c, namespace, name, atZero);
    const ready = await waitReady(c, namespace, names, 120_000 + names.length * 2000, signal);
    // The gateway learns Routes and Revisions from its own watches, a moment after they are Ready.
    await sleep(2000, undefined, { signal });
    const quiet = await quietStart(say, signal);
    const ns = namespace;
    const services = names.map((n) => {
      const svc = ready.get(n);
      if (svc === undefined) throw new Failure(`Service ${ns}/${n} is not Ready`);
      return svc;
    });

    const waitBefore = await gatewayColdStarts(gatewayPods, namespace);
    const starts: ColdStart[] = [];
    let flushed = 0;
    for (const svc of services.filter((s) => s.name !== 'burst')) {
      const pods = await revisionPods(c, namespace, svc.revision);
      if (pods.length > 0) {
        throw new Failure(
          `revision ${namespace}/${svc.revision} has pods (${pods.map((p) => p.name).join(', ')}) before its first request`,
        );
      }
      if (options.flushStaleNeighbours) flushed += await flushStaleNeighbours(c, gatewayPids);
      const before = gatewayNeighbours(gatewayPids);
      const sentAt = new Date().toISOString();
      const { answer, retries } = await coldRequest(gateway, svc, signal);
      const ip = (await revisionPods(c, namespace, svc.revision))[0]?.ip ?? '';
      const start: ColdStart = {
        name: svc.name,
        sentAt,
        ip,
        ms: answer.ms,
        status: answer.status,
        body: answer.status === 200 ? '' : answer.body,
        resent: retries,
        staleNeighbour: ip !== '' && before.pods.has(ip),
        staleBridge: before.bridgeStale,
      };
      starts.push(start);
      say(
        `${svc.name}: sent ${sentAt}, ${answer.status} in ${Math.round(answer.ms)} ms; pod ${ip || '?'}${noteOf(start)}`,
      );
      await sleep(1000, undefined, { signal });
    }
    const waitAfter = await gatewayColdStarts(gatewayPods, namespace);
    const gatewayWait =
      waitBefore === undefined || waitAfter === undefined
        ? undefined
        : { sum: waitAfter.sum - waitBefore.sum, count: waitAfter.count - waitBefore.count };

    let burstFigures: Burst | undefined;
    const burstSvc = services.find((s) => s.name === 'burst');
    if (burstSvc !== undefined) {
      const pods = await revisionPods(c, namespace, burstSvc.revision);
      if (pods.length > 0)
        throw new Failure(`revision ${namespace}/${burstSvc.revision} has pods before the burst`);
      if (options.flushStaleNeighbours) flushed += await flushStaleNeighbours(c, gatewayPids);
      say(`burst: ${options.burst} concurrent requests to ${burstSvc.host}`);
      burstFigures = await burst(c, gateway, burstSvc, namespace, options.burst, gatewayPids);
      say(
        `burst: ${burstFigures.ok} of ${burstFigures.requests} answered 200 in ${Math.round(burstFigures.wallMs)} ms`,
      );
    }
    if (!starts.some((s) => s.status === 200)) {
      throw new Failure(
        `no cold start succeeded:\n${starts.map((s) => `  ${s.name}: HTTP ${s.status || 'none'}: ${s.body}`).join('\n')}`,
      );
    }
    result = report(options, {
      starts,
      appStarts: appStartMs,
      gatewayWait,
      flushed,
      burst: burstFigures,
      namespace,
      gatewayPods: gatewayPods.map((p) => p.name),
      warnings: await gatewayWarnings(c, gatewayPods, (Date.now() - startedAt) / 1000 + 1),
      quiet,
    });
  } finally {
    if (namespace !== undefined) {
      say(`deleting namespace ${namespace}`);
      try {
        await deleteNamespace(c, namespace, 180_000);
      } catch (error) {
        cleanupFailed = true;
        say(`cleanup: ${describe(error)}`);
      }
    }
    if (borrowed !== undefined) {
      try {
        await borrowed.restore();
        say(
          `restored ${SYSTEM_NAMESPACE}/${AUTOSCALER_CONFIG} (${ALLOW_ZERO} ${borrowed.previous[ALLOW_ZERO] ?? 'unset'})`,
        );
      } catch (error) {
        cleanupFailed = true;
        say(
          `cleanup: could not restore ${SYSTEM_NAMESPACE}/${AUTOSCALER_CONFIG}: ${describe(error)}; set ${ALLOW_ZERO} back by hand`,
        );
      }
    }
  }
  process.stdout.write(`${result.table}\n`);
  if (options.out !== undefined) {
    await writeFile(options.out, `${JSON.stringify(result.json, null, 2)}\n`);
    say(`wrote ${options.out}`);
  }
  return cleanupFailed ? 1 : 0;
}

const signal = interruptSignal(
  say,
  `delete namespaces labelled ${BENCH_LABEL}=coldstart and restore ${ALLOW_ZERO} in ${SYSTEM_NAMESPACE}/${AUTOSCALER_CONFIG} by hand`,
);
try {
  process.exitCode = await main(parseOptions(process.argv.slice(2), process.env), signal);
} catch (error) {
  say(signal.aborted ? 'interrupted' : `failed: ${describe(error)}`);
  process.exitCode = 1;
}
