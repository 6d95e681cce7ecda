// nginx as the reference reverse proxy of bench/dataplane.ts: installed from Debian packages when
// missing, run in the foreground with its own config, pid file and logs in a temporary directory,
// listening on 127.0.0.1 (or, with `inNetns`, inside another process's network namespace, such as
// the gateway pod's, on that namespace's address) and forwarding to one upstream over keep-alive
// connections, and stopped at the end (also when the benchmark exits early).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { childProcesses } from './host-process.ts';
import { accepts, freePort } from './local-port.ts';
import { Failure, type Address } from './serving-fixture.ts';

const run = promisify(execFile);
const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];

function installed(): string | undefined {
  return CANDIDATES.find((path) => existsSync(path));
}

/** The nginx binary, installing Debian's nginx-light (or nginx) first when there is none. */
export async function ensureNginx(say: (message: string) => void): Promise<string> {
  const found = installed();
  if (found !== undefined) return found;
  const errors: string[] = [];
  for (const pkg of ['nginx-light', 'nginx']) {
    say(`nginx not found: apt-get install -y ${pkg}`);
    try {
      // The image's policy-rc.d keeps the package from starting its own nginx on port 80.
      await run('apt-get', ['install', '-y', '--no-install-recommends', pkg], {
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        maxBuffer: 16 * 2 ** 20,
      });
    } catch (error) {
      const stderr = (error as { stderr?: unknown }).stderr;
      errors.push(
        `${pkg}: ${typeof stderr === 'string' && stderr !== '' ? stderr.trim().split('\n').at(-1) : String(error)}`,
      );
      continue;
    }
    const path = installed();
    if (path !== undefined) return path;
  }
  throw new Failure(
    `cannot install nginx (${errors.join('; ')}); install it by hand (apt-get install nginx-light) or run as root after apt-get update`,
  );
}

/**
 * One worker, like the gateway's one process, so that both are measured per core of the same
 * shape. The upstream keep-alive timeout stays under Node's 5 s server default, so nginx never
 * reuses a connection the app is closing.
 */
function config(dir: string, listen: string, upstream: Address): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client-body')};
  proxy_temp_path ${join(dir, 'proxy')};
  upstream app {
    server ${upstream.address}:${upstream.port};
    keepalive 128;
    keepalive_timeout 4s;
  }
  server {
    listen ${listen} backlog=4096;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

export class NginxProxy {
  readonly address: string;
  readonly port: number;
  readonly dir: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  // At exit only synchronous calls run: SIGTERM asks the master to stop its workers too.
  private readonly killOnExit = (): void => {
    this.child.kill('SIGTERM');
  };

  private constructor(child: ChildProcess, address: string, port: number, dir: string) {
    this.child = child;
    this.address = address;
    this.port = port;
    this.dir = dir;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        resolve();
      });
    });
    process.once('exit', this.killOnExit);
  }

  /**
   * Starts nginx in front of `upstream` and waits until it accepts connections. With `inNetns`, it
   * runs in the network namespace of process `pid` (nsenter), listening on `address` there.
   */
  static async start(
    binary: string,
    upstream: Address,
    inNetns?: { pid: number; address: string },
  ): Promise<NginxProxy> {
    const dir = await mkdtemp(join(tmpdir(), 'ebb-bench-nginx-'));
    // A port free here; the other namespace (a pod's) listens on a few fixed ports only.
    const port = await freePort();
    const address = inNetns?.address ?? '127.0.0.1';
    const conf = join(dir, 'nginx.conf');
    await writeFile(conf, config(dir, `${address}:${port}`, upstream));
    const args = ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf];
    // The command line that runs nginx with `extra` first, in the other namespace when asked.
    const command = (...extra: string[]): [string, string[]] =>
      inNetns === undefined
        ? [binary, [...extra, ...args]]
        : ['nsenter', [`--net=/proc/${String(inNetns.pid)}/ns/net`, '--', binary, ...extra, ...args]];
    try {
      await run(...command('-t'));
    } catch (error) {
      const stderr = (error as { stderr?: unknown }).stderr;
      await rm(dir, { recursive: true, force: true });
      throw new Failure(
        `nginx rejects its config ${conf}: ${typeof stderr === 'string' ? stderr.trim() : String(error)}`,
      );
    }
    // nsenter execs nginx, so the child is nginx's master either way.
    const child = spawn(...command(), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const proxy = new NginxProxy(child, address, port, dir);
    const deadline = Date.now() + 5000;
    while (!(await accepts(port, address))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await proxy.stop();
        const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
        throw new Failure(
          `nginx did not start on ${address}:${port}: ${(stderr + log).trim() || 'no output'}`,
        );
      }
      await sleep(20);
    }
    return proxy;
  }

  /** The master (the pid file's) and its workers. */
  async pids(): Promise<number[]> {
    const master = Number((await readFile(join(this.dir, 'nginx.pid'), 'utf8')).trim());
    return [master, ...childProcesses(master)];
  }

  /** Graceful stop (SIGQUIT); after 5 s SIGKILL to the master and its workers. Then removes the directory. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const workers = await this.pids().then(
        (pids) => pids.slice(1),
        () => [],
      );
      this.child.kill('SIGQUIT');
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        for (const pid of workers) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }, 5000);
      await this.exited;
      clearTimeout(timer);
    }
    process.off('exit', this.killOnExit);
    await rm(this.dir, { recursive: true, force: true });
  }
}
