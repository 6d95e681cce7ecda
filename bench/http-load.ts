// The load generator of the data-plane benchmarks: HTTP/1.1 GETs over keep-alive connections, sent
// from worker threads so that the benchmark's own work (API calls, /proc sampling) does not delay
// them. Two shapes: closed loop (C connections, each sending its next request when the last one is
// answered) measures throughput at saturation; open loop (requests on a fixed schedule whatever the
// answers do) measures latency at a given rate. Every run is bounded in time and in count. This
// module is also the workers' entry point: a worker started with `workerData.httpLoad` runs its share.
import { Agent, request, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export interface LoadTarget {
  address: string;
  port: number;
  /** Host header; Node's default (address:port) when unset. */
  host?: string;
  path: string;
}

export type LoadShape = { kind: 'closed'; connections: number } | { kind: 'open'; rate: number };

export interface LoadSpec {
  target: LoadTarget;
  shape: LoadShape;
  durationMs: number;
  /** A request cap across all workers; the run ends at whichever bound comes first. */
  maxRequests: number;
  /** Per request; a request still unanswered this long after the run's end is abandoned. */
  timeoutMs: number;
  workers: number;
}

export interface LoadResult {
  sent: number;
  /** Answered with a 2xx status. */
  ok: number;
  /** Answers by status code, and failures without an answer by error code. */
  statuses: Record<string, number>;
  errors: Record<string, number>;
  /** Answers the gateway made itself (x-ebb-gateway: refused). */
  refused: number;
  /** Requests that went out on a connection opened for them (the rest reused one). */
  opened: number;
  /** Of 2xx answers on a connection opened for them, the latency as in latencyMs, ascending. */
  openedLatencyMs: Float64Array;
  /** From the first send to the end of the last send slot, in seconds. */
  seconds: number;
  /** 2xx answers per second. */
  throughput: number;
  /** Of 2xx answers, from the request's send to the end of its response, ascending. */
  latencyMs: Float64Array;
  /** Open loop: how late each request was sent against its schedule, ascending. */
  lagMs: Float64Array;
  /** The busiest worker's event-loop utilisation (1 means the generator itself was the limit). */
  generatorBusy: number;
}

/** One worker's share of a run. */
interface WorkerJob {
  httpLoad: true;
  target: LoadTarget;
  shape: LoadShape;
  durationMs: number;
  maxRequests: number;
  timeoutMs: number;
  /** Open loop: this worker's first send, after the common start, so workers interleave. */
  offsetMs: number;
  /** Date.now() at which all workers start. */
  startAt: number;
}

interface WorkerResult {
  sent: number;
  ok: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  refused: number;
  opened: number;
  elapsedMs: number;
  latencyMs: Float64Array<ArrayBuffer>;
  openedLatencyMs: Float64Array<ArrayBuffer>;
  lagMs: Float64Array<ArrayBuffer>;
  busy: number;
}

/** A growable Float64Array: a run can record up to a few million samples. */
class Samples {
  private data: Float64Array<ArrayBuffer> = new Float64Array(4096);
  private length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  toArray(): Float64Array<ArrayBuffer> {
    return this.data.slice(0, this.length);
  }
}

function count(tally: Record<string, number>, key: string): void {
  tally[key] = (tally[key] ?? 0) + 1;
}

/** A worker's loop: sends its share and resolves with what happened. */
function work(job: WorkerJob): Promise<WorkerResult> {
  const closed = job.shape.kind === 'closed';
  const sockets = job.shape.kind === 'closed' ? job.shape.connections : 256;
  const agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  const headers = job.target.host === undefined ? {} : { host: job.target.host };
  const latency = new Samples();
  const openedLatency = new Samples();
  const lag = new Samples();
  const result = { sent: 0, ok: 0, statuses: {}, errors: {}, refused: 0, opened: 0 };
  let inFlight = 0;
  let t0 = 0;
  let deadline = 0;
  let lastEnd = 0;
  let sending = true;
  let finished = false;
  let stopSending: () => void = () => undefined;

  const canSend = (): boolean => sending && result.sent < job.maxRequests && performance.now() < deadline;

  const send = (scheduled: number): void => {
    result.sent++;
    inFlight++;
    const sentAt = performance.now();
    if (!closed) lag.push(sentAt - scheduled);
    let settled = false;
    const done = (key: string | undefined, error?: string): void => {
      if (settled || finished) return;
      settled = true;
      inFlight--;
      lastEnd = performance.now();
      if (error !== undefined) count(result.errors, error);
      if (key !== undefined) count(result.statuses, key);
      if (closed && canSend()) send(lastEnd);
      else if (inFlight === 0 && (!sending || closed)) stopSending();
    };
    const req = request(
      { host: job.target.address, port: job.target.port, path: job.target.path, headers, agent },
      (res: IncomingMessage) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const opened = !req.reusedSocket;
          if (status >= 200 && status < 300) {
            const ms = performance.now() - sentAt;
            result.ok++;
            latency.push(ms);
            if (opened) openedLatency.push(ms);
          }
          if (res.headers['x-ebb-gateway'] === 'refused') result.refused++;
          if (opened) result.opened++;
          done(String(status));
        });
        res.on('error', (error: NodeJS.ErrnoException) => {
          done(undefined, error.code ?? error.message);
        });
      },
    );
    req.setTimeout(job.timeoutMs, () =>
      req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      done(undefined, error.code ?? error.message);
    });
    req.end();
  };

  return new Promise((resolve) => {
    const elu = performance.eventLoopUtilization();
    let hardStop: NodeJS.Timeout | undefined;
    let sendWindow: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(hardStop);
      clearTimeout(sendWindow);
      agent.destroy();
      resolve({
        ...result,
        elapsedMs: Math.max(lastEnd, t0) - t0,
        latencyMs: latency.toArray(),
        openedLatencyMs: openedLatency.toArray(),
        lagMs: lag.toArray(),
        busy: performance.eventLoopUtilization(elu).utilization,
      });
    };
    stopSending = (): void => {
      if (!sending) {
        if (inFlight === 0) finish();
        return;
      }
      sending = false;
      if (inFlight === 0) {
        finish();
        return;
      }
      hardStop = setTimeout(() => {
        const stuck = inFlight;
        for (let i = 0; i < stuck; i++) count(result.errors, 'abandoned at the end');
        inFlight = 0;
        finish();
      }, job.timeoutMs);
    };
    const begin = (): void => {
      t0 = performance.now();
      deadline = t0 + job.durationMs;
      sendWindow = setTimeout(stopSending, job.durationMs);
      if (job.shape.kind === 'closed') {
        for (let i = 0; i < job.shape.connections && canSend(); i++) send(t0);
        return;
      }
      const interval = 1000 / job.shape.rate;
      let next = t0 + job.offsetMs;
      const tick = (): void => {
        const now = performance.now();
        while (next <= now && canSend()) {
          send(next);
          next += interval;
        }
        if (!canSend() || next >= deadline) {
          stopSending();
          return;
        }
        setTimeout(tick, Math.max(0, next - performance.now()));
      };
      setTimeout(tick, Math.max(0, next - performance.now()));
    };
    setTimeout(begin, Math.max(0, job.startAt - Date.now()));
  });
}

if (!isMainThread && (workerData as { httpLoad?: unknown } | null)?.httpLoad === true) {
  const result = await work(workerData as WorkerJob);
  parentPort?.postMessage(result, [
    result.latencyMs.buffer,
    result.openedLatencyMs.buffer,
    result.lagMs.buffer,
  ]);
}

/** The samples of several runs in one ascending array. */
export function mergeSamples(arrays: Float64Array[]): Float64Array {
  const all = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    all.set(a, at);
    at += a.length;
  }
  return all.sort();
}

function addTally(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}

/** Runs the load across `spec.workers` threads and merges what they saw. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const workers = Math.max(1, Math.floor(spec.workers));
  const startAt = Date.now() + 200; // time for every worker to load this module
  const jobs: WorkerJob[] = [];
  for (let i = 0; i < workers; i++) {
    const share = (total: number): number => Math.floor(total / workers) + (i < total % workers ? 1 : 0);
    const shape: LoadShape =
      spec.shape.kind === 'closed'
        ? { kind: 'closed', connections: share(spec.shape.connections) }
        : { kind: 'open', rate: spec.shape.rate / workers };
    if (shape.kind === 'closed' && shape.connections === 0) continue;
    jobs.push({
      httpLoad: true,
      target: spec.target,
      shape,
      durationMs: spec.durationMs,
      maxRequests: share(spec.maxRequests),
      timeoutMs: spec.timeoutMs,
      offsetMs: spec.shape.kind === 'open' ? (i * 1000) / spec.shape.rate : 0,
      startAt,
    });
  }
  const results = await Promise.all(
    jobs.map(
      (job) =>
        new Promise<WorkerResult>((resolve, reject) => {
          const worker = new Worker(new URL(import.meta.url), { workerData: job });
          worker.once('message', (message: WorkerResult) => {
            resolve(message);
            void worker.terminate();
          });
          worker.once('error', reject);
          worker.once('exit', (code) => {
            reject(new Error(`a load worker exited with code ${code} before reporting`));
          });
        }),
    ),
  );
  const merged: LoadResult = {
    sent: 0,
    ok: 0,
    statuses: {},
    errors: {},
    refused: 0,
    opened: 0,
    seconds: Math.max(...results.map((r) => r.elapsedMs)) / 1000,
    throughput: 0,
    latencyMs: mergeSamples(results.map((r) => r.latencyMs)),
    openedLatencyMs: mergeSamples(results.map((r) => r.openedLatencyMs)),
    lagMs: mergeSamples(results.map((r) => r.lagMs)),
    generatorBusy: Math.max(...results.map((r) => r.busy)),
  };
  for (const r of results) {
    merged.sent += r.sent;
    merged.ok += r.ok;
    merged.refused += r.refused;
    merged.opened += r.opened;
    addTally(merged.statuses, r.statuses);
    addTally(merged.errors, r.errors);
  }
  merged.throughput = merged.seconds > 0 ? merged.ok / merged.seconds : 0;
  return merged;
}
