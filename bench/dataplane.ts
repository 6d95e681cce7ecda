// `npm run bench:dataplane`: what ebb's gateway costs on the request path. One Knative Service
// (dev.local/helloworld, min- and max-scale 1, so one warm pod) is reached five ways: straight at
// its pod, through the gateway (its ClusterIP, Host header of the route), through the gateway's pod
// IP (no ClusterIP hop; the goals still use the ClusterIP path, as clients do), and through nginx
// as a reference proxy, twice: on 127.0.0.1, and inside the gateway pod's network namespace at its
// IP, where each of its writes crosses the same veth, bridge and netfilter as the gateway's. For each: throughput at saturation (closed loop) with the proxy's
// CPU, so throughput per core; then latency at a fixed rate (open loop). The paths take turns in
// short slices, so that other work on the machine weighs on each alike. Goals: the gateway adds at
// most 1 ms at p99 over direct at 1,000 req/s, and serves at least half nginx's throughput per core.
// Needs the local cluster with ebb installed (`npm run deploy`), as root on the cluster's host (pod
// IPs reachable, /proc of the pods' processes readable). Gives back its namespace and stops nginx,
// also on failure or Ctrl-C.
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ANNOTATION } from '../src/apis/autoscaling/register.ts';
import { CpuMeter, MachineMeter, podProcess } from './host-process.ts';
import { mergeSamples, runLoad, type LoadResult, type LoadTarget } from './http-load.ts';
import { ensureNginx, NginxProxy } from './nginx-proxy.ts';
import {
  BENCH_LABEL,
  componentPods,
  connect,
  createNamespace,
  createService,
  deleteNamespace,
  describe,
  Failure,
  gatewayAddress,
  gatewayWarnings,
  interruptSignal,
  machine,
  markdownTable,
  percentile,
  podIdentity,
  revisionEndpoints,
  SYSTEM_NAMESPACE,
  waitReady,
  type Clients,
  type PodEndpoint,
} from './serving-fixture.ts';
import { quietStart, type QuietResult } from './quiet.ts';

const SERVICE = 'hello';
const GREETING = 'Hello World!\n';
const GOALS = { addedP99Ms: 1, perCoreVsNginx: 0.5 } as const;

function say(message: string): void {
  process.stderr.write(`[bench:dataplane] ${message}\n`);
}

// ---- Options -------------------------------------------------------------------------------

/** Quiet time after the warm-up, before the first measured slice. */
const SETTLE_MS = 2000;

interface Options {
  durationS: number;
  rounds: number;
  warmupS: number;
  connections: number;
  rate: number;
  workers: number;
  prefix: string;
  out: string | undefined;
}

const USAGE = `usage: node bench/dataplane.ts [--duration S] [--connections C] [--rate R] [--workers W] [--warmup S] [--namespace PREFIX] [--out FILE]
  --duration S        seconds of each measured phase, per path (DURATION, default 10)
  --rounds N          slices each phase is cut into, the paths taking turns (ROUNDS, default 5)
  --connections C     connections of the saturation phase, closed loop (CONNECTIONS, default 32)
  --rate R            requests per second of the latency phase, open loop (RATE, default 1000)
  --workers W         load generator threads (WORKERS, default 2)
  --warmup S          seconds of unmeasured load before each path's phases (WARMUP, default 2)
  --namespace PREFIX  namespace prefix; a random suffix is added (NAMESPACE, default bench-dataplane)
  --out FILE          also write the results as JSON to FILE (OUT)`;

function numberOption(raw: string, what: string, integer: boolean, min = 0): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= min || (integer && !Number.isInteger(n))) {
    throw new Failure(
      `${what}: expected a ${integer ? 'whole number' : 'number'} above ${min}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/** Flags win over the environment, which wins over the defaults. */
function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const flags = [
    'duration',
    'rounds',
    'connections',
    'rate',
    'workers',
    'warmup',
    'namespace',
    'out',
  ] as const;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(flags.map((f) => [f, { type: 'string' as const }])),
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
  const prefix = str('namespace', 'NAMESPACE', 'bench-dataplane');
  if (!/^[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?$/.test(prefix)) {
    throw new Failure(
      `--namespace / NAMESPACE: expected a DNS label prefix of at most 50 characters, got ${JSON.stringify(prefix)}`,
    );
  }
  const out = str('out', 'OUT', '');
  return {
    durationS: numberOption(str('duration', 'DURATION', '10'), '--duration / DURATION', false),
    rounds: numberOption(str('rounds', 'ROUNDS', '5'), '--rounds / ROUNDS', true),
    warmupS: numberOption(str('warmup', 'WARMUP', '2'), '--warmup / WARMUP', false, -1),
    connections: numberOption(str('connections', 'CONNECTIONS', '32'), '--connections / CONNECTIONS', true),
    rate: numberOption(str('rate', 'RATE', '1000'), '--rate / RATE', false),
    workers: numberOption(str('workers', 'WORKERS', '2'), '--workers / WORKERS', true),
    prefix,
    out: out === '' ? undefined : out,
  };
}

// ---- Measuring -----------------------------------------------------------------------------

type PathName = 'direct' | 'gateway' | 'gateway pod' | 'nginx' | 'nginx in gateway netns';

interface Path {
  name: PathName;
  target: LoadTarget;
  /** The proxy's processes, whose CPU is measured; none for direct. */
  pids: number[];
}

interface Phase {
  load: LoadResult;
  /** Cores used on average by the path's proxy, by the app's pod, by the whole machine. */
  proxyCores: number;
  appCores: number;
  machineCores: number;
  /** Wall seconds the CPU meters ran, to weigh slices when they are merged. */
  meteredSeconds: number;
}

interface PathFigures {
  saturation: Phase;
  fixedRate: Phase;
}

/** One GET, for the check that a path answers the app's greeting before it is measured. */
function getOnce(target: LoadTarget): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.address,
        port: target.port,
        path: target.path,
        headers: target.host === undefined ? {} : { host: target.host },
        agent: false,
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

async function answersGreeting(path: Path, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const { status, body } = await getOnce(path.target);
      if (status === 200 && body === GREETING) return;
      last = `HTTP ${status}: ${body.trim().slice(0, 200)}`;
    } catch (error) {
      last = describe(error);
    }
    await sleep(200, undefined, { signal });
  }
  throw new Failure(
    `${path.name} (${path.target.address}:${path.target.port}${path.target.host === undefined ? '' : `, Host ${path.target.host}`}) does not answer "${GREETING.trim()}" after 30 s; last: ${last}`,
  );
}

async function phase(
  options: Options,
  path: Path,
  appPid: number,
  shape: { kind: 'closed'; connections: number } | { kind: 'open'; rate: number },
  durationS: number,
): Promise<Phase> {
  const proxy = new CpuMeter(path.pids);
  const app = new CpuMeter([appPid]);
  const all = new MachineMeter();
  proxy.start();
  app.start();
  all.start();
  const started = performance.now();
  const load = await runLoad({
    target: path.target,
    shape,
    durationMs: durationS * 1000,
    // Far above what two cores can answer; a bound in case the time bound fails.
    maxRequests: Math.ceil(durationS * 200_000),
    timeoutMs: 10_000,
    workers: options.workers,
  });
  return {
    load,
    proxyCores: proxy.stop().cores,
    appCores: app.stop().cores,
    machineCores: all.stop(),
    meteredSeconds: (performance.now() - started) / 1000,
  };
}

/** One phase from its slices: counts and seconds add up, CPU is weighed by metered time. */
function mergePhases(slices: Phase[]): Phase {
  const wall = slices.reduce((n, p) => n + p.meteredSeconds, 0);
  const weighed = (f: (p: Phase) => number): number =>
    wall > 0 ? slices.reduce((n, p) => n + f(p) * p.meteredSeconds, 0) / wall : 0;
  const tally = (f: (l: LoadResult) => Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const p of slices) for (const [k, n] of Object.entries(f(p.load))) out[k] = (out[k] ?? 0) + n;
    return out;
  };
  const seconds = slices.reduce((n, p) => n + p.load.seconds, 0);
  const ok = slices.reduce((n, p) => n + p.load.ok, 0);
  return {
    load: {
      sent: slices.reduce((n, p) => n + p.load.sent, 0),
      ok,
      statuses: tally((l) => l.statuses),
      errors: tally((l) => l.errors),
      refused: slices.reduce((n, p) => n + p.load.refused, 0),
      opened: slices.reduce((n, p) => n + p.load.opened, 0),
      seconds,
      throughput: seconds > 0 ? ok / seconds : 0,
      latencyMs: mergeSamples(slices.map((p) => p.load.latencyMs)),
      openedLatencyMs: mergeSamples(slices.map((p) => p.load.openedLatencyMs)),
      lagMs: mergeSamples(slices.map((p) => p.load.lagMs)),
      generatorBusy: Math.max(...slices.map((p) => p.load.generatorBusy)),
    },
    proxyCores: weighed((p) => p.proxyCores),
    appCores: weighed((p) => p.appCores),
    machineCores: weighed((p) => p.machineCores),
    meteredSeconds: wall,
  };
}

/**
 * Each path's phases in ROUNDS slices, the paths taking turns, so that whatever else the machine
 * does at some moment weighs on all of them alike. All the fixed-rate slices come first and the
 * saturation slices after them: a fixed-rate slice that followed a saturation slice measured
 * that slice's aftermath too (the app's and the proxy's garbage, their collections).
 */
async function measure(
  options: Options,
  paths: Path[],
  appPid: number,
  signal: AbortSignal,
): Promise<Record<PathName, PathFigures>> {
  for (const path of paths) {
    await answersGreeting(path, signal);
    if (options.warmupS > 0) {
      say(`${path.name}: warming up ${options.warmupS} s`);
      await phase(
        options,
        path,
        appPid,
        { kind: 'closed', connections: options.connections },
        options.warmupS,
      );
    }
  }
  await sleep(SETTLE_MS, undefined, { signal });
  const slice = options.durationS / options.rounds;
  const slices = new Map<PathName, { saturation: Phase[]; fixedRate: Phase[] }>(
    paths.map((p) => [p.name, { saturation: [], fixedRate: [] }]),
  );
  for (let round = 1; round <= options.rounds; round++) {
    for (const path of paths) {
      signal.throwIfAborted();
      const fixedRate = await phase(options, path, appPid, { kind: 'open', rate: options.rate }, slice);
      await sleep(250, undefined, { signal });
      slices.get(path.name)?.fixedRate.push(fixedRate);
      say(
        `round ${round}/${options.rounds} ${path.name}: at ${options.rate} req/s p50 ${percentile(fixedRate.load.latencyMs, 50).toFixed(2)} ms, p99 ${percentile(fixedRate.load.latencyMs, 99).toFixed(2)} ms`,
      );
    }
  }
  for (let round = 1; round <= options.rounds; round++) {
    for (const path of paths) {
      signal.throwIfAborted();
      const saturation = await phase(
        options,
        path,
        appPid,
        { kind: 'closed', connections: options.connections },
        slice,
      );
      await sleep(250, undefined, { signal });
      slices.get(path.name)?.saturation.push(saturation);
      say(
        `round ${round}/${options.rounds} ${path.name}: ${Math.round(saturation.load.throughput)} req/s at saturation`,
      );
    }
  }
  const figures = {} as Record<PathName, PathFigures>;
  for (const [name, s] of slices) {
    figures[name] = { saturation: mergePhases(s.saturation), fixedRate: mergePhases(s.fixedRate) };
  }
  return figures;
}

async function waitForEndpoint(
  c: Clients,
  namespace: string,
  revision: string,
  signal: AbortSignal,
): Promise<PodEndpoint> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const endpoints = await revisionEndpoints(c, namespace, revision);
    const first = endpoints[0];
    if (endpoints.length === 1 && first !== undefined) return first;
    if (Date.now() > deadline) {
      throw new Failure(
        `revision ${namespace}/${revision} has ${endpoints.length} ready endpoints after 60 s, expected exactly 1 (min- and max-scale 1)`,
      );
    }
    await sleep(250, undefined, { signal });
  }
}

// ---- Report --------------------------------------------------------------------------------

const ms = (v: number): string => (Number.isNaN(v) ? '—' : v.toFixed(2));
const round = (v: number, digits = 2): number => Number(v.toFixed(digits));

function failures(load: LoadResult): number {
  const answeredBadly = Object.entries(load.statuses)
    .filter(([status]) => !status.startsWith('2'))
    .reduce((n, [, k]) => n + k, 0);
  return answeredBadly + Object.values(load.errors).reduce((n, k) => n + k, 0);
}

function phaseJson(p: Phase): object {
  const l = p.load;
  return {
    sent: l.sent,
    ok: l.ok,
    seconds: round(l.seconds),
    throughput: Math.round(l.throughput),
    statuses: l.statuses,
    errors: l.errors,
    refusedByGateway: l.refused,
    connectionsOpened: l.opened,
    latencyMs: {
      p50: round(percentile(l.latencyMs, 50), 3),
      p90: round(percentile(l.latencyMs, 90), 3),
      p99: round(percentile(l.latencyMs, 99), 3),
      max: round(l.latencyMs.at(-1) ?? NaN, 3),
    },
    sendLagMs:
      l.lagMs.length === 0
        ? undefined
        : { p50: round(percentile(l.lagMs, 50), 3), p99: round(percentile(l.lagMs, 99), 3) },
    generatorBusy: round(l.generatorBusy),
    proxyCores: round(p.proxyCores, 3),
    appCores: round(p.appCores, 3),
    machineCores: round(p.machineCores, 3),
  };
}

function report(
  options: Options,
  figures: Record<PathName, PathFigures>,
  context: { namespace: string; gatewayPods: string[]; warnings: unknown; quiet: QuietResult },
): { table: string; json: object } {
  const names: PathName[] = ['direct', 'gateway', 'gateway pod', 'nginx', 'nginx in gateway netns'];
  const col = (f: (p: PathFigures, name: PathName) => string): string[] => names.map((n) => f(figures[n], n));
  const perCore = (p: PathFigures): number =>
    p.saturation.proxyCores > 0 ? p.saturation.load.throughput / p.saturation.proxyCores : NaN;
  const p99 = (p: PathFigures): number => percentile(p.fixedRate.load.latencyMs, 99);
  const addedP99 = p99(figures.gateway) - p99(figures.direct);
  const ratio = perCore(figures.gateway) / perCore(figures.nginx);
  // Like for like: both proxies in the gateway pod's network namespace, reached at its IP, so
  // both pay the same veth, bridge and netfilter work for each of their writes.
  const sameNetns = perCore(figures['gateway pod']) / perCore(figures['nginx in gateway netns']);
  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  const rows: string[][] = [
    [
      `saturation (${options.connections} conns, ${options.durationS} s): req/s`,
      ...col((p) => String(Math.round(p.saturation.load.throughput))),
    ],
    ['  failed requests', ...col((p) => String(failures(p.saturation.load)))],
    ['  proxy CPU, cores', ...col((p, n) => (n === 'direct' ? '—' : p.saturation.proxyCores.toFixed(2)))],
    ['  req/s per proxy core', ...col((p, n) => (n === 'direct' ? '—' : String(Math.round(perCore(p)))))],
    ['  app pod CPU, cores', ...col((p) => p.saturation.appCores.toFixed(2))],
    ['  machine CPU busy, cores', ...col((p) => p.saturation.machineCores.toFixed(2))],
    [
      '  latency p50 / p99, ms',
      ...col(
        (p) =>
          `${ms(percentile(p.saturation.load.latencyMs, 50))} / ${ms(percentile(p.saturation.load.latencyMs, 99))}`,
      ),
    ],
    [
      `fixed rate ${options.rate} req/s (${options.durationS} s): sent`,
      ...col((p) => String(p.fixedRate.load.sent)),
    ],
    ['  failed requests', ...col((p) => String(failures(p.fixedRate.load)))],
    ['  latency p50, ms', ...col((p) => ms(percentile(p.fixedRate.load.latencyMs, 50)))],
    ['  latency p99, ms', ...col((p) => ms(p99(p)))],
    ['  latency max, ms', ...col((p) => ms(p.fixedRate.load.latencyMs.at(-1) ?? NaN))],
    ['  proxy CPU, cores', ...col((p, n) => (n === 'direct' ? '—' : p.fixedRate.proxyCores.toFixed(2)))],
    ['  send lag p99 (generator), ms', ...col((p) => ms(percentile(p.fixedRate.load.lagMs, 99)))],
    ['  connections opened', ...col((p) => String(p.fixedRate.load.opened))],
    [
      '  latency on them p50 / p90, ms',
      ...col(
        (p) =>
          `${ms(percentile(p.fixedRate.load.openedLatencyMs, 50))} / ${ms(percentile(p.fixedRate.load.openedLatencyMs, 90))}`,
      ),
    ],
  ];
  const goals: string[][] = [
    [
      `gateway p99 − direct p99 at ${options.rate} req/s`,
      `≤ ${GOALS.addedP99Ms} ms`,
      `${addedP99.toFixed(2)} ms (${verdict(addedP99 <= GOALS.addedP99Ms)}); nginx: ${(p99(figures.nginx) - p99(figures.direct)).toFixed(2)} ms`,
    ],
    [
      'gateway req/s per core ÷ nginx req/s per core',
      `≥ ${GOALS.perCoreVsNginx * 100} %`,
      `${Math.round(ratio * 100)} % (${verdict(ratio >= GOALS.perCoreVsNginx)}): ${Math.round(perCore(figures.gateway))} vs ${Math.round(perCore(figures.nginx))}`,
    ],
    [
      'the same, both in the gateway pod netns (gateway pod ÷ nginx in gateway netns)',
      `≥ ${GOALS.perCoreVsNginx * 100} %`,
      `${Math.round(sameNetns * 100)} % (${verdict(sameNetns >= GOALS.perCoreVsNginx)}): ${Math.round(perCore(figures['gateway pod']))} vs ${Math.round(perCore(figures['nginx in gateway netns']))}`,
    ],
  ];
  const m = machine();
  const generatorBusy = Math.max(...names.map((n) => figures[n].saturation.load.generatorBusy));
  const table = [
    `Data-plane benchmark: dev.local/helloworld, one pod; ${options.rounds} rounds, the paths taking turns; gateway ${context.gatewayPods.join(', ')}; nginx 1 worker`,
    `Machine: ${m.cpus} cores (${m.model}), ${m.memoryGiB} GiB, Node ${m.node}; ${context.quiet.busyCores} cores busy before the first round; load average ${m.loadAverage} at the end; cluster, ebb, nginx and the load generator (${options.workers} threads) share the cores`,
    '',
    markdownTable(['figure', ...names], rows),
    '',
    markdownTable(['goal', 'target', 'measured'], goals),
    ...(generatorBusy > 0.95
      ? [
          '',
          `note: a load generator thread was busy ${Math.round(generatorBusy * 100)} % of the time at saturation`,
        ]
      : []),
  ].join('\n');
  const json = {
    bench: 'dataplane',
    options,
    machine: { ...m, busyCoresAtStart: context.quiet.busyCores, quietAtStart: context.quiet.quiet },
    namespace: context.namespace,
    gatewayPods: context.gatewayPods,
    gatewayWarnings: context.warnings,
    paths: Object.fromEntries(
      names.map((n) => [
        n,
        { saturation: phaseJson(figures[n].saturation), fixedRate: phaseJson(figures[n].fixedRate) },
      ]),
    ),
    goals: {
      addedP99Ms: { goal: GOALS.addedP99Ms, measured: round(addedP99, 3), met: addedP99 <= GOALS.addedP99Ms },
      perCoreVsNginx: {
        goal: GOALS.perCoreVsNginx,
        measured: round(ratio, 3),
        met: ratio >= GOALS.perCoreVsNginx,
      },
      perCoreVsNginxSameNetns: {
        goal: GOALS.perCoreVsNginx,
        measured: round(sameNetns, 3),
        met: sameNetns >= GOALS.perCoreVsNginx,
      },
    },
  };
  return { table, json };
}

// ---- Main ----------------------------------------------------------------------------------

/** The port a Service's `targetPort` (a number, or a container port's name) means on `pod`. */
async function podPort(c: Clients, pod: string, targetPort: number | string | undefined): Promise<number> {
  if (typeof targetPort === 'number') return targetPort;
  const spec = (await c.core.readNamespacedPod({ namespace: SYSTEM_NAMESPACE, name: pod })).spec;
  for (const container of spec?.containers ?? [])
    for (const p of container.ports ?? []) if (p.name === targetPort) return p.containerPort;
  throw new Failure(`gateway pod ${pod} has no container port named ${String(targetPort)}`);
}

async function main(options: Options, signal: AbortSignal): Promise<number> {
  const c = connect();
  const gateway = await gatewayAddress(c);
  const gatewayPods = await componentPods(c, 'gateway');
  const gatewayPids = gatewayPods.map((p) => podProcess(p)).filter((pid) => pid !== undefined);
  if (gatewayPids.length === 0 || gatewayPids.length !== gatewayPods.length) {
    throw new Failure(
      `found ${gatewayPids.length} host processes for ${gatewayPods.length} Running gateway pods; the CPU figures need the local cluster's nodes on this host, and root`,
    );
  }
  const gatewayPod = gatewayPods[0];
  if (gatewayPod === undefined || gatewayPod.ip === '')
    throw new Failure('no Running gateway pod with an IP');
  const gatewayPodPort = await podPort(c, gatewayPod.name, gateway.targetPort);
  const nginxBinary = await ensureNginx(say);
  say(
    `gateway ${gateway.address}:${gateway.port} (pods ${gatewayPods.map((p) => p.name).join(', ')}); nginx ${nginxBinary}`,
  );

  let namespace: string | undefined;
  let nginx: NginxProxy | undefined;
  let nginxNetns: NginxProxy | undefined;
  let cleanupFailed = false;
  let result: { table: string; json: object } | undefined;
  const startedAt = Date.now();
  try {
    namespace = await createNamespace(c, options.prefix, 'dataplane');
    say(`namespace ${namespace}`);
    await createService(c, namespace, SERVICE, {
      [ANNOTATION.minScale[0]]: '1',
      [ANNOTATION.maxScale[0]]: '1',
    });
    const svc = (await waitReady(c, namespace, [SERVICE], 120_000, signal)).get(SERVICE);
    if (svc === undefined) throw new Failure(`Service ${namespace}/${SERVICE} vanished`);
    const pod = await waitForEndpoint(c, namespace, svc.revision, signal);
    const appPid = podProcess(await podIdentity(c, namespace, pod.pod));
    if (appPid === undefined) throw new Failure(`no host process for pod ${namespace}/${pod.pod}`);
    nginx = await NginxProxy.start(nginxBinary, pod);
    const gatewayPid = gatewayPids[0] ?? 0;
    nginxNetns = await NginxProxy.start(nginxBinary, pod, { pid: gatewayPid, address: gatewayPod.ip });
    say(
      `pod ${pod.pod} at ${pod.address}:${pod.port}; route host ${svc.host}; nginx on 127.0.0.1:${nginx.port} and on ${nginxNetns.address}:${nginxNetns.port} in the network namespace of gateway pod ${gatewayPod.name}`,
    );
    const paths: Path[] = [
      { name: 'direct', target: { address: pod.address, port: pod.port, path: '/' }, pids: [] },
      {
        name: 'gateway',
        target: { address: gateway.address, port: gateway.port, host: svc.host, path: '/' },
        pids: gatewayPids,
      },
      {
        name: 'gateway pod',
        target: { address: gatewayPod.ip, port: gatewayPodPort, host: svc.host, path: '/' },
        pids: gatewayPids,
      },
      {
        name: 'nginx',
        target: { address: '127.0.0.1', port: nginx.port, path: '/' },
        pids: await nginx.pids(),
      },
      {
        name: 'nginx in gateway netns',
        target: { address: nginxNetns.address, port: nginxNetns.port, path: '/' },
        pids: await nginxNetns.pids(),
      },
    ];
    const quiet = await quietStart(say, signal);
    const figures = await measure(options, paths, appPid, signal);
    const warnings = await gatewayWarnings(c, gatewayPods, (Date.now() - startedAt) / 1000 + 1);
    result = report(options, figures, {
      namespace,
      gatewayPods: gatewayPods.map((p) => p.name),
      warnings,
      quiet,
    });
  } finally {
    for (const proxy of [nginx, nginxNetns]) {
      if (proxy === undefined) continue;
      await proxy.stop().catch((error: unknown) => {
        cleanupFailed = true;
        say(`cleanup: stopping nginx: ${describe(error)}`);
      });
    }
    if (namespace !== undefined) {
      say(`deleting namespace ${namespace}`);
      try {
        await deleteNamespace(c, namespace, 120_000);
      } catch (error) {
        cleanupFailed = true;
        say(`cleanup: ${describe(error)}`);
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

const signal = interruptSignal(say, `delete namespaces labelled ${BENCH_LABEL}=dataplane by hand`);
try {
  process.exitCode = await main(parseOptions(process.argv.slice(2), process.env), signal);
} catch (error) {
  say(signal.aborted ? 'interrupted' : `failed: ${describe(error)}`);
  process.exitCode = 1;
}
