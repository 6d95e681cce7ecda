// `npm run bench:controller`: the controller's figures for docs/benchmarks.md — time from a
// Service's create call to Ready, and the leader's RSS and CPU, while COUNT Services with
// `initial-scale: 0` (so no pods) are created through the API, webhook included, at RATE per second.
// It needs ebb installed (`npm run deploy`); it borrows config-autoscaler's allow-zero-initial-scale
// and one namespace, and gives both back, also on failure or Ctrl-C.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { STATE_DIR } from '../e2e/cluster/paths.ts';
import { costPerObject, costSnapshot, type CostPerObject, type CostSnapshot } from './cluster-cost.ts';
import { ANNOTATION } from '../src/apis/autoscaling/register.ts';
import { API_VERSION } from '../src/apis/serving/register.ts';
import type { Service } from '../src/apis/serving/v1/service-types.ts';
import { Informer } from '../src/controller/informer.ts';
import { apiMessage, errorCode, SERVING_SERVICES } from '../src/controller/kube.ts';
import { quietStart, type QuietResult } from './quiet.ts';

const SYSTEM_NAMESPACE = 'ebb-system';
const LEASE = 'ebb-controller';
const AUTOSCALER_CONFIG = 'config-autoscaler';
const ALLOW_ZERO = 'allow-zero-initial-scale';
const METRICS_PORT = 9090;
const SAMPLE_MS = 2000;
const MAX_IN_FLIGHT = 64;
const IMAGE = 'dev.local/helloworld';
const BENCH_LABEL = 'ebb.dev/bench';
const GOALS = { readyP95Ms: 2000, rssMiB: 300 } as const;

/** An expected failure: its message is all the user needs, so no stack trace. */
class Failure extends Error {}

function say(message: string): void {
  process.stderr.write(`[bench:controller] ${message}\n`);
}

// ---- Options -------------------------------------------------------------------------------

interface Options {
  count: number;
  rate: number;
  prefix: string;
  graceSeconds: number;
}

const USAGE = `usage: node bench/controller.ts [--count N] [--rate R] [--namespace PREFIX] [--grace S]
  --count N           Services to create (COUNT, default 1000)
  --rate R            creates per second (RATE, default 10)
  --namespace PREFIX  namespace prefix; a random suffix is added (NAMESPACE, default bench-controller)
  --grace S           seconds allowed beyond COUNT/RATE for every Service to be Ready (GRACE, default 120)`;

function numberOption(raw: string, what: string, integer: boolean): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Failure(
      `${what}: expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(raw)}`,
    );
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
        rate: { type: 'string' },
        namespace: { type: 'string' },
        grace: { type: 'string' },
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
  const prefix = str('namespace', 'NAMESPACE', 'bench-controller');
  if (!/^[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?$/.test(prefix)) {
    throw new Failure(
      `--namespace / NAMESPACE: expected a DNS label prefix of at most 50 characters, got ${JSON.stringify(prefix)}`,
    );
  }
  return {
    count: numberOption(str('count', 'COUNT', '1000'), '--count / COUNT', true),
    rate: numberOption(str('rate', 'RATE', '10'), '--rate / RATE', false),
    prefix,
    graceSeconds: numberOption(str('grace', 'GRACE', '120'), '--grace / GRACE', false),
  };
}

// ---- Prometheus text and statistics (pure) -----------------------------------------------

interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition; comments and unparsable lines are skipped. */
function parseMetrics(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    const value = Number(m[3]);
    if (!Number.isNaN(value)) samples.push({ name: m[1] ?? '', labels, value });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `match`. */
function total(samples: MetricSample[], name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** Nearest-rank percentile of ascending values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

interface ReconcilerFigures {
  reconciler: string;
  reconciles: number;
  errors: number;
  meanMs: number;
  /** The upper bound of the histogram bucket holding the 95th percentile. */
  p95BucketMs: number;
}

/** Per reconciler, what happened between two scrapes of the controller. */
function reconcilerFigures(before: MetricSample[], after: MetricSample[]): ReconcilerFigures[] {
  const names = new Set(
    after.filter((s) => s.name === 'ebb_controller_reconciles_total').map((s) => s.labels.reconciler ?? ''),
  );
  const delta = (name: string, match: Record<string, string>): number =>
    total(after, name, match) - total(before, name, match);
  return [...names].sort().map((reconciler) => {
    const count = delta('ebb_controller_reconcile_duration_seconds_count', { reconciler });
    const sum = delta('ebb_controller_reconcile_duration_seconds_sum', { reconciler });
    const buckets = after
      .filter(
        (s) =>
          s.name === 'ebb_controller_reconcile_duration_seconds_bucket' && s.labels.reconciler === reconciler,
      )
      .map((s) => ({ le: Number(s.labels.le), n: delta(s.name, { reconciler, le: s.labels.le ?? '' }) }))
      .sort((a, b) => a.le - b.le);
    const p95 = buckets.find((b) => b.n >= 0.95 * count)?.le ?? NaN;
    return {
      reconciler,
      reconciles: delta('ebb_controller_reconciles_total', { reconciler }),
      errors: delta('ebb_controller_reconciles_total', { reconciler, outcome: 'error' }),
      meanMs: count > 0 ? Math.round((sum / count) * 1000) : 0,
      p95BucketMs: count > 0 ? p95 * 1000 : 0,
    };
  });
}

interface LogFigures {
  warnings: number;
  errors: number;
  /** Of those, the lines that name the bench's namespace (other work may share the cluster). */
  inBenchNamespace: number;
  top: { msg: string; count: number; example: string }[];
}

/** The API server's message inside a client-node ApiException message, which also carries headers. */
function shortError(message: string): string {
  const body = /\nBody: (".*")\nHeaders:/s.exec(message)?.[1];
  if (body !== undefined) {
    try {
      const status = JSON.parse(JSON.parse(body) as string) as { message?: unknown; code?: unknown };
      if (typeof status.message === 'string') return `${String(status.code)}: ${status.message}`;
    } catch {
      // Not a Status body: fall through to the first line.
    }
  }
  const first = message.split('\n')[0] ?? '';
  return first.length > 200 ? `${first.slice(0, 200)}…` : first;
}

/** pino JSON lines at warn (40) or above logged in [from, until) (epoch ms), grouped by message. */
function logFigures(text: string, from: number, until: number, namespace: string): LogFigures {
  const groups = new Map<string, { count: number; example: string }>();
  const figures: LogFigures = { warnings: 0, errors: 0, inBenchNamespace: 0, top: [] };
  for (const line of text.split('\n')) {
    let entry: {
      level?: unknown;
      time?: unknown;
      msg?: unknown;
      err?: { message?: unknown };
      reconciler?: unknown;
    };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (typeof entry.level !== 'number' || entry.level < 40) continue;
    const time =
      typeof entry.time === 'string' || typeof entry.time === 'number' ? new Date(entry.time).getTime() : NaN;
    if (!(time >= from && time < until)) continue;
    if (entry.level >= 50) figures.errors++;
    else figures.warnings++;
    if (line.includes(namespace)) figures.inBenchNamespace++;
    const msg = `${typeof entry.reconciler === 'string' ? `${entry.reconciler}: ` : ''}${String(entry.msg)}`;
    const group = groups.get(msg) ?? {
      count: 0,
      example: typeof entry.err?.message === 'string' ? shortError(entry.err.message) : '',
    };
    group.count++;
    groups.set(msg, group);
  }
  figures.top = [...groups.entries()]
    .map(([msg, g]) => ({ msg, ...g }))
    .sort((a, b) => b.count - a.count)
    .slice(0, 3);
  return figures;
}

const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);

// ---- The cluster ---------------------------------------------------------------------------

function describe(error: unknown): string {
  if (error instanceof Failure) return error.message;
  const plain = error instanceof Error ? error.message : String(error);
  const message = errorCode(error) === undefined ? plain : apiMessage(error);
  // fetch reports "fetch failed" and puts the reason in its cause.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
  return cause === '' ? message : `${message} (${cause})`;
}

function loadKubeConfig(): { kc: KubeConfig; path: string } {
  const path = process.env.KUBECONFIG ?? join(STATE_DIR, 'admin.kubeconfig');
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (error) {
    throw new Failure(
      `cannot read the kubeconfig ${path}: ${describe(error)}. Start the local cluster (npm run cluster:up) or set KUBECONFIG.`,
    );
  }
  return { kc, path };
}

interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
}

interface Target {
  pod: string;
  url: string;
}

async function leaderHolder(c: Clients): Promise<string> {
  let lease;
  try {
    lease = await c.coordination.readNamespacedLease({ name: LEASE, namespace: SYSTEM_NAMESPACE });
  } catch (error) {
    if (errorCode(error) === 404) {
      throw new Failure(`no Lease ${SYSTEM_NAMESPACE}/${LEASE}: is ebb installed? Run \`npm run deploy\`.`);
    }
    throw new Failure(`cannot read the Lease ${SYSTEM_NAMESPACE}/${LEASE}: ${describe(error)}`);
  }
  const holder = lease.spec?.holderIdentity;
  if (holder === undefined || holder === '') {
    throw new Failure(`the Lease ${SYSTEM_NAMESPACE}/${LEASE} has no holder: no controller is leading`);
  }
  return holder;
}

function metricsTarget(pod: V1Pod): Target | undefined {
  const ip = pod.status?.podIP;
  const name = pod.metadata?.name ?? '';
  return ip === undefined || ip === ''
    ? undefined
    : { pod: name, url: `http://${ip}:${METRICS_PORT}/metrics` };
}

/** The leading controller's metrics; right after a rollout the Lease may name a pod that is gone
 * (or no one) until a new replica takes it, so this waits up to a minute for that. */
async function findLeader(c: Clients): Promise<Target> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await leaderTarget(c);
    } catch (error) {
      if (!(error instanceof Failure) || Date.now() > deadline) throw error;
      await sleep(1000);
    }
  }
}

async function leaderTarget(c: Clients): Promise<Target> {
  const holder = await leaderHolder(c);
  let pod: V1Pod;
  try {
    pod = await c.core.readNamespacedPod({ name: holder, namespace: SYSTEM_NAMESPACE });
  } catch (error) {
    throw new Failure(
      `the leader ${holder} (Lease ${LEASE}) is not a pod in ${SYSTEM_NAMESPACE}: ${describe(error)}`,
    );
  }
  const target = metricsTarget(pod);
  if (target === undefined) throw new Failure(`the leader pod ${holder} has no pod IP yet`);
  return target;
}

async function findWebhook(c: Clients): Promise<Target | undefined> {
  const pods = await c.core.listNamespacedPod({
    namespace: SYSTEM_NAMESPACE,
    labelSelector: 'app.kubernetes.io/component=webhook',
  });
  for (const pod of pods.items) {
    const target = pod.status?.phase === 'Running' ? metricsTarget(pod) : undefined;
    if (target !== undefined) return target;
  }
  return undefined;
}

async function scrape(target: Target): Promise<MetricSample[]> {
  const response = await fetch(target.url, { signal: AbortSignal.timeout(1500) });
  if (!response.ok) throw new Error(`${target.url}: HTTP ${response.status}`);
  return parseMetrics(await response.text());
}

/**
 * Sets allow-zero-initial-scale to "true" in config-autoscaler; resolves with what gives the
 * previous value back (only that key, so a concurrent edit of another key survives).
 */
async function allowZeroInitialScale(c: Clients): Promise<(() => Promise<void>) | undefined> {
  let previous: string | undefined;
  try {
    const cm = await c.core.readNamespacedConfigMap({ name: AUTOSCALER_CONFIG, namespace: SYSTEM_NAMESPACE });
    previous = cm.data?.[ALLOW_ZERO];
  } catch (error) {
    throw new Failure(`cannot read ConfigMap ${SYSTEM_NAMESPACE}/${AUTOSCALER_CONFIG}: ${describe(error)}`);
  }
  if (previous === 'true') return undefined;
  const patch = (value: string | null) =>
    c.core.patchNamespacedConfigMap(
      { name: AUTOSCALER_CONFIG, namespace: SYSTEM_NAMESPACE, body: { data: { [ALLOW_ZERO]: value } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  try {
    await patch('true');
  } catch (error) {
    throw new Failure(
      `cannot set ${ALLOW_ZERO} in ${SYSTEM_NAMESPACE}/${AUTOSCALER_CONFIG}: ${describe(error)}`,
    );
  }
  say(`set ${ALLOW_ZERO}: "true" in ${SYSTEM_NAMESPACE}/${AUTOSCALER_CONFIG} (was ${previous ?? 'unset'})`);
  return async () => {
    await patch(previous ?? null);
    say(`restored ${SYSTEM_NAMESPACE}/${AUTOSCALER_CONFIG} (${ALLOW_ZERO} ${previous ?? 'unset'})`);
  };
}

function serviceBody(namespace: string, name: string): object {
  return {
    apiVersion: API_VERSION,
    kind: 'Service',
    metadata: { name, namespace },
    spec: {
      template: {
        metadata: { annotations: { [ANNOTATION.initialScale[0]]: '0' } },
        spec: { containers: [{ image: IMAGE }] },
      },
    },
  };
}

function createService(c: Clients, namespace: string, name: string, dryRun = false): Promise<unknown> {
  return c.custom.createNamespacedCustomObject({
    group: SERVING_SERVICES.group,
    version: SERVING_SERVICES.version,
    plural: SERVING_SERVICES.plural,
    namespace,
    body: serviceBody(namespace, name),
    ...(dryRun ? { dryRun: 'All' } : {}),
  });
}

/** The webhook reads config-autoscaler through its own watch: wait until it allows initial-scale 0. */
async function webhookAllowsZero(c: Clients, namespace: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      await createService(c, namespace, 'dry-run-probe', true);
      return;
    } catch (error) {
      last = describe(error);
      if (!last.includes('initial-scale')) throw new Failure(`a dry-run create of a Service failed: ${last}`);
    }
    await sleep(250, undefined, { signal });
  }
  throw new Failure(`the webhook still rejects initial-scale 0 30 s after ${ALLOW_ZERO} was set: ${last}`);
}

async function createNamespace(c: Clients, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  try {
    await c.core.createNamespace({ body: { metadata: { name, labels: { [BENCH_LABEL]: 'controller' } } } });
  } catch (error) {
    throw new Failure(`cannot create namespace ${name}: ${describe(error)}`);
  }
  return name;
}

async function deleteNamespace(c: Clients, name: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  try {
    await c.core.deleteNamespace({ name });
  } catch (error) {
    if (errorCode(error) !== 404) throw error;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await c.core.readNamespace({ name });
    } catch (error) {
      if (errorCode(error) === 404) return (performance.now() - started) / 1000;
      throw error;
    }
    if (Date.now() > deadline) {
      throw new Failure(
        `namespace ${name} still exists after ${Math.round(timeoutMs / 1000)} s; see \`kubectl get namespace ${name} -o yaml\` (status.conditions)`,
      );
    }
    await sleep(500);
  }
}

function isReady(s: Service): boolean {
  const status = s.status;
  return (
    status?.observedGeneration !== undefined &&
    status.observedGeneration === s.metadata.generation &&
    status.conditions?.some((cond) => cond.type === 'Ready' && cond.status === 'True') === true
  );
}

/** Why Services are not Ready, grouped by their Ready condition's status and reason, most common first. */
function notReadySummary(services: Service[], limit = 5): string {
  const groups = new Map<string, { count: number; names: string[]; message: string }>();
  for (const s of services) {
    const ready = s.status?.conditions?.find((cond) => cond.type === 'Ready');
    const stale =
      s.status?.observedGeneration !== s.metadata.generation ? ' (generation not yet observed)' : '';
    const key =
      ready === undefined
        ? `no Ready condition${stale}`
        : `Ready=${ready.status} ${ready.reason ?? ''}${stale}`;
    const g = groups.get(key) ?? { count: 0, names: [], message: ready?.message ?? '' };
    g.count++;
    if (g.names.length < 3) g.names.push(s.metadata.name ?? '?');
    groups.set(key, g);
  }
  return [...groups.entries()]
    .sort((a, b) => b[1].count - a[1].count)
    .slice(0, limit)
    .map(
      ([key, g]) =>
        `  ${g.count} × ${key}, e.g. ${g.names.join(', ')}${g.message === '' ? '' : `: ${g.message}`}`,
    )
    .join('\n');
}

// ---- Sampling the controller during the run -------------------------------------------------

interface Peaks {
  samples: number;
  scrapeErrors: number;
  controllerRss: number;
  controllerHeap: number;
  webhookRss: number;
  queueDepth: number;
  lastError: string;
  leaderChangedTo: string | undefined;
}

class Sampler {
  readonly peaks: Peaks = {
    samples: 0,
    scrapeErrors: 0,
    controllerRss: 0,
    controllerHeap: 0,
    webhookRss: 0,
    queueDepth: 0,
    lastError: '',
    leaderChangedTo: undefined,
  };
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly clients: Clients;
  private readonly leader: Target;
  private readonly webhook: Target | undefined;
  private readonly progress: (peaks: Peaks, rss: number, depth: number) => void;

  constructor(
    clients: Clients,
    leader: Target,
    webhook: Target | undefined,
    progress: (peaks: Peaks, rss: number, depth: number) => void,
  ) {
    this.clients = clients;
    this.leader = leader;
    this.webhook = webhook;
    this.progress = progress;
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const next = performance.now() + SAMPLE_MS;
      await this.sample();
      await this.pauseUntil(next);
    }
  }

  /** Short sleeps, so that stop() returns promptly. */
  private async pauseUntil(time: number): Promise<void> {
    while (!this.stopped && performance.now() < time) await sleep(Math.min(100, time - performance.now()));
  }

  private async sample(): Promise<void> {
    const p = this.peaks;
    const [controller, webhook, holder] = await Promise.allSettled([
      scrape(this.leader),
      this.webhook === undefined ? Promise.resolve([]) : scrape(this.webhook),
      leaderHolder(this.clients),
    ]);
    p.samples++;
    if (holder.status === 'fulfilled' && holder.value !== this.leader.pod) p.leaderChangedTo = holder.value;
    if (controller.status === 'rejected' || webhook.status === 'rejected') {
      p.scrapeErrors++;
      const failed = controller.status === 'rejected' ? controller : webhook;
      if (failed.status === 'rejected') p.lastError = describe(failed.reason);
    }
    if (webhook.status === 'fulfilled') {
      p.webhookRss = Math.max(p.webhookRss, total(webhook.value, 'process_resident_memory_bytes'));
    }
    if (controller.status !== 'fulfilled') return;
    const rss = total(controller.value, 'process_resident_memory_bytes');
    const depth = total(controller.value, 'ebb_controller_queue_depth');
    p.controllerRss = Math.max(p.controllerRss, rss);
    p.controllerHeap = Math.max(p.controllerHeap, total(controller.value, 'nodejs_heap_size_used_bytes'));
    p.queueDepth = Math.max(p.queueDepth, depth);
    if (p.samples % 5 === 0) this.progress(p, rss, depth);
  }
}

// ---- The run ---------------------------------------------------------------------------------

interface Run {
  namespace: string;
  readyMs: number[];
  createMs: number[];
  createSeconds: number;
  /** From the first create to the last Service Ready. */
  wallSeconds: number;
  /** Between the scrapes before and after, the window of the CPU figure. */
  scrapeSeconds: number;
  before: MetricSample[];
  after: MetricSample[];
  webhookBefore: MetricSample[] | undefined;
  peaks: Peaks;
  informerRestarts: string[];
  /** What the run cost the whole cluster per Service; undefined if the API server's metrics could not be read. */
  cost: CostPerObject | undefined;
}

/** A cost snapshot, or undefined (with a note) where the API server's /metrics is not readable. */
async function tryCostSnapshot(kc: KubeConfig): Promise<CostSnapshot | undefined> {
  try {
    return await costSnapshot(kc);
  } catch (error) {
    say(`no cluster cost figures: ${describe(error)}`);
    return undefined;
  }
}

async function measure(
  c: Clients,
  options: Options,
  namespace: string,
  leader: Target,
  webhook: Target | undefined,
  signal: AbortSignal,
): Promise<Run> {
  const started = new Map<string, number>();
  const ready = new Map<string, number>();
  const informerRestarts: string[] = [];
  const informer = new Informer<Service>(c.kc, {
    path: `/apis/${SERVING_SERVICES.group}/${SERVING_SERVICES.version}/namespaces/${namespace}/${SERVING_SERVICES.plural}`,
    list: async () => {
      const res = (await c.custom.listNamespacedCustomObject({
        group: SERVING_SERVICES.group,
        version: SERVING_SERVICES.version,
        plural: SERVING_SERVICES.plural,
        namespace,
      })) as { items: Service[]; metadata?: { resourceVersion?: string } };
      return { items: res.items, resourceVersion: res.metadata?.resourceVersion ?? '' };
    },
    maxBackoffMs: 1000,
    onRestart: (reason) => informerRestarts.push(reason),
  });
  const seen = (s: Service): void => {
    const name = s.metadata.name ?? '';
    const createdAt = started.get(name);
    if (createdAt !== undefined && !ready.has(name) && isReady(s)) ready.set(name, performance.now());
  };
  informer.on({ add: seen, update: seen });
  informer.start();
  const createMs: number[] = [];
  let t0 = performance.now();
  const sampler = new Sampler(c, leader, webhook, (peaks, rss, depth) => {
    say(
      `${Math.round((performance.now() - t0) / 1000)} s: created ${createMs.length}/${options.count}, Ready ${ready.size}, controller RSS ${mib(rss)} MiB (peak ${mib(peaks.controllerRss)}), queue depth ${depth}`,
    );
  });
  try {
    // Cancelled once synced, so that its timer does not hold the process open.
    const syncWait = new AbortController();
    await Promise.race([
      informer.waitForSync().finally(() => {
        syncWait.abort();
      }),
      sleep(30_000, undefined, { signal: AbortSignal.any([signal, syncWait.signal]) }).then(() => {
        throw new Failure(
          `the watch on Services in ${namespace} did not sync in 30 s: ${informerRestarts.at(-1) ?? ''}`,
        );
      }),
    ]);
    const [before, webhookBefore] = await Promise.all([
      scrape(leader),
      webhook === undefined ? undefined : scrape(webhook).catch(() => undefined),
    ]);
    const costBefore = await tryCostSnapshot(c.kc);
    const beforeAt = performance.now();
    sampler.start();

    t0 = performance.now();
    const inFlight = new Set<Promise<void>>();
    let createFailure: Failure | undefined;
    let lastCreate = t0;
    for (let i = 0; i < options.count; i++) {
      const wait = t0 + (i * 1000) / options.rate - performance.now();
      if (wait > 0) await sleep(wait, undefined, { signal });
      if (createFailure !== undefined) throw createFailure;
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      const name = `svc-${String(i).padStart(String(options.count - 1).length, '0')}`;
      const callStart = performance.now();
      started.set(name, callStart);
      lastCreate = callStart;
      const call: Promise<void> = createService(c, namespace, name)
        .then(
          () => {
            createMs.push(performance.now() - callStart);
          },
          (error: unknown) => {
            createFailure ??= new Failure(`creating Service ${namespace}/${name} failed: ${describe(error)}`);
          },
        )
        .finally(() => inFlight.delete(call));
      inFlight.add(call);
    }
    await Promise.all(inFlight);
    if (createFailure !== undefined) throw createFailure;
    const createSeconds = (lastCreate - t0) / 1000;

    const limitSeconds = options.count / options.rate + options.graceSeconds;
    const deadline = t0 + limitSeconds * 1000;
    while (ready.size < options.count) {
      const moved = sampler.peaks.leaderChangedTo;
      if (moved !== undefined) {
        throw new Failure(
          `leadership moved from ${leader.pod} to ${moved} during the run, so the figures would mix two processes; run again on a quiet cluster`,
        );
      }
      if (performance.now() > deadline) {
        const pending = informer.list().filter((s) => !ready.has(s.metadata.name ?? ''));
        throw new Failure(
          `only ${ready.size} of ${options.count} Services were Ready ${Math.round(limitSeconds)} s after the first create (limit: COUNT/RATE + ${options.graceSeconds} s). Not Ready:\n${notReadySummary(pending)}\nSee \`kubectl -n ${SYSTEM_NAMESPACE} logs ${leader.pod}\`.`,
        );
      }
      await sleep(50, undefined, { signal });
    }
    const after = await scrape(leader);
    const afterAt = performance.now();
    const costAfter = costBefore === undefined ? undefined : await tryCostSnapshot(c.kc);
    const readyAt = [...ready.values()];
    return {
      namespace,
      readyMs: [...ready].map(([name, at]) => at - (started.get(name) ?? at)),
      createMs,
      createSeconds,
      wallSeconds: (Math.max(...readyAt) - t0) / 1000,
      scrapeSeconds: (afterAt - beforeAt) / 1000,
      before,
      after,
      webhookBefore,
      peaks: sampler.peaks,
      informerRestarts,
      cost:
        costBefore === undefined || costAfter === undefined
          ? undefined
          : costPerObject(costBefore, costAfter, options.count),
    };
  } finally {
    await sampler.stop();
    informer.stop();
  }
}

// ---- Report ----------------------------------------------------------------------------------

interface Machine {
  cpus: number;
  model: string;
  memoryGiB: number;
  node: string;
  /** The 1-minute load average when the run ended: other work on the machine shows here. */
  loadAverage: number;
}

function machine(): Machine {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: Number((loadavg()[0] ?? 0).toFixed(2)),
  };
}

function command(options: Options): string {
  return `npm run bench:controller -- --count ${options.count} --rate ${options.rate} --namespace ${options.prefix} --grace ${options.graceSeconds}`;
}

function report(
  options: Options,
  run: Run,
  leader: Target,
  webhook: Target | undefined,
  logs: Logs,
  deleteSeconds: number | undefined,
  quiet: QuietResult | undefined,
): { table: string; json: object } {
  const ready = [...run.readyMs].sort((a, b) => a - b);
  const create = [...run.createMs].sort((a, b) => a - b);
  const cpuSeconds =
    total(run.after, 'process_cpu_seconds_total') - total(run.before, 'process_cpu_seconds_total');
  // V8's used heap, live objects plus garbage not yet collected: RSS minus what V8 has not returned.
  const heap = {
    before: mib(total(run.before, 'nodejs_heap_size_used_bytes')),
    peak: mib(Math.max(run.peaks.controllerHeap, total(run.after, 'nodejs_heap_size_used_bytes'))),
    final: mib(total(run.after, 'nodejs_heap_size_used_bytes')),
  };
  const rss = {
    before: mib(total(run.before, 'process_resident_memory_bytes')),
    peak: mib(Math.max(run.peaks.controllerRss, total(run.after, 'process_resident_memory_bytes'))),
    final: mib(total(run.after, 'process_resident_memory_bytes')),
  };
  const webhookRss =
    webhook === undefined
      ? undefined
      : {
          before:
            run.webhookBefore === undefined
              ? undefined
              : mib(total(run.webhookBefore, 'process_resident_memory_bytes')),
          peak: mib(run.peaks.webhookRss),
        };
  const readyFig = {
    n: ready.length,
    p50: Math.round(percentile(ready, 50)),
    p95: Math.round(percentile(ready, 95)),
    max: Math.round(ready.at(-1) ?? NaN),
  };
  const createFig = { p50: Math.round(percentile(create, 50)), p95: Math.round(percentile(create, 95)) };
  const reconcilers = reconcilerFigures(run.before, run.after);
  const restarts =
    total(run.after, 'ebb_controller_informer_restarts_total') -
    total(run.before, 'ebb_controller_informer_restarts_total');
  const m = machine();
  const json = {
    bench: 'controller',
    command: command(options),
    count: options.count,
    rate: options.rate,
    // n creates span n - 1 intervals.
    achievedRate:
      options.count > 1
        ? Number(((options.count - 1) / Math.max(run.createSeconds, 1e-9)).toFixed(2))
        : options.rate,
    namespace: run.namespace,
    machine: {
      ...m,
      busyCoresAtStart: quiet?.busyCores,
      waitedForQuietSeconds: quiet?.waitedSeconds,
      quietAtStart: quiet?.quiet,
    },
    readyMs: readyFig,
    createCallMs: createFig,
    wallSeconds: Number(run.wallSeconds.toFixed(1)),
    controller: {
      pod: leader.pod,
      rssMiB: rss,
      heapUsedMiB: heap,
      cpuSeconds: Number(cpuSeconds.toFixed(2)),
      averageCores: Number((cpuSeconds / run.scrapeSeconds).toFixed(3)),
      cpuWindowSeconds: Number(run.scrapeSeconds.toFixed(1)),
      peakQueueDepth: run.peaks.queueDepth,
      informerRestarts: restarts,
      reconcilers,
      log: logs,
    },
    webhook: webhook === undefined ? undefined : { pod: webhook.pod, rssMiB: webhookRss },
    samples: run.peaks.samples,
    scrapeErrors: run.peaks.scrapeErrors,
    benchWatchRestarts: run.informerRestarts.length,
    clusterCostPerService: run.cost,
    namespaceDeleteSeconds: deleteSeconds === undefined ? undefined : Number(deleteSeconds.toFixed(1)),
    goals: {
      readyP95Ms: GOALS.readyP95Ms,
      rssMiB: GOALS.rssMiB,
      met: readyFig.p95 <= GOALS.readyP95Ms && rss.peak <= GOALS.rssMiB,
    },
  };

  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  const rows: [string, string, string][] = [
    ['Service create → Ready, p50', '—', `${readyFig.p50} ms`],
    [
      'Service create → Ready, p95',
      `≤ ${GOALS.readyP95Ms} ms`,
      `${readyFig.p95} ms (${verdict(readyFig.p95 <= GOALS.readyP95Ms)})`,
    ],
    ['Service create → Ready, max', '—', `${readyFig.max} ms`],
    ['create call (API server + webhook), p50 / p95', '—', `${createFig.p50} / ${createFig.p95} ms`],
    [
      'creates',
      `${options.rate}/s`,
      `${options.count} in ${run.createSeconds.toFixed(1)} s (${json.achievedRate}/s); all Ready after ${run.wallSeconds.toFixed(1)} s`,
    ],
    [
      'controller RSS before / peak / final',
      `peak ≤ ${GOALS.rssMiB} MiB`,
      `${rss.before} / ${rss.peak} / ${rss.final} MiB (${verdict(rss.peak <= GOALS.rssMiB)})`,
    ],
    [
      'controller V8 heap used before / peak / final',
      '—',
      `${heap.before} / ${heap.peak} / ${heap.final} MiB`,
    ],
    [
      'controller CPU during the run',
      '—',
      `${cpuSeconds.toFixed(1)} s over ${run.scrapeSeconds.toFixed(1)} s = ${json.controller.averageCores} cores`,
    ],
    ['controller peak queue depth (all reconcilers)', '—', String(run.peaks.queueDepth)],
    ...reconcilers.map((r): [string, string, string] => [
      `  ${r.reconciler} reconciles (errors), mean / p95 bucket`,
      '—',
      `${r.reconciles} (${r.errors}), ${r.meanMs} / ≤${r.p95BucketMs} ms`,
    ]),
    ['controller informer restarts', '—', String(restarts)],
  ];
  if (run.cost !== undefined) {
    const { cost } = run;
    const status = Object.entries(cost.statusWrites)
      .sort((a, b) => b[1] - a[1])
      .map(([resource, n]) => `${resource} ${n.toFixed(2)}`)
      .join(', ');
    rows.push([
      'API writes per Service, whole cluster',
      '—',
      `${cost.writes.toFixed(1)} (status: ${status})`,
    ]);
    const top = Object.entries(cost.writesBy)
      .filter(([, n]) => n >= 0.05)
      .sort((a, b) => b[1] - a[1])
      .map(([key, n]) => `${key} ${n.toFixed(2)}`)
      .join(', ');
    rows.push(['  by verb and resource (≥ 0.05)', '—', top]);
    if (cost.machineCpuMs !== undefined) {
      const processes = Object.entries(cost.processCpuMs)
        .sort((a, b) => b[1] - a[1])
        .map(([name, ms]) => `${name} ${ms.toFixed(0)}`)
        .join(', ');
      rows.push(['machine CPU per Service', '—', `${cost.machineCpuMs.toFixed(0)} ms (${processes})`]);
    }
  }
  const logRow = (what: string, f: LogFigures | undefined): void => {
    if (f === undefined) return;
    rows.push([
      `controller log warnings / errors, ${what}`,
      '—',
      `${f.warnings} / ${f.errors} (${f.inBenchNamespace} name the bench namespace)`,
    ]);
  };
  if (typeof logs === 'string') rows.push(['controller log', '—', logs]);
  else {
    logRow('during the run', logs.run);
    logRow('during deletion', logs.deletion);
  }
  if (webhookRss !== undefined) {
    rows.push(['webhook RSS before / peak', '—', `${webhookRss.before ?? '?'} / ${webhookRss.peak} MiB`]);
  }
  if (deleteSeconds !== undefined) rows.push(['namespace deletion', '—', `${deleteSeconds.toFixed(1)} s`]);
  const width = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0), 6));
  const line = (r: [string, string, string]): string =>
    `| ${r.map((cell, i) => cell.padEnd(width[i] ?? 0)).join(' | ')} |`;
  const table = [
    `Controller benchmark: ${options.count} Services (initial-scale 0) at ${options.rate}/s; leader ${leader.pod}`,
    `Machine: ${m.cpus} cores (${m.model}), ${m.memoryGiB} GiB, Node ${m.node}; ${quiet === undefined ? '' : `${quiet.busyCores} cores busy at the start (${quiet.quiet ? 'quiet' : 'not quiet'} after ${quiet.waitedSeconds} s), `}load average ${m.loadAverage} at the end`,
    `Command: ${json.command}`,
    '',
    line(['figure', 'goal', 'measured']),
    `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ];
  if (typeof logs !== 'string') {
    for (const [what, f] of [
      ['run', logs.run],
      ['deletion', logs.deletion],
    ] as const) {
      for (const t of f?.top ?? []) {
        table.push(`  log (${what}): ${t.count} × ${t.msg}${t.example === '' ? '' : `: ${t.example}`}`);
      }
    }
  }
  return { table: table.join('\n'), json };
}

/** Warnings in the leader's log during the run and during the namespace's deletion. */
type Logs = { run: LogFigures; deletion: LogFigures | undefined } | string;

async function controllerLog(
  c: Clients,
  leader: Target,
  namespace: string,
  window: { start: number; ready: number; deleted: number | undefined },
): Promise<Logs> {
  try {
    const text = await c.core.readNamespacedPodLog({
      name: leader.pod,
      namespace: SYSTEM_NAMESPACE,
      sinceSeconds: Math.ceil((Date.now() - window.start) / 1000) + 1,
    });
    return {
      run: logFigures(text, window.start, window.ready, namespace),
      deletion:
        window.deleted === undefined ? undefined : logFigures(text, window.ready, window.deleted, namespace),
    };
  } catch (error) {
    return `unavailable: ${describe(error)}`;
  }
}

// ---- Main ------------------------------------------------------------------------------------

async function main(signal: AbortSignal): Promise<number> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const { kc, path } = loadKubeConfig();
  const c: Clients = {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
  const leader = await findLeader(c);
  const webhook = await findWebhook(c).catch(() => undefined);
  try {
    await scrape(leader);
  } catch (error) {
    throw new Failure(`cannot scrape the leader ${leader.pod} at ${leader.url}: ${describe(error)}`);
  }
  say(
    `${options.count} Services at ${options.rate}/s (KUBECONFIG=${path}); leader ${leader.pod}, webhook ${webhook?.pod ?? 'not found'}`,
  );

  const startedAt = Date.now();
  let restore: (() => Promise<void>) | undefined;
  let namespace: string | undefined;
  let run: Run | undefined;
  let quiet: QuietResult | undefined;
  let readyAt: number;
  let deleteSeconds: number | undefined;
  let cleanupFailed = false;
  try {
    restore = await allowZeroInitialScale(c);
    namespace = await createNamespace(c, options.prefix);
    say(`namespace ${namespace}`);
    await webhookAllowsZero(c, namespace, signal);
    quiet = await quietStart(say, signal);
    run = await measure(c, options, namespace, leader, webhook, signal);
    readyAt = Date.now();
    say(`all ${options.count} Services Ready; cleaning up`);
  } finally {
    if (namespace !== undefined) {
      const timeoutMs = Math.max(120_000, options.count * 300);
      say(`deleting namespace ${namespace} (waiting up to ${Math.round(timeoutMs / 1000)} s)`);
      try {
        deleteSeconds = await deleteNamespace(c, namespace, timeoutMs);
      } catch (error) {
        cleanupFailed = true;
        say(`cleanup: ${describe(error)}`);
      }
    }
    if (restore !== undefined) {
      try {
        await restore();
      } catch (error) {
        cleanupFailed = true;
        say(
          `cleanup: could not restore ${SYSTEM_NAMESPACE}/${AUTOSCALER_CONFIG}: ${describe(error)}; set ${ALLOW_ZERO} back by hand`,
        );
      }
    }
  }
  const logs = await controllerLog(c, leader, namespace, {
    start: startedAt,
    ready: readyAt,
    deleted: deleteSeconds === undefined ? undefined : Date.now(),
  });
  const { table, json } = report(options, run, leader, webhook, logs, deleteSeconds, quiet);
  process.stdout.write(`${table}\n\n${JSON.stringify(json)}\n`);
  return cleanupFailed ? 1 : 0;
}

const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) {
    say(
      `interrupted again: exiting without cleanup; delete namespaces labelled ${BENCH_LABEL}=controller and restore ${ALLOW_ZERO} in ${SYSTEM_NAMESPACE}/${AUTOSCALER_CONFIG} by hand`,
    );
    process.exit(130);
  }
  say('interrupted: cleaning up (Ctrl-C again to exit at once)');
  interrupt.abort();
});

try {
  process.exitCode = await main(interrupt.signal);
} catch (error) {
  say(interrupt.signal.aborted ? 'interrupted' : `failed: ${describe(error)}`);
  process.exitCode = 1;
}
