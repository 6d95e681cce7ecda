// One pod's life on the node, as the kubelet lives it: a network sandbox, volumes, each container
// as a process in the pod's network namespace and its own mount namespace (cluster DNS in
// /etc/resolv.conf, volumes where the spec mounts them) and memory cgroup (its memory limit, and
// OOMKilled when it goes over), probes, restarts with back-off, status written to the API server,
// and graceful deletion (preStop, SIGTERM, grace period, SIGKILL, then the final delete). Whatever
// goes wrong with the pod stays the pod's: a container that cannot start is waiting with the
// kubelet's reason and a message, and is tried again.
import {
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Api,
  type V1Container,
  type V1ContainerState,
  type V1ContainerStatus,
  type V1Pod,
} from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { imageID, resolveImage, type ImageFile } from '../images.ts';
import { errorMessage } from '../shell.ts';
import { BRIDGE_IP, CLUSTER_DOMAIN, DNS_SERVICE_IP } from '../topology.ts';
import {
  localHostFs,
  planMounts,
  SETUP_FAILED_EXIT,
  setupFailure,
  setupScript,
  skeletonFstab,
  subPathSource,
  type ContainerMount,
  type EntryKind,
} from './container-mounts.ts';
import { containerEnv } from './env.ts';
import { inCgroup, memoryLimit, type MemoryCgroups } from './memory-cgroup.ts';
import { runProbe } from './probes.ts';
import { createSandbox, deleteSandbox, type AddressPool } from './sandbox.ts';
import type { PreparedVolumes, VolumeBuilder } from './volumes.ts';

export interface WorkerDeps {
  core: CoreV1Api;
  volumes: VolumeBuilder;
  pool: AddressPool;
  /** Where containers' memory limits are enforced (MemoryCgroups.none: nowhere). */
  cgroups: MemoryCgroups;
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
  /** What the status reports as imageID once the image is resolved ('' before, as kubelet). */
  imageID = '';
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

/**
 * A container that could not be created or started, with the kubelet's reason: for example
 * `CreateContainerConfigError` (its env or volumes), `CreateContainerError` (its mounts) or
 * `RunContainerError` (its process).
 */
class ContainerError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/** Runs `what`, turning any failure into a ContainerError with `reason`. */
async function failingAs<T>(reason: string, what: () => Promise<T> | T): Promise<T> {
  try {
    return await what();
  } catch (error) {
    if (error instanceof ContainerError) throw error;
    throw new ContainerError(reason, errorMessage(error), { cause: error });
  }
}

const VOLUME_TIMEOUT_MS = 15_000;

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
    void this.volumes().catch(() => undefined);
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
   * The pod's volumes, filled once for all its containers. A failed attempt (a ConfigMap not there
   * yet, or a TokenRequest the API server never answers, as happens when the machine is
   * saturated) is forgotten, so the next container launch, after its back-off, tries again.
   */
  private volumes(): Promise<PreparedVolumes> {
    if (this.volumesReady !== undefined) return this.volumesReady;
    const ready = withTimeout(this.deps.volumes.prepare(this.pod, this.dir), VOLUME_TIMEOUT_MS);
    this.volumesReady = ready;
    ready.then(
      (prepared) => {
        if (prepared.refreshInMs === undefined || this.refreshTimer !== undefined || this.terminating) return;
        const refresh = () =>
          void this.deps.volumes.prepare(this.pod, this.dir, true).catch((error: unknown) => {
            this.log('volume refresh failed', { error: errorMessage(error) });
          });
        this.refreshTimer = setInterval(refresh, prepared.refreshInMs);
      },
      (error: unknown) => {
        if (this.volumesReady === ready) this.volumesReady = undefined;
        this.log('volumes not ready', { error: errorMessage(error) });
      },
    );
    return ready;
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

  /**
   * Starts one container; `onExit` is for init containers, which run to completion. Never
   * rejects: what keeps the container from starting becomes its status (waiting, with the
   * kubelet's reason and a message), and it is tried again after a back-off, as the kubelet does.
   */
  private async launch(name: string, onExit?: (code: number) => void): Promise<void> {
    const runner = this.containers.get(name);
    if (runner === undefined || this.terminating) return;
    try {
      await this.startContainer(runner, onExit);
    } catch (error) {
      this.notStarted(runner, error, onExit);
    }
  }

  private notStarted(runner: ContainerRunner, error: unknown, onExit?: (code: number) => void): void {
    if (this.terminating) return;
    const name = runner.spec.name;
    const reason = error instanceof ContainerError ? error.reason : 'CreateContainerError';
    // A ContainerError's message already ends with its cause's.
    const message = error instanceof ContainerError ? error.message : errorMessage(error);
    this.log('container not started', { container: name, reason, error: message });
    runner.state = { waiting: { reason, message } };
    this.scheduleStatus();
    const delay = runner.backoffMs;
    runner.backoffMs = Math.min(runner.backoffMs * 2, MAX_BACKOFF_MS);
    runner.timers.push(setTimeout(() => void this.launch(name, onExit), delay));
  }

  private async startContainer(runner: ContainerRunner, onExit?: (code: number) => void): Promise<void> {
    const spec = runner.spec;
    const name = spec.name;
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
    runner.imageID = await imageID(spec.image ?? '', image).catch(() => '');
    const [env, volumes] = await failingAs('CreateContainerConfigError', () =>
      Promise.all([containerEnv(this.deps.core, this.pod, spec, this.ip), this.volumes()]),
    );
    const limit = await failingAs('CreateContainerConfigError', () => memoryLimit(spec));
    const script = await this.mountScript(spec, volumes.paths, image.files ?? []);
    const cgroup = await failingAs('CreateContainerError', () =>
      this.deps.cgroups.create(this.uid, name, limit),
    );
    if (this.terminating) {
      if (cgroup !== undefined) await this.deps.cgroups.discard(cgroup);
      return;
    }
    const command = [...(spec.command ?? image.command), ...(spec.args ?? [])];
    const argv = [
      'ip',
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
    ];
    const [file = '', ...args] = cgroup === undefined ? argv : inCgroup(cgroup.procs, argv);
    const child = await failingAs('RunContainerError', () => {
      const log = openSync(this.logPath(name), 'a');
      try {
        return spawn(file, args, {
          stdio: ['ignore', log, log],
          env: { HOME: join(this.dir, 'home'), ...image.env, ...env, EBB_WORKDIR: spec.workingDir ?? '/' },
          detached: true,
        });
      } finally {
        closeSync(log);
      }
    }).catch(async (error: unknown) => {
      if (cgroup !== undefined) await this.deps.cgroups.discard(cgroup);
      throw error;
    });
    runner.proc = child;
    runner.stopping = false;
    const startedAt = now();
    runner.state = { running: { startedAt } };
    runner.ready = false;
    runner.started = spec.startupProbe === undefined;
    this.log('container started', { container: name, pid: child.pid });
    this.scheduleStatus();
    if (onExit === undefined) this.startProbes(runner);
    child.on('error', (error) => {
      // Only a process that never started ends here; one that could not be signalled is still
      // running, and its exit is handled below.
      if (child.pid !== undefined || runner.proc !== child) return;
      runner.clearTimers();
      runner.proc = undefined;
      if (cgroup !== undefined) void this.deps.cgroups.discard(cgroup);
      this.notStarted(runner, new ContainerError('RunContainerError', errorMessage(error)), onExit);
    });
    child.on('exit', (code, signal) => {
      runner.clearTimers();
      runner.proc = undefined;
      runner.ready = false;
      const exitCode = code ?? (signal === 'SIGKILL' ? 137 : 143);
      const oomKilled =
        cgroup === undefined
          ? Promise.resolve(false)
          : this.deps.cgroups.release(cgroup, { code: exitCode, signal });
      void oomKilled
        .then((oom) => this.terminatedState(name, exitCode, signal, startedAt, oom))
        .then((state) => {
          this.exited(runner, state, onExit);
        })
        .catch((error: unknown) => {
          this.log('container exit not handled', { container: name, error: errorMessage(error) });
        });
    });
  }

  private exited(runner: ContainerRunner, state: V1ContainerState, onExit?: (code: number) => void): void {
    const name = runner.spec.name;
    const exitCode = state.terminated?.exitCode ?? 1;
    runner.state = state;
    this.log('container exited', { container: name, exitCode, reason: state.terminated?.reason });
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
  }

  private async terminatedState(
    name: string,
    exitCode: number,
    signal: NodeJS.Signals | null,
    startedAt: Date,
    oomKilled: boolean,
  ): Promise<V1ContainerState> {
    if (exitCode === SETUP_FAILED_EXIT) {
      // The container's mounts failed before its command ran: the kubelet's StartError, which
      // containerd reports with exit code 128.
      const failed = this.setupFiles(name).failed;
      const text = await readFile(failed, 'utf8').catch(() => undefined);
      if (text !== undefined) {
        await rm(failed, { force: true });
        const message = setupFailure(text);
        return { terminated: { exitCode: 128, reason: 'StartError', message, startedAt, finishedAt: now() } };
      }
    }
    let message: string | undefined;
    if (exitCode !== 0) {
      const tail = await readFile(this.logPath(name), 'utf8').catch(() => '');
      message = tail.slice(-2048).trim() || undefined;
    }
    return {
      terminated: {
        exitCode,
        // As containerd: an OOM kill in the container's cgroup names the exit, whatever its code.
        reason: oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
        ...(signal === null ? {} : { signal: signal === 'SIGKILL' ? 9 : 15 }),
        ...(message === undefined ? {} : { message }),
        startedAt,
        finishedAt: now(),
      },
    };
  }

  private setupFiles(container: string) {
    return {
      fstab: join(this.dir, `${container}.fstab`),
      log: join(this.dir, `${container}.setup.log`),
      failed: join(this.dir, `${container}.setup-failed`),
    };
  }

  /** Shell that sets up the container's mount namespace (see container-mounts.ts), then execs
   * its command. */
  private async mountScript(
    spec: V1Container,
    volumePaths: Map<string, string>,
    imageFiles: readonly ImageFile[],
  ): Promise<string> {
    const mounts: ContainerMount[] = [
      // What the image itself holds at fixed paths (a ko-built image's /ko-app/<name>), for a
      // command, an exec probe or a hook that names it.
      ...imageFiles.map((f) => ({
        what: `the image's ${f.target}`,
        source: f.source,
        sourceKind: 'file' as const,
        target: f.target,
        readOnly: true,
      })),
      {
        what: "the pod's resolv.conf",
        source: join(this.dir, 'resolv.conf'),
        sourceKind: 'file',
        target: '/etc/resolv.conf',
        readOnly: false,
      },
      {
        what: "the pod's hosts file",
        source: join(this.dir, 'hosts'),
        sourceKind: 'file',
        target: '/etc/hosts',
        readOnly: false,
      },
    ];
    for (const [i, m] of (spec.volumeMounts ?? []).entries()) {
      const at = `container "${spec.name}" volumeMounts[${i}] (volume "${m.name}")`;
      const volume = volumePaths.get(m.name);
      if (volume === undefined)
        throw new ContainerError('CreateContainerConfigError', `${at}: the pod has no such volume`);
      const { source, kind } = await this.mountSource(volume, m.subPath).catch((error: unknown) => {
        throw new ContainerError('CreateContainerConfigError', `${at}: ${errorMessage(error)}`, {
          cause: error,
        });
      });
      mounts.push({
        what: `volume "${m.name}"`,
        source,
        sourceKind: kind,
        target: m.mountPath,
        readOnly: m.readOnly === true,
      });
    }
    return failingAs('CreateContainerError', async () => {
      const plan = planMounts(mounts, localHostFs);
      const files = this.setupFiles(spec.name);
      if (plan.root !== undefined) await writeFile(files.fstab, skeletonFstab(plan.root));
      return setupScript(plan, files);
    });
  }

  /**
   * A volumeMount's source and its kind. A subPath missing from the volume is made there as a
   * directory, as the kubelet does, and one that leads out of the volume through a symlink is
   * refused: the agent writes nothing outside the pod's directory.
   */
  private async mountSource(
    volume: string,
    subPath: string | undefined,
  ): Promise<{ source: string; kind: EntryKind }> {
    const source = subPathSource(volume, subPath);
    let existing = source;
    for (;;) {
      const found = await stat(existing).catch(() => undefined);
      if (found !== undefined || existing === volume) break;
      existing = dirname(existing);
    }
    const [real, realVolume] = await Promise.all([realpath(existing), realpath(volume)]);
    const inside = relative(realVolume, real);
    if (inside === '..' || inside.startsWith('../') || isAbsolute(inside))
      throw new Error(`subPath "${subPath ?? ''}" leads out of the volume, to ${real}`);
    if (existing !== source) {
      await mkdir(source, { recursive: true }).catch((error: unknown) => {
        const code = (error as { code?: string }).code ?? errorMessage(error);
        throw new Error(`subPath "${subPath ?? ''}" cannot be made in the volume (${code})`);
      });
    }
    return { source, kind: (await stat(source)).isDirectory() ? 'dir' : 'file' };
  }

  /** The command prefix that runs a command inside a container, as an exec probe or a preStop
   * hook does: in its network and mount namespaces and its root. */
  private execIn(runner: ContainerRunner): string[] {
    const pid = runner.proc?.pid;
    return pid === undefined
      ? ['ip', 'netns', 'exec', this.netns]
      : ['nsenter', `--target=${pid}`, '--net', '--mount', '--root', '--wd', '--'];
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
      const tickIn = (ms: number) => {
        runner.timers.push(
          setTimeout(() => {
            this.background(`${kind} probe`, tick);
          }, ms),
        );
      };
      const tick = async () => {
        if (runner.proc === undefined || this.terminating) return;
        if (kind !== 'startup' && !runner.started) {
          tickIn(100);
          return;
        }
        const ok = await runProbe(probe, spec, this.ip, this.execIn(runner));
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
          const grace =
            probe.terminationGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
          this.background('stopping the container', () => this.stopContainer(runner, grace));
          return;
        }
        // Until a container first turns ready, readiness is probed every 25 ms rather than every
        // period, so a pod is Ready as soon as its app listens (the kubelet would wait a period).
        const waitingForFirstReady = kind === 'readiness' && !runner.ready && successes === 0;
        const delay = waitingForFirstReady ? 25 : (probe.periodSeconds ?? 10) * 1000;
        tickIn(delay);
      };
      tickIn((probe.initialDelaySeconds ?? 0) * 1000);
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
        const [file = '', ...args] = [...this.execIn(runner), ...(hook.exec?.command ?? [])];
        const child = spawn(file, args, { stdio: ['ignore', log, log] });
        closeSync(log);
        child.on('exit', () => {
          resolve();
        });
        child.on('error', () => {
          resolve();
        });
      });
    } else if (hook.httpGet !== undefined) {
      await runProbe(
        { httpGet: hook.httpGet, timeoutSeconds: 30 },
        runner.spec,
        this.ip,
        this.execIn(runner),
      );
    } else if (hook.sleep !== undefined) {
      await sleep(hook.sleep.seconds * 1000);
    }
  }

  /**
   * Graceful stop of every container, then the sandbox; `remove` deletes the Pod object too.
   * Never rejects: each step's failure is logged and the next still runs, so the pod's address
   * and directory are always released.
   */
  async terminate(graceSeconds: number, remove: boolean): Promise<void> {
    if (this.terminating) return;
    this.terminating = true;
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    this.log('terminating', { graceSeconds });
    const step = (what: string, task: Promise<unknown>) =>
      task.then(
        () => undefined,
        (error: unknown) => {
          this.log(`${what} failed`, { error: errorMessage(error) });
        },
      );
    const deadline = Date.now() + graceSeconds * 1000;
    await Promise.all(
      [...this.containers.values()].map(async (runner) => {
        runner.clearTimers();
        const left = () => Math.max(0, deadline - Date.now());
        await step(`preStop of ${runner.spec.name}`, Promise.race([this.preStop(runner), sleep(left())]));
        await step(`stopping ${runner.spec.name}`, this.stopContainer(runner, left() / 1000));
      }),
    );
    await step('status update', this.flushStatus());
    await step('sandbox removal', deleteSandbox(this.uid));
    await step('cgroup removal', this.deps.cgroups.removePod(this.uid));
    if (this.ip !== '') this.deps.pool.release(this.ip);
    await step('pod directory removal', rm(this.dir, { recursive: true, force: true }));
    this.done = true;
    if (remove) {
      await step(
        'final delete',
        this.deps.core.deleteNamespacedPod({
          name: this.name,
          namespace: this.namespace,
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
        }),
      );
    }
    this.log('terminated');
  }

  /** Runs one of this pod's tasks in the background: its failure is logged, and stays the pod's. */
  private background(what: string, task: () => Promise<unknown>): void {
    (async () => {
      await task();
    })().catch((error: unknown) => {
      this.log(`${what} failed`, { error: errorMessage(error) });
    });
  }

  get finished(): boolean {
    return this.done;
  }

  // ---- status ----

  private scheduleStatus(): void {
    if (this.statusTimer !== undefined || this.done) return;
    this.statusTimer = setTimeout(() => {
      this.background('status update', () => this.flushStatus());
    }, 5);
  }

  private containerStatus(runner: ContainerRunner): V1ContainerStatus {
    return {
      name: runner.spec.name,
      image: runner.spec.image ?? '',
      imageID: runner.imageID,
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
    // As the kubelet words them. A true condition carries no reason or message: null removes the
    // ones a false one left, which the strategic merge would otherwise keep.
    const cond = (type: string, ok: boolean, reason?: string, message?: string) => ({
      type,
      status: ok ? 'True' : 'False',
      lastTransitionTime: this.transition(type, ok),
      reason: ok ? null : (reason ?? null),
      message: ok ? null : (message ?? null),
    });
    const names = (runners: ContainerRunner[]) => `[${runners.map((r) => r.spec.name).join(' ')}]`;
    const incomplete = names(inits.filter((r) => r.state.terminated?.exitCode !== 0));
    const unready = `containers with unready status: ${names(mains.filter((r) => !r.ready))}`;
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
        cond(
          'Initialized',
          this.initialized,
          'ContainersNotInitialized',
          `containers with incomplete status: ${incomplete}`,
        ),
        cond('ContainersReady', allReady, 'ContainersNotReady', unready),
        cond('Ready', allReady && !this.terminating, 'ContainersNotReady', unready),
      ],
      containerStatuses: mains.map((r) => this.containerStatus(r)),
      ...(inits.length === 0 ? {} : { initContainerStatuses: inits.map((r) => this.containerStatus(r)) }),
    };
    const text = JSON.stringify({
      ...status,
      conditions: status.conditions.map((c) => [c.type, c.status, c.reason, c.message]),
    });
    if (text === this.lastStatus) return;
    try {
      await this.deps.core.patchNamespacedPodStatus(
        { name: this.name, namespace: this.namespace, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      this.lastStatus = text;
    } catch (error) {
      this.log('status update failed', { error: errorMessage(error) });
      this.statusTimer = setTimeout(() => {
        this.background('status update', () => this.flushStatus());
      }, 1000);
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
