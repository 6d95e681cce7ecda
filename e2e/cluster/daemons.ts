// Long-running cluster processes: started detached with their output in a log file and their
// pid in a pid file, so that `cluster:up` survives its own exit and `cluster:down` finds them
// again after a crash. A pid is trusted only if /proc says it still runs the same executable.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** When `command` is a launcher that ends by exec'ing the daemon (nsenter, sh -c … exec), the
   * daemon's own executable: the pid counts as this daemon once /proc shows that executable. */
  exe?: string;
}

export class Daemons {
  readonly logDir: string;
  readonly pidDir: string;

  constructor(stateDir: string) {
    this.logDir = join(stateDir, 'logs');
    this.pidDir = join(stateDir, 'pids');
  }

  logFile(name: string): string {
    return join(this.logDir, `${name}.log`);
  }

  private pidFile(name: string): string {
    return join(this.pidDir, `${name}.pid`);
  }

  /** The pid of a running daemon, or undefined. */
  async pid(name: string): Promise<number | undefined> {
    let text: string;
    try {
      text = await readFile(this.pidFile(name), 'utf8');
    } catch {
      return undefined;
    }
    const [pidText, exe] = text.trim().split('\n');
    const pid = Number(pidText);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      return (await readlink(`/proc/${pid}/exe`)) === exe ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async start(spec: DaemonSpec): Promise<number> {
    const running = await this.pid(spec.name);
    if (running !== undefined) return running;
    await mkdir(this.logDir, { recursive: true });
    await mkdir(this.pidDir, { recursive: true });
    const log = openSync(this.logFile(spec.name), 'a');
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, ...spec.env },
    });
    closeSync(log);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
    child.unref();
    await sleep(50);
    let exe = await readlink(`/proc/${pid}/exe`).catch(() => '');
    for (
      let waited = 0;
      spec.exe !== undefined && exe !== spec.exe && exe !== '' && waited < 5000;
      waited += 20
    ) {
      await sleep(20);
      exe = await readlink(`/proc/${pid}/exe`).catch(() => '');
    }
    if (exe === '') throw new Error(`${spec.name} exited at once; see ${this.logFile(spec.name)}`);
    if (spec.exe !== undefined && exe !== spec.exe)
      throw new Error(
        `${spec.name} did not start ${spec.exe} (pid ${pid} runs ${exe}); see ${this.logFile(spec.name)}`,
      );
    await writeFile(this.pidFile(spec.name), `${pid}\n${exe}\n`);
    return pid;
  }

  /** SIGTERM, then SIGKILL after the grace period. */
  async stop(name: string, graceMs = 10_000): Promise<void> {
    const pid = await this.pid(name);
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline && (await this.pid(name)) !== undefined) await sleep(100);
      if ((await this.pid(name)) !== undefined) process.kill(pid, 'SIGKILL');
      while ((await this.pid(name)) !== undefined) await sleep(50);
    }
    await rm(this.pidFile(name), { force: true });
  }
}
