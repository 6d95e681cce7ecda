// The test apps as real processes: each is spawned with this Node on 127.0.0.1 and a free port,
// answers real HTTP requests, and stops the way a pod's container must (SIGTERM: finish what is in
// flight, then exit 0). Waits follow events (a stdout line, a response, 'exit'), never the clock.
import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// Starting a Node process on a busy machine can take a while; no assertion depends on time.
jest.setTimeout(30_000);

const HOST = '127.0.0.1';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface LineWaiter {
  text: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A spawned app: its stdout lines, its stderr, and its exit. */
class App {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private waiters: LineWaiter[] = [];

  constructor(name: string, port: number, env: Record<string, string>) {
    this.name = name;
    this.port = port;
    const script = fileURLToPath(new URL(`${name}.ts`, import.meta.url));
    // A minimal environment, so that the answers do not depend on the shell that runs the tests.
    this.child = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH ?? '', HOST, PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this);
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    if (this.child.stdout) {
      createInterface({ input: this.child.stdout }).on('line', (line) => {
        this.lines.push(line);
        const matched = this.waiters.filter((w) => line.includes(w.text));
        this.waiters = this.waiters.filter((w) => !line.includes(w.text));
        for (const w of matched) w.resolve();
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        const err = new Error(
          `${name} exited (${code ?? signal}) before printing the line; stderr:\n${this.stderr}`,
        );
        for (const w of this.waiters) w.reject(err);
        this.waiters = [];
        resolve(this.exit);
      });
    });
  }

  /** Resolves once stdout has a line containing text, now or later; rejects if the app exits first. */
  waitForLine(text: string): Promise<void> {
    if (this.lines.some((line) => line.includes(text))) return Promise.resolve();
    if (this.exit) return Promise.reject(new Error(`${this.name} has exited; stderr:\n${this.stderr}`));
    return new Promise((resolve, reject) => this.waiters.push({ text, resolve, reject }));
  }

  listening(): Promise<void> {
    return this.waitForLine(`${this.name} listening on ${HOST}:${this.port}`);
  }
}

const running = new Set<App>();

async function start(name: string, env: Record<string, string> = {}): Promise<App> {
  const app = new App(name, await freePort(), env);
  await app.listening();
  return app;
}

/** A port nothing listens on: bound to port 0 to let the kernel choose, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return port;
}

// Keep-alive, like the gateway's proxy: a graceful stop must not wait on idle connections.
const agent = new Agent({ keepAlive: true });

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function call(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: HOST, port, path, method: options.method ?? 'GET', headers: options.headers, agent },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function callJson(port: number, path: string): Promise<{ status: number; json: unknown }> {
  const res = await call(port, path);
  expect(res.headers['content-type']).toBe('application/json');
  return { status: res.status, json: JSON.parse(res.body) };
}

/** The error code of a TCP connection attempt, or 'connected'. */
function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code ?? err.message);
    });
  });
}

afterEach(async () => {
  const left = [...running];
  for (const app of left) app.child.kill('SIGKILL');
  await Promise.all(left.map((app) => app.exited));
});

afterAll(() => {
  agent.destroy();
});

describe('dev.local/helloworld', () => {
  it('greets the World by default, answers only GET /', async () => {
    const app = await start('helloworld');
    expect(app.lines).toEqual([`helloworld listening on ${HOST}:${app.port}`]);

    const hello = await call(app.port, '/');
    expect(hello).toMatchObject({ status: 200, body: 'Hello World!\n' });
    expect(hello.headers['content-type']).toBe('text/plain; charset=utf-8');

    expect(await call(app.port, '/other')).toMatchObject({ status: 404 });
    expect(await call(app.port, '/', { method: 'POST', body: 'x' })).toMatchObject({ status: 405 });
  });

  it('greets TARGET', async () => {
    const app = await start('helloworld', { TARGET: 'ebb' });
    expect(await call(app.port, '/')).toMatchObject({ status: 200, body: 'Hello ebb!\n' });
  });

  it('treats an empty TARGET as unset, like ${TARGET:-World}', async () => {
    const app = await start('helloworld', { TARGET: '' });
    expect((await call(app.port, '/')).body).toBe('Hello World!\n');
  });

  it('exits 0 on SIGINT, dropping an idle keep-alive connection', async () => {
    const app = await start('helloworld');
    const hello = await call(app.port, '/');
    expect(hello.headers.connection).toBe('keep-alive');

    app.child.kill('SIGINT');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.lines.slice(1)).toEqual(['helloworld received SIGINT, draining', 'helloworld stopped']);
  });

  it('refuses a PORT that is not a port number', async () => {
    const app = new App('helloworld', 0, { PORT: 'http' });
    expect(await app.exited).toEqual({ code: 1, signal: null });
    expect(app.stderr).toBe('helloworld: PORT must be an integer from 0 to 65535, got "http"\n');
  });
});

describe('dev.local/echo', () => {
  it('answers with the request and the Knative environment', async () => {
    const app = await start('echo', {
      K_SERVICE: 'hello',
      K_CONFIGURATION: 'hello',
      K_REVISION: 'hello-00001',
    });
    const res = await call(app.port, '/some/path?a=1&b=two', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-ebb-test': 'yes' },
      body: 'hello body',
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual({
      method: 'POST',
      path: '/some/path',
      query: { a: '1', b: 'two' },
      headers: expect.objectContaining({
        host: `${HOST}:${app.port}`,
        'content-type': 'text/plain',
        'content-length': '10',
        'x-ebb-test': 'yes',
      }),
      body: 'hello body',
      env: {
        K_SERVICE: 'hello',
        K_CONFIGURATION: 'hello',
        K_REVISION: 'hello-00001',
        PORT: String(app.port),
      },
    });
  });

  it('reports unset Knative variables as null and keeps "//" in the path', async () => {
    const app = await start('echo');
    expect(await callJson(app.port, '//twice')).toEqual({
      status: 200,
      json: expect.objectContaining({
        method: 'GET',
        path: '//twice',
        query: {},
        body: '',
        env: { K_SERVICE: null, K_CONFIGURATION: null, K_REVISION: null, PORT: String(app.port) },
      }),
    });
  });

  it('fetches /proxy?url= from inside the pod', async () => {
    const [echo, hello] = await Promise.all([start('echo'), start('helloworld', { TARGET: 'proxy' })]);
    const url = encodeURIComponent(`http://${HOST}:${hello.port}/`);
    expect(await callJson(echo.port, `/proxy?url=${url}`)).toEqual({
      status: 200,
      json: { status: 200, body: 'Hello proxy!\n' },
    });
    // The upstream's own status is data, not the proxy's status.
    const missing = encodeURIComponent(`http://${HOST}:${hello.port}/missing`);
    expect(await callJson(echo.port, `/proxy?url=${missing}`)).toEqual({
      status: 200,
      json: { status: 404, body: 'not found\n' },
    });
  });

  it('answers 502 when /proxy cannot fetch, 400 without a url', async () => {
    const [echo, closed] = await Promise.all([start('echo'), freePort()]);
    const url = encodeURIComponent(`http://${HOST}:${closed}/`);
    expect(await callJson(echo.port, `/proxy?url=${url}`)).toEqual({
      status: 502,
      json: { error: expect.stringContaining('ECONNREFUSED') },
    });
    expect(await callJson(echo.port, '/proxy')).toEqual({
      status: 400,
      json: { error: 'missing query parameter url' },
    });
  });
});

describe('dev.local/autoscale', () => {
  it('counts concurrent requests', async () => {
    const app = await start('autoscale');
    const answers = await Promise.all([1, 2, 3].map(() => callJson(app.port, '/?sleep=300')));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const seen = answers.map((a) => a.json as { inflight: number; maxInflight: number });
    expect(seen.map((s) => s.inflight).sort()).toEqual([1, 2, 3]);
    expect(seen.map((s) => s.maxInflight)).toEqual([3, 3, 3]);

    // The count went back to zero; the maximum stays.
    expect(await callJson(app.port, '/')).toEqual({ status: 200, json: { inflight: 1, maxInflight: 3 } });
  });

  it('answers /healthz without counting it, and refuses a bad sleep', async () => {
    const app = await start('autoscale');
    expect(await call(app.port, '/healthz')).toMatchObject({ status: 200, body: 'ok' });
    expect(await call(app.port, '/?sleep=soon')).toMatchObject({ status: 400 });
    expect(await call(app.port, '/?sleep=-1')).toMatchObject({ status: 400 });
    expect(await callJson(app.port, '/?sleep=0')).toEqual({
      status: 200,
      json: { inflight: 1, maxInflight: 1 },
    });
  });

  it('on SIGTERM refuses new connections, finishes the request in flight, then exits 0', async () => {
    const app = await start('autoscale');
    const slow = call(app.port, '/?sleep=500');
    // A second request seeing two in flight proves the slow one has arrived.
    let probe: unknown;
    do probe = (await callJson(app.port, '/')).json;
    while ((probe as { inflight: number }).inflight !== 2);

    app.child.kill('SIGTERM');
    await app.waitForLine('autoscale received SIGTERM, draining');
    expect(await connectOutcome(app.port)).toBe('ECONNREFUSED');

    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ inflight: 1, maxInflight: 2 });
    // Answered while draining: the client is told to hang up, so the exit need not wait for an
    // idle keep-alive connection to time out.
    expect(answer.headers.connection).toBe('close');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.lines.at(-1)).toBe('autoscale stopped');
  });
});

describe('dev.local/failing', () => {
  it('exits with code 5 and says why on stderr', async () => {
    const app = new App('failing', await freePort(), {});
    expect(await app.exited).toEqual({ code: 5, signal: null });
    expect(app.stderr).toBe('failing: exiting with code 5 on purpose\n');
    expect(app.lines).toEqual([]);
  });
});

describe('dev.local/slowstart', () => {
  it('listens only after STARTUP_DELAY_MS', async () => {
    const app = new App('slowstart', await freePort(), { STARTUP_DELAY_MS: '1500' });
    await app.waitForLine('slowstart waiting 1500 ms before listening');
    expect(await connectOutcome(app.port)).toBe('ECONNREFUSED');

    await app.listening();
    expect(await call(app.port, '/')).toMatchObject({ status: 200, body: 'ready after 1500 ms\n' });
  });

  it('exits 0 on SIGTERM while still waiting', async () => {
    const app = new App('slowstart', await freePort(), {});
    await app.waitForLine('slowstart waiting 5000 ms before listening');
    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.lines).toEqual([
      'slowstart waiting 5000 ms before listening',
      'slowstart received SIGTERM before listening, exiting',
    ]);
  });
});
