// The fast path over loopback sockets, with the gateway's real pipeline, node:http path, routing
// table and revision backend in front of a node:http app: what it serves itself, what it hands to
// node:http (and that node:http then serves the connection), the pod's framings, timeouts,
// pipelining and clients that go away. No Kubernetes here; e2e/ covers the gateway in the cluster.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  connect,
  createServer as createTcpServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { HOST, loopbackGateway, type LoopbackGatewayOptions } from './testing/loopback-gateway.ts';
import { rawClient } from './testing/raw-peers.ts';
import type { FastPath } from './fast-path.ts';
import type { Pipeline } from './pipeline.ts';
import type { RevisionBackend, RevisionSettings } from './revision-backend.ts';

interface Harness {
  port: number;
  /** The app's address, as the revision's one ready pod. */
  pod: string;
  fast: FastPath;
  backend: RevisionBackend;
  pipeline: Pipeline;
  /** Connections the app accepted. */
  appConnections: () => number;
  /** Requests the app saw, with their headers. */
  seen: IncomingMessage[];
  draining: { value: boolean };
  /** ebb_gateway_handovers_total by reason. */
  handovers: () => Promise<Record<string, number>>;
  close: () => Promise<void>;
}

const open: Harness[] = [];
const rawPods: Server[] = [];

afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  for (const pod of rawPods.splice(0)) pod.close();
});

/** A raw TCP server on loopback, made the revision's one ready pod: for answers node:http would not write. */
async function rawPod(h: Harness, onConnection: (socket: Socket) => void): Promise<void> {
  const pod = createTcpServer(onConnection);
  rawPods.push(pod);
  await new Promise<void>((resolve) => pod.listen(0, '127.0.0.1', resolve));
  h.backend.setEndpoints({
    ready: [`127.0.0.1:${(pod.address() as AddressInfo).port}`],
    starting: [],
    terminating: [],
  });
}

async function harness(
  app: (req: IncomingMessage, res: ServerResponse) => void,
  settings: Partial<RevisionSettings> = {},
  options: Omit<LoopbackGatewayOptions, 'settings' | 'pods'> & { podPort?: number } = {},
): Promise<Harness> {
  const seen: IncomingMessage[] = [];
  const appServer = createServer((req, res) => {
    seen.push(req);
    app(req, res);
  });
  let accepted = 0;
  appServer.on('connection', () => accepted++);
  await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
  const appPort = options.podPort ?? (appServer.address() as AddressInfo).port;
  const gateway = await loopbackGateway({ ...options, settings, pods: [`127.0.0.1:${appPort}`] });
  const h: Harness = {
    port: gateway.port,
    pod: `127.0.0.1:${String(appPort)}`,
    fast: gateway.fast,
    backend: gateway.backend,
    pipeline: gateway.pipeline,
    appConnections: () => accepted,
    seen,
    draining: gateway.draining,
    handovers: () => gateway.byReason('ebb_gateway_handovers_total'),
    close: async () => {
      await gateway.close();
      appServer.closeAllConnections();
      await new Promise<void>((resolve) =>
        appServer.close(() => {
          resolve();
        }),
      );
    },
  };
  open.push(h);
  return h;
}

/** A loopback port nothing listens on: connecting to it is refused. */
async function deadPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) =>
    probe.close(() => {
      resolve();
    }),
  );
  return port;
}

const hello = (_req: IncomingMessage, res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '13' });
  res.end('Hello World!\n');
};

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
  reused: boolean;
}

function get(
  port: number,
  agent: Agent,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: { host: HOST, ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, reused: req.reusedSocket });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A GET whose client reads nothing of the response for 300 ms, so the gateway's writes to it back up. */
function slowGet(port: number, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: HOST }, agent: false }, (res) => {
      res.pause();
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => {
        resolve(Buffer.concat(parts));
      });
      res.on('error', reject);
      setTimeout(() => res.resume(), 300);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('FastPath', () => {
  it('proxies a plain GET itself, with the forwarding headers, and reuses both connections', async () => {
    const h = await harness(hello);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await get(h.port, agent, { headers: { 'x-ebb-debug': '1', 'knative-serving-tag': 'x' } });
    const second = await get(h.port, agent);
    agent.destroy();
    expect([first.status, first.body, second.status, second.body]).toEqual([
      200,
      'Hello World!\n',
      200,
      'Hello World!\n',
    ]);
    expect(second.reused).toBe(true);
    expect(h.appConnections()).toBe(1);
    const headers = h.seen[0]?.headers;
    expect(headers?.['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers?.['x-forwarded-proto']).toBe('http');
    expect(headers?.['x-forwarded-host']).toBe(HOST);
    expect(headers?.forwarded).toBe(`for=127.0.0.1;host=${HOST};proto=http`);
    expect(headers?.['x-ebb-debug']).toBeUndefined();
    expect(headers?.['knative-serving-tag']).toBeUndefined();
    expect(h.pipeline.admission.active).toBe(0);
    expect(await h.handovers()).toEqual({});
  });

  it('hands a request with a body to node:http, which serves the rest of the connection', async () => {
    const h = await harness((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => res.end(`${req.method ?? ''} ${body}`));
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const plain = await get(h.port, agent);
    expect(h.fast.connections.size).toBe(1);
    const post = await get(h.port, agent, { method: 'POST', body: 'x'.repeat(100_000) });
    expect(h.fast.connections.size).toBe(0);
    const after = await get(h.port, agent);
    agent.destroy();
    expect([plain.body, post.body.length, after.body]).toEqual(['GET ', 100_005, 'GET ']);
    expect(await h.handovers()).toEqual({ request: 1 });
    expect([post.reused, after.reused]).toEqual([true, true]);
  });

  it('hands an unknown host to node:http, which answers 404 naming it', async () => {
    const h = await harness(hello);
    const agent = new Agent({ keepAlive: true });
    const answer = await get(h.port, agent, { headers: { host: 'nobody.example.com' } });
    agent.destroy();
    expect(answer.status).toBe(404);
    expect(answer.body).toContain('nobody.example.com');
    expect(h.seen).toHaveLength(0);
    expect(await h.handovers()).toEqual({ route: 1 });
  });

  it('relays a chunked response intact, trailers included, and reuses the pod connection', async () => {
    const h = await harness((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-sum' });
      res.write('part one, ');
      setTimeout(() => {
        res.write('part two');
        res.addTrailers({ 'x-sum': '18' });
        res.end();
      }, 20);
    });
    const answer = await rawClient(
      h.port,
      `GET / HTTP/1.1\r\nhost: ${HOST}\r\n\r\nGET /again HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`,
      (text) => text.split('0\r\nx-sum: 18\r\n\r\n').length === 3,
    );
    const responses = answer.text.split('HTTP/1.1 200 OK').slice(1);
    expect(responses).toHaveLength(2);
    for (const r of responses) {
      expect(r.toLowerCase()).toContain('transfer-encoding: chunked');
      expect(r).toContain('a\r\npart one, \r\n');
      expect(r).toContain('8\r\npart two\r\n');
    }
    expect(h.seen.map((req) => req.url)).toEqual(['/', '/again']);
    expect(h.appConnections()).toBe(1);
  });

  it('relays a body that runs to the pod closing, and then closes the client connection', async () => {
    const h = await harness(hello);
    // The pod: a raw server answering without a length and closing.
    await rawPod(h, (socket) => {
      socket.once('data', () => {
        socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it until the end');
      });
    });
    const answer = await rawClient(h.port, `GET / HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`, () => false);
    expect(answer.closed).toBe(true);
    expect(answer.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer.text.toLowerCase()).toContain('connection: close\r\n');
    expect(answer.text.endsWith('\r\n\r\nall of it until the end')).toBe(true);
  });

  it('relays a head and the body read with it intact, whether joined into one write or not', async () => {
    const h = await harness(hello);
    // The pod: a raw server writing each response, head and body, in one write on one
    // connection. The first body fills the 8 KiB read buffer, so the next reads use 64 KiB,
    // which hold a head with up to 16 KiB of body (joined) or more (written after the head).
    const sizes = [200_000, 1_000, 12_000, 40_000];
    const bodyOf = (size: number, seed: number): string =>
      Array.from({ length: size }, (_, i) => String.fromCharCode(97 + ((i * 7 + seed) % 26))).join('');
    let served = 0;
    await rawPod(h, (socket) => {
      socket.on('data', () => {
        const size = sizes[served] ?? 1;
        const body = bodyOf(size, served);
        served += 1;
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n${body}`, 'latin1');
      });
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const bodies: string[] = [];
    for (let i = 0; i < sizes.length; i++) bodies.push((await get(h.port, agent)).body);
    agent.destroy();
    expect(bodies.map((b) => b.length)).toEqual(sizes);
    expect(bodies).toEqual(sizes.map((size, i) => bodyOf(size, i)));
    expect(h.pipeline.admission.active).toBe(0);
  });

  it('answers HEAD without waiting for a body', async () => {
    const h = await harness(hello);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const head = await get(h.port, agent, { method: 'HEAD' });
    const after = await get(h.port, agent);
    agent.destroy();
    expect([head.status, head.body, head.headers['content-length']]).toEqual([200, '', '13']);
    expect([after.body, after.reused]).toEqual(['Hello World!\n', true]);
  });

  it('answers pipelined requests in order', async () => {
    const h = await harness((req, res) => {
      // The first answer is the slower one.
      setTimeout(() => res.end(`answer to ${req.url ?? ''}\n`), req.url === '/1' ? 30 : 0);
    });
    const answer = await rawClient(
      h.port,
      `GET /1 HTTP/1.1\r\nhost: ${HOST}\r\n\r\nGET /2 HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`,
      (text) => text.includes('answer to /2'),
    );
    expect(answer.text.indexOf('answer to /1')).toBeGreaterThan(0);
    expect(answer.text.indexOf('answer to /1')).toBeLessThan(answer.text.indexOf('answer to /2'));
  });

  it('gives a request whose pod refused the connection to node:http, which sends it to another pod', async () => {
    const dead = await deadPort();
    const h = await harness(hello);
    h.backend.setEndpoints({
      ready: [`127.0.0.1:${String(dead)}`, h.pod],
      starting: [],
      terminating: [],
    });
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) {
      const agent = new Agent({ keepAlive: false });
      answers.push((await get(h.port, agent)).status);
      agent.destroy();
    }
    expect(answers).toEqual([200, 200, 200, 200, 200, 200]);
    expect(h.seen).toHaveLength(6);
    expect(h.pipeline.admission.active).toBe(0);
  });

  it('keeps the split when one revision has no room: its requests wait for it, not go to the other', async () => {
    const h = await harness(hello, {}, { coldCanary: true });
    const answers = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const agent = new Agent({ keepAlive: false });
        try {
          return (await get(h.port, agent)).status;
        } finally {
          agent.destroy();
        }
      }),
    );
    const waited = answers.filter((code) => code === 504).length;
    const served = answers.filter((code) => code === 200).length;
    expect(waited + served).toBe(200);
    // 50 % each way; handing the canary's picks to node:http for a second draw would give it 25 %.
    // Binomial(200, 0.5): 70..130 holds with probability > 0.9999.
    expect(waited).toBeGreaterThanOrEqual(70);
    expect(waited).toBeLessThanOrEqual(130);
    expect(h.pipeline.admission.active).toBe(0);
    expect(await h.handovers()).toEqual({ no_room: waited });
  });

  it('answers 504 with the revision timeout when its only pod refuses connections', async () => {
    const dead = await deadPort();
    const h = await harness(hello, { timeoutMs: 300, responseStartTimeoutMs: 300 }, { podPort: dead });
    const agent = new Agent({ keepAlive: true });
    const answer = await get(h.port, agent);
    agent.destroy();
    expect(answer.status).toBe(504);
    expect(answer.body).toContain('timeoutSeconds (0.3 s)');
    expect(answer.headers['x-ebb-gateway']).toBe('refused');
    expect(h.pipeline.admission.active).toBe(0);
    // The fast path tried the pod first and gave the request back.
    expect(await h.handovers()).toEqual({ unanswered: 1 });
  });

  it('answers 504 when the pod does not start its response in time, and keeps the connection', async () => {
    const h = await harness(
      (req, res) => {
        if (req.url === '/slow') setTimeout(() => res.end('late'), 1000);
        else res.end('quick');
      },
      { responseStartTimeoutMs: 200 },
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const slow = await get(h.port, agent, { path: '/slow' });
    const quick = await get(h.port, agent, { path: '/quick' });
    agent.destroy();
    expect(slow.status).toBe(504);
    expect(slow.body).toContain('responseStartTimeoutSeconds (0.2 s)');
    expect([quick.status, quick.body, quick.reused]).toEqual([200, 'quick', true]);
    expect(h.pipeline.admission.active).toBe(0);
  });

  it('relays large bodies intact to two slow clients at once (the shared read buffer is never reused under a write)', async () => {
    const pattern = (seed: number): Buffer => {
      const b = Buffer.allocUnsafe(6 * 1024 * 1024);
      for (let i = 0; i < b.length; i += 4) b.writeUInt32LE((Math.imul(i, 2654435761) + seed) >>> 0, i);
      return b;
    };
    const bodies = [pattern(1), pattern(2)];
    const h = await harness((req, res) => {
      const body = bodies[req.url === '/1' ? 1 : 0] ?? Buffer.alloc(0);
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
    });
    const [first, second] = await Promise.all([slowGet(h.port, '/0'), slowGet(h.port, '/1')]);
    expect(first.equals(bodies[0] ?? Buffer.alloc(0))).toBe(true);
    expect(second.equals(bodies[1] ?? Buffer.alloc(0))).toBe(true);
    expect(await h.handovers()).toEqual({});
  });

  it('relays a body that comes in small pieces intact to a client that backs up (a read never lands in a buffer a queued write holds)', async () => {
    // The pod sends 1 KiB pieces, each numbered, so that the gateway reads little at a time. The
    // client reads nothing at first: once the kernel's buffers toward it are full, the gateway's
    // writes queue a piece or a few at a time below the socket's high-water mark, so the pod
    // connection is not paused yet and its next reads arrive while those writes are queued.
    const PIECE = 1024;
    const PIECES = 8 * 1024;
    const piece = (n: number): Buffer => Buffer.alloc(PIECE, `${String(n).padStart(8, '0')}|`);
    const h = await harness(hello);
    await rawPod(h, (socket) => {
      socket.once('data', () => {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${PIECE * PIECES}\r\n\r\n`, 'latin1');
        let n = 0;
        const more = (): void => {
          while (n < PIECES) {
            const room = socket.write(piece(n++));
            if (!room) {
              socket.once('drain', more);
              return;
            }
            if (n % 4 === 0) {
              setImmediate(more);
              return;
            }
          }
        };
        more();
      });
    });
    const body = await slowGet(h.port, '/');
    expect(body.length).toBe(PIECE * PIECES);
    const wrong: number[] = [];
    for (let n = 0; n < PIECES; n++) {
      if (!body.subarray(n * PIECE, (n + 1) * PIECE).equals(piece(n))) wrong.push(n);
    }
    expect(wrong).toEqual([]);
  });

  it('cuts the response off when the pod goes idle mid-body past idleTimeoutSeconds', async () => {
    const h = await harness(
      (_req, res) => {
        res.writeHead(200, { 'content-length': '10' });
        res.write('12345');
      },
      { idleTimeoutMs: 200 },
    );
    const answer = await rawClient(h.port, `GET / HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`, () => false);
    expect(answer.closed).toBe(true);
    expect(answer.text.endsWith('\r\n\r\n12345')).toBe(true);
    expect(h.pipeline.admission.active).toBe(0);
  });

  it('releases the pod when the client goes away mid-response', async () => {
    let podSocketClosed: Promise<void> = Promise.resolve();
    const h = await harness((req, res) => {
      podSocketClosed = new Promise((resolve) =>
        req.socket.once('close', () => {
          resolve();
        }),
      );
      res.writeHead(200, { 'content-length': '100' });
      res.write('first part');
    });
    await rawClient(h.port, `GET / HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`, (text) => text.includes('first part'));
    await podSocketClosed;
    await h.pipeline.admission.idle();
    expect(h.pipeline.admission.active).toBe(0);
    expect(h.backend.tryReserve()).toBeDefined();
  });

  it('ends only the connection on a fault of its own, and keeps serving the others', async () => {
    const h = await harness(hello);
    const pipeline = h.pipeline;
    const real = pipeline.route.bind(pipeline);
    pipeline.route = (listener, host, tag) => {
      if (host === 'fault.example.com') throw new Error('injected fault');
      return real(listener, host, tag);
    };
    const broken = await rawClient(h.port, 'GET / HTTP/1.1\r\nhost: fault.example.com\r\n\r\n', () => false);
    expect(broken).toEqual({ text: '', closed: true });
    const agent = new Agent({ keepAlive: true });
    const after = await get(h.port, agent);
    agent.destroy();
    expect([after.status, after.body]).toEqual([200, 'Hello World!\n']);
    expect(h.pipeline.admission.active).toBe(0);
  });

  it('asks clients to close their connections while draining', async () => {
    const h = await harness(hello);
    h.draining.value = true;
    const answer = await rawClient(h.port, `GET / HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`, () => false);
    expect(answer.closed).toBe(true);
    expect(answer.text.toLowerCase()).toContain('connection: close\r\n');
    expect(answer.text.endsWith('\r\n\r\nHello World!\n')).toBe(true);
  });

  it('answers 408 itself to a head that does not complete within headersTimeout', async () => {
    const h = await harness(hello, {}, { headersTimeoutMs: 300 });
    const answer = await rawClient(h.port, `GET / HTTP/1.1\r\nhost: ${HOST}\r\n`, () => false);
    expect(answer.closed).toBe(true);
    expect(answer.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(await h.handovers()).toEqual({});
  });

  it('serves a head that arrives in pieces', async () => {
    const h = await harness(hello);
    const socket = connect(h.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.write('GET / HTTP/1.1\r\nho');
    await new Promise((resolve) => setTimeout(resolve, 30));
    socket.write(`st: ${HOST}\r\n\r\n`);
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (text.includes('Hello World!')) resolve();
        else setTimeout(check, 10);
      };
      check();
    });
    // Served by the fast path: the connection is still its own.
    expect(h.fast.connections.size).toBe(1);
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });
});
