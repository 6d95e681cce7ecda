// One pod's life on the node, as the kubelet lives it: a network sandbox, volumes, each container
// as a process in the pod's network namespace and its own mount namespace (cluster DNS in
// /etc/resolv.conf, volumes where the spec mounts them), probes, restarts with back-off, status
// written to the API server, and graceful deletion (preStop, SIGTERM, grace period, SIGKILL,
// then the final delete).
import {
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Api,
  type V1Container,
  type V1ContainerState,
  type V1ContainerStatus,
  type V1Pod,
  type V1PodCondition,
} from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveImage } from '../images.ts';
import { BRIDGE_IP, CLUSTER_DOMAIN, DNS_SERVICE_IP } from '../topology.ts';
import { containerEnv } from './env.ts';
import { runProbe } from './probes.ts';
import { createSandbox, deleteSandbox, type AddressPool } from './sandbox.ts';
import type { PreparedVolumes, VolumeBuilder } from './volumes.ts';

export interface WorkerDeps {
  core: CoreV1Api;
  volumes: VolumeBuilder;
  pool: AddressPool;
  podsDir: string;
  log: (fields: Record<string, unknown>, message: string) => void;
}

const now = () => new Date();
const MAX_BACKOFF_MS = 30_000;
/** How often a container whose image is not built yet looks again. */
const NOT_BUILT_RETRY_MS = 1_000;

class ContainerRunner {
  readonly spec: V1Container;
  proc: ChildProcess | undefined;
  state: V1ContainerState = { waiting: { reason: 'ContainerCreating' } };
  lastState: V1ContainerState = {};
  restartCount = 0;
  ready = false;
  started = false;
  /** Set while the worker itself is stopping the process (liveness failure or deletion). */
  stopping = false;
  timers: NodeJS.Timeout[] = [];
  backoffMs = 1000;

  constructor(spec: V1Container) {
    this.spec = spec;
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }
}

const VOLUME_TIMEOUT_MS = 15_000;
const VOLUME_ATTEMPTS = 8;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer from the API server within ${ms / 1000} s`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

export class PodWorker {
  pod: V1Pod;
  private readonly deps: WorkerDeps;
  private ip = '';
  private netns = '';
  private readonly dir: string;
  private readonly containers = new Map<string, ContainerRunner>();
  private initialized = false;
  private sandboxReady = false;
  private terminating = false;
  private done = false;
  private statusTimer: NodeJS.Timeout | undefined;
  private lastStatus = '';
  private createdMountpoints: string[] = [];
  private volumesReady: Promise<PreparedVolumes> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(pod: V1Pod, deps: WorkerDeps) {
    this.pod = pod;
    this.deps = deps;
    this.dir = join(deps.podsDir, `${this.namespace}_${this.name}_${this.uid}`);
  }

  get name(): string {
    return this.pod.metadata?.name ?? '';
  }
  get namespace(): string {
    return this.pod.metadata?.namespace ?? 'default';
  }
  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  logPath(container: string): string {
    return join(this.dir, `${container}.log`);
  }

  private log(message: string, fields: Record<string, unknown> = {}): void {
    this.deps.log({ pod: `${this.namespace}/${this.name}`, ...fields }, message);
  }

  /** A newer version of the pod arrived from the API server. */
  update(pod: V1Pod): void {
    this.pod = pod;
    if (pod.metadata?.deletionTimestamp !== undefined && !this.terminating) {
      void this.terminate(
        pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30,
        true,
      );
    }
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.ip = this.deps.pool.allocate();
    // Volumes (ServiceAccount token, configMaps, secrets) are fetched while the sandbox is built.
    this.volumesReady = this.prepareVolumes();
    this.volumesReady.then(
      (prepared) => {
        if (prepared.refreshInMs === undefined) return;
        const refresh = () => void this.deps.volumes.prepare(this.pod, this.dir, true).catch(() => undefined);
        this.refreshTimer = setInterval(refresh, prepared.refreshInMs);
      },
      () => undefined,
    );
    this.netns = await createSandbox(this.uid, this.ip);
    this.sandboxReady = true;
    await writeFile(
      join(this.dir, 'resolv.conf'),
      `nameserver ${DNS_SERVICE_IP}\nsearch ${this.namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}\noptions ndots:5\n`,
    );
    await writeFile(
      join(this.dir, 'hosts'),
      `127.0.0.1\tlocalhost\n::1\tlocalhost\n${this.ip}\t${this.name}\n`,
    );
    await mkdir(join(this.dir, 'home'), { recursive: true });
    this.log('sandbox ready', { ip: this.ip });
    this.scheduleStatus();
    for (const spec of this.pod.spec?.initContainers ?? []) {
      const runner = new ContainerRunner(spec);
      this.containers.set(spec.name, runner);
    }
    for (const spec of this.pod.spec?.containers ?? [])
      this.containers.set(spec.name, new ContainerRunner(spec));
    for (const spec of this.pod.spec?.initContainers ?? []) {
      const code = await this.runToCompletion(spec.name);
      if (this.terminating) return;
      if (code !== 0) {
        this.scheduleStatus();
        return;
      }
    }
    this.initialized = true;
    for (const spec of this.pod.spec?.containers ?? []) void this.launch(spec.name);
    this.scheduleStatus();
  }

  /**
   * Fills the pod's volumes, retrying while the pod lives: a TokenRequest or ConfigMap read that
   * the API server never answers (it happens when the machine is saturated) must not leave the pod
   * without containers for good, as a kubelet would not.
   */
  private async prepareVolumes(): Promise<PreparedVolumes> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await withTimeout(this.deps.volumes.prepare(this.pod, this.dir), VOLUME_TIMEOUT_MS);
      } catch (error) {
        if (this.terminating || attempt >= VOLUME_ATTEMPTS) throw error;
        this.log('volumes not ready; retrying', { error: (error as Error).message, attempt });
        await sleep(1000);
      }
    }
  }

  private async runToCompletion(name: string): Promise<number> {
    for (;;) {
      const code = await new Promise<number>((resolve) => {
        void this.launch(name, resolve);
      });
      if (code === 0 || this.terminating || this.pod.spec?.restartPolicy === 'Never') return code;
      const runner = this.containers.get(name);
      if (runner === undefined) return code;
      await sleep(runner.backoffMs);
      runner.backoffMs = Math.min(runner.backoffMs * 2, MAX_BACKOFF_MS);
    }
  }

  /** Starts one container; `onExit` is for init containers, which run to completion. */
  private async launch(name: string, onExit?: (code: number) => void): Promise<void> {
    const runner = this.containers.get(name);
    if (runner === undefined || this.terminating) return;
    const spec = runner.spec;
    const image = resolveImage(spec.image ?? '');
    if (image === undefined) {
      runner.state = {
        waiting: {
          reason: 'ErrImagePull',
          message: `image "${spec.image ?? ''}" is not in the local cluster's image table (e2e/cluster/images.ts)`,
        },
      };
      this.scheduleStatus();
      onExit?.(1);
      return;
    }
    if (image.notBuilt !== undefined) {
      // Waits for the build rather than failing: `npm run deploy` builds it, then the container
      // starts within one retry, with no crash-loop backoff to sit out.
      runner.state = { waiting: { reason: 'ImagePullBackOff', message: image.notBuilt } };
      this.scheduleStatus();
      runner.timers.push(setTimeout(() => void this.launch(name, onExit), NOT_BUILT_RETRY_MS));
      return;
    }
    let env: Record<string, string>;
    let volumePaths: Map<string, string>;
    try {
      [env, { paths: volumePaths }] = await Promise.all([
        containerEnv(this.deps.core, this.pod, spec, this.ip),
        this.volumesReady ?? this.deps.volumes.prepare(this.pod, this.dir),
      ]);
    } catch (error) {
      runner.state = { waiting: { reason: 'CreateContainerConfigError', message: (error as Error).message } };
      this.scheduleStatus();
      onExit?.(1);
      return;
    }
    const command = [...(spec.command ?? image.command), ...(spec.args ?? [])];
    const script = await this.mountScript(spec, volumePaths);
    const log = openSync(this.logPath(name), 'a');
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        this.netns,
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        '/bin/sh',
        '-c',
        script,
        'ebb-container',
        ...command,
      ],
      {
        stdio: ['ignore', log, log],
        env: { HOME: join(this.dir, 'home'), ...image.env, ...env, EBB_WORKDIR: spec.workingDir ?? '/' },
        detached: true,
      },
    );
    closeSync(log);
    runner.proc = child;
    runner.stopping = false;
    const startedAt = now();
    runner.state = { running: { startedAt } };
    runner.ready = false;
    runner.started = spec.startupProbe === undefined;
    this.log('container started', { container: name, pid: child.pid });
    this.scheduleStatus();
    if (onExit === undefined) this.startProbes(runner);
    child.on('exit', (code, signal) => {
      runner.clearTimers();
      runner.proc = undefined;
      runner.ready = false;
      const exitCode = code ?? (signal === 'SIGKILL' ? 137 : 143);
      void this.terminatedState(name, exitCode, signal, startedAt).then((state) => {
        runner.state = state;
        this.log('container exited', { container: name, exitCode, signal });
        this.scheduleStatus();
        if (onExit !== undefined) {
          onExit(exitCode);
          return;
        }
        if (this.terminating) return;
        const policy = this.pod.spec?.restartPolicy ?? 'Always';
        if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) return;
        runner.lastState = state;
        runner.restartCount++;
        const delay = runner.backoffMs;
        runner.backoffMs = Math.min(runner.backoffMs * 2, MAX_BACKOFF_MS);
        runner.state = {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off ${delay / 1000}s restarting failed container=${name} pod=${this.name}`,
          },
        };
        this.scheduleStatus();
        runner.timers.push(setTimeout(() => void this.launch(name), delay));
      });
    });
  }

  private async terminatedState(
    name: string,
    exitCode: number,
    signal: NodeJS.Signals | null,
    startedAt: Date,
  ): Promise<V1ContainerState> {
    let message: string | undefined;
    if (exitCode !== 0) {
      const tail = await readFile(this.logPath(name), 'utf8').catch(() => '');
      message = tail.slice(-2048).trim() || undefined;
    }
    return {
      terminated: {
        exitCode,
        reason: exitCode === 0 ? 'Completed' : 'Error',
        ...(signal === null ? {} : { signal: signal === 'SIGKILL' ? 9 : 15 }),
        ...(message === undefined ? {} : { message }),
        startedAt,
        finishedAt: now(),
      },
    };
  }

  /** Shell that sets up the container's mount namespace, then execs its command. */
  private async mountScript(spec: V1Container, volumePaths: Map<string, string>): Promise<string> {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const lines = [
      'set -e',
      'mount -t tmpfs -o mode=0755 tmpfs /run',
      `mount --bind ${q(join(this.dir, 'resolv.conf'))} /etc/resolv.conf`,
      `mount --bind ${q(join(this.dir, 'hosts'))} /etc/hosts`,
    ];
    for (const m of spec.volumeMounts ?? []) {
      const source = volumePaths.get(m.name);
      if (source === undefined) continue;
      const target = m.mountPath.startsWith('/var/run/')
        ? m.mountPath.replace(/^\/var\/run\//, '/run/')
        : m.mountPath;
      const src = m.subPath === undefined || m.subPath === '' ? source : join(source, m.subPath);
      if (!target.startsWith('/run/') && !existsSync(target)) {
        const isFile = await stat(src)
          .then((s) => s.isFile())
          .catch(() => false);
        if (isFile) await writeFile(target, '');
        else await mkdir(target, { recursive: true });
        this.createdMountpoints.push(target);
      }
      lines.push(`mkdir -p ${q(target)} 2>/dev/null || true`);
      lines.push(`mount --bind ${q(src)} ${q(target)}`);
      if (m.readOnly === true) lines.push(`mount -o remount,bind,ro ${q(target)}`);
    }
    lines.push('cd "$EBB_WORKDIR"', 'unset EBB_WORKDIR', 'exec "$@"');
    return lines.join('\n');
  }

  private startProbes(runner: ContainerRunner): void {
    const spec = runner.spec;
    const loop = (kind: 'readiness' | 'liveness' | 'startup') => {
      const probe =
        kind === 'readiness'
          ? spec.readinessProbe
          : kind === 'liveness'
            ? spec.livenessProbe
            : spec.startupProbe;
      if (probe === undefined) {
        // No readiness probe: ready as soon as the container has started (its startup probe, if
        // any, has passed).
        const markReady = (): void => {
          if (kind !== 'readiness' || runner.proc === undefined || this.terminating) return;
          if (!runner.started) {
            runner.timers.push(setTimeout(markReady, 25));
            return;
          }
          runner.ready = true;
          this.scheduleStatus();
        };
        markReady();
        return;
      }
      let successes = 0;
      let failures = 0;
      const tick = async () => {
        if (runner.proc === undefined || this.terminating) return;
        if (kind !== 'startup' && !runner.started) {
          runner.timers.push(setTimeout(() => void tick(), 100));
          return;
        }
        const ok = await runProbe(probe, spec, this.ip, this.netns);
        if (ok) {
          successes++;
          failures = 0;
        } else {
          failures++;
          successes = 0;
        }
        if (kind === 'readiness') {
          const before = runner.ready;
          if (ok && successes >= (probe.successThreshold ?? 1)) runner.ready = true;
          if (!ok && failures >= (probe.failureThreshold ?? 3)) runner.ready = false;
          if (before !== runner.ready) this.scheduleStatus();
        } else if (kind === 'startup' && ok) {
          runner.started = true;
          this.scheduleStatus();
          return;
        } else if (!ok && failures >= (probe.failureThreshold ?? 3)) {
          this.log(`${kind} probe failed, restarting`, { container: spec.name });
          void this.stopContainer(
            runner,
            probe.terminationGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30,
          );
          return;
        }
        // Until a container first turns ready, readiness is probed every 25 ms rather than every
        // period, so a pod is Ready as soon as its app listens (the kubelet would wait a period).
        const waitingForFirstReady = kind === 'readiness' && !runner.ready && successes === 0;
        const delay = waitingForFirstReady ? 25 : (probe.periodSeconds ?? 10) * 1000;
        runner.timers.push(setTimeout(() => void tick(), delay));
      };
      runner.timers.push(setTimeout(() => void tick(), (probe.initialDelaySeconds ?? 0) * 1000));
    };
    loop('startup');
    loop('readiness');
    loop('liveness');
  }

  private async stopContainer(runner: ContainerRunner, graceSeconds: number): Promise<void> {
    const proc = runner.proc;
    if (proc?.pid === undefined) return;
    runner.stopping = true;
    runner.clearTimers();
    const exited = new Promise<void>((resolve) =>
      proc.once('exit', () => {
        resolve();
      }),
    );
    proc.kill('SIGTERM');
    const timeout = sleep(graceSeconds * 1000).then(() => 'timeout' as const);
    if ((await Promise.race([exited.then(() => 'exited' as const), timeout])) === 'timeout') {
      proc.kill('SIGKILL');
      await exited;
    }
  }

  private async preStop(runner: ContainerRunner): Promise<void> {
    const hook = runner.spec.lifecycle?.preStop;
    if (hook === undefined || runner.proc === undefined) return;
    if (hook.exec?.command !== undefined) {
      await new Promise<void>((resolve) => {
        // The hook's output goes to the container's log, where users look for it.
        const log = openSync(this.logPath(runner.spec.name), 'a');
        const child = spawn('ip', ['netns', 'exec', this.netns, ...(hook.exec?.command ?? [])], {
          stdio: ['ignore', log, log],
        });
        closeSync(log);
        child.on('exit', () => {
          resolve();
        });
        child.on('error', () => {
          resolve();
        });
      });
    } else if (hook.httpGet !== undefined) {
      await runProbe({ httpGet: hook.httpGet, timeoutSeconds: 30 }, runner.spec, this.ip, this.netns);
    } else if (hook.sleep !== undefined) {
      await sleep(hook.sleep.seconds * 1000);
    }
  }

  /** Graceful stop of every container, then the sandbox; `remove` deletes the Pod object too. */
  async terminate(graceSeconds: number, remove: boolean): Promise<void> {
    if (this.terminating) return;
    this.terminating = true;
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    this.log('terminating', { graceSeconds });
    const deadline = Date.now() + graceSeconds * 1000;
    await Promise.all(
      [...this.containers.values()].map(async (runner) => {
        runner.clearTimers();
        await Promise.race([this.preStop(runner), sleep(Math.max(0, deadline - Date.now()))]);
        await this.stopContainer(runner, Math.max(0, (deadline - Date.now()) / 1000));
      }),
    );
    await this.flushStatus();
    await deleteSandbox(this.uid);
    for (const dir of this.createdMountpoints.reverse())
      await rmdir(dir).catch(() => rm(dir, { force: true }).catch(() => undefined));
    if (this.ip !== '') this.deps.pool.release(this.ip);
    await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    this.done = true;
    if (remove) {
      try {
        await this.deps.core.deleteNamespacedPod({
          name: this.name,
          namespace: this.namespace,
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
        });
      } catch (error) {
        this.log('final delete failed', { error: (error as Error).message });
      }
    }
    this.log('terminated');
  }

  get finished(): boolean {
    return this.done;
  }

  // ---- status ----

  private scheduleStatus(): void {
    if (this.statusTimer !== undefined || this.done) return;
    this.statusTimer = setTimeout(() => void this.flushStatus(), 5);
  }

  private containerStatus(runner: ContainerRunner): V1ContainerStatus {
    return {
      name: runner.spec.name,
      image: runner.spec.image ?? '',
      imageID: `ebb://${runner.spec.image ?? ''}`,
      ...(runner.proc?.pid === undefined ? {} : { containerID: `ebb://${runner.proc.pid}` }),
      ready: runner.ready,
      started: runner.proc !== undefined && runner.started,
      restartCount: runner.restartCount,
      state: runner.state,
      lastState: runner.lastState,
    };
  }

  /**
   * Writes the pod's status if it changed. One write at a time: two patches in flight together can
   * reach the API server in either order, and an older status applied last (Ready=False after
   * Ready=True) would stay there, as nothing changes on the node to write it again. A call made
   * while a write is in flight runs once more after it, with the state as it is then.
   */
  flushStatus(): Promise<void> {
    if (this.statusTimer !== undefined) clearTimeout(this.statusTimer);
    this.statusTimer = undefined;
    this.statusRequests++;
    if (this.statusWrite !== undefined) return this.statusWrite;
    this.statusWrite = (async () => {
      try {
        let written;
        do {
          written = this.statusRequests;
          await this.writeStatus();
        } while (written !== this.statusRequests);
      } finally {
        this.statusWrite = undefined;
      }
    })();
    return this.statusWrite;
  }

  private statusWrite: Promise<void> | undefined;
  /** Counts calls to flushStatus, so a write can tell whether another was asked for meanwhile. */
  private statusRequests = 0;

  private async writeStatus(): Promise<void> {
    if (this.done) return;
    const inits = (this.pod.spec?.initContainers ?? [])
      .map((c) => this.containers.get(c.name))
      .filter((r) => r !== undefined);
    const mains = (this.pod.spec?.containers ?? [])
      .map((c) => this.containers.get(c.name))
      .filter((r) => r !== undefined);
    const allReady = mains.length > 0 && mains.every((r) => r.ready);
    const anyRunning = mains.some((r) => r.proc !== undefined);
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    const allTerminated = mains.length > 0 && mains.every((r) => r.state.terminated !== undefined);
    const phase =
      policy !== 'Always' && allTerminated
        ? mains.every((r) => r.state.terminated?.exitCode === 0)
          ? 'Succeeded'
          : 'Failed'
        : anyRunning || mains.some((r) => r.restartCount > 0)
          ? 'Running'
          : 'Pending';
    const cond = (type: string, ok: boolean, reason?: string): V1PodCondition => ({
      type,
      status: ok ? 'True' : 'False',
      lastTransitionTime: this.transition(type, ok),
      ...(ok || reason === undefined ? {} : { reason }),
    });
    const status = {
      phase,
      hostIP: BRIDGE_IP,
      // `$patch: replace`: the strategic merge would otherwise add this IP to the list beside the
      // one a pod re-adopted after a node restart had before, which the API server rejects.
      hostIPs: [{ $patch: 'replace' }, { ip: BRIDGE_IP }],
      ...(this.ip === '' ? {} : { podIP: this.ip, podIPs: [{ $patch: 'replace' }, { ip: this.ip }] }),
      startTime: this.startTime,
      conditions: [
        cond('PodReadyToStartContainers', this.sandboxReady),
        cond('Initialized', this.initialized, 'ContainersNotInitialized'),
        cond('ContainersReady', allReady, 'ContainersNotReady'),
        cond('Ready', allReady && !this.terminating, 'ContainersNotReady'),
      ],
      containerStatuses: mains.map((r) => this.containerStatus(r)),
      ...(inits.length === 0 ? {} : { initContainerStatuses: inits.map((r) => this.containerStatus(r)) }),
    };
    const text = JSON.stringify({
      ...status,
      conditions: status.conditions.map((c) => [c.type, c.status, c.reason]),
    });
    if (text === this.lastStatus) return;
    try {
      await this.deps.core.patchNamespacedPodStatus(
        { name: this.name, namespace: this.namespace, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      this.lastStatus = text;
    } catch (error) {
      this.log('status update failed', { error: (error as Error).message });
      this.statusTimer = setTimeout(() => void this.flushStatus(), 1000);
    }
  }

  private readonly startTime = now();
  private readonly transitions = new Map<string, { ok: boolean; at: Date }>();

  private transition(type: string, ok: boolean): Date {
    const previous = this.transitions.get(type);
    if (previous?.ok === ok) return previous.at;
    const at = now();
    this.transitions.set(type, { ok, at });
    return at;
  }
}
