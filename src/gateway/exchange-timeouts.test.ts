// A revision's timeouts as Knative's timeout handler has them (pkg/http/handler/timeout.go; its
// conformance and e2e TestRevisionTimeout), on both request paths: the fast path serves a plain
// GET, and node:http a POST with one byte of body, which the fast path hands over. The rules
// themselves (overdue, cleanEnd) are table-tested first; then the whole gateway on loopback in
// front of raw pods that stall where a test needs them to. The limits are a few hundred
// milliseconds; nothing here asserts how long anything took.
import { afterEach, describe, expect, it } from '@jest/globals';
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { Ticket } from './admission.ts';
import { ChunkedScanner } from './chunked-scanner.ts';
import { cleanEnd, overdue } from './exchange-timeouts.ts';
import type { Framing } from './hop-by-hop.ts';
import { RevisionBackend, revisionSettings, type RevisionSettings } from './revision-backend.ts';
import { HOST, loopbackGateway, type LoopbackGateway } from './testing/loopback-gateway.ts';
import { rawClient, rawPod, statuses, type PodRequest, type RawPod } from './testing/raw-peers.ts';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('overdue', () => {
  /** A ticket for a revision with `settings`, arrived at its own `arrived`. */
  function ticketWith(settings: Partial<RevisionSettings>): Ticket {
    const backend = new RevisionBackend('ns/rev', { ...revisionSettings(undefined), ...settings }, 10);
    cleanups.push(() => {
      backend.close(new Error('test over'));
      return Promise.resolve();
    });
    return new Ticket({ namespace: 'ns', revision: 'rev', backend }, 0, false);
  }

  it.each<[string, Partial<RevisionSettings>, number, number | undefined, string | undefined]>([
    // name, settings, ms since arrival, ms since arrival of the last write (none: undefined), limit passed
    ['within every limit', { timeoutMs: 1000 }, 500, undefined, undefined],
    ['timeoutSeconds, nothing written', { timeoutMs: 1000 }, 1001, undefined, 'timeoutSeconds'],
    ['timeoutSeconds holds after the response began', { timeoutMs: 1000 }, 1001, 999, 'timeoutSeconds'],
    [
      'responseStart 0 sets no limit',
      { timeoutMs: 10_000, responseStartTimeoutMs: 0 },
      9000,
      undefined,
      undefined,
    ],
    [
      'responseStart counts from arrival',
      { timeoutMs: 10_000, responseStartTimeoutMs: 200 },
      201,
      undefined,
      'responseStartTimeoutSeconds',
    ],
    [
      'responseStart holds no more once anything was written',
      { timeoutMs: 10_000, responseStartTimeoutMs: 200 },
      5000,
      100,
      undefined,
    ],
    ['idle 0 sets no limit', { timeoutMs: 10_000, idleTimeoutMs: 0 }, 9000, 1, undefined],
    [
      'idle counts from arrival before the first write',
      { timeoutMs: 10_000, idleTimeoutMs: 200 },
      201,
      undefined,
      'idleTimeoutSeconds',
    ],
    ['idle counts from the last write', { timeoutMs: 10_000, idleTimeoutMs: 200 }, 5000, 4900, undefined],
    ['idle after a stall', { timeoutMs: 10_000, idleTimeoutMs: 200 }, 5000, 4799, 'idleTimeoutSeconds'],
  ])('%s', (_name, settings, elapsed, wrote, want) => {
    const ticket = ticketWith(settings);
    const lastWrite = wrote === undefined ? undefined : ticket.arrived + wrote;
    const ex = { ticket, lastWrite, timeout: () => undefined };
    const why = overdue(ex, ticket.arrived + elapsed);
    if (want === undefined) expect(why).toBeUndefined();
    else expect(why).toContain(want);
  });
});

describe('cleanEnd', () => {
  const scannerAfter = (bytes: string): ChunkedScanner => {
    const scanner = new ChunkedScanner();
    scanner.scan(Buffer.from(bytes, 'latin1'));
    return scanner;
  };
  it.each<[string, Framing, ChunkedScanner | undefined, string | undefined]>([
    ['chunked, framed by node:http', { kind: 'chunked' }, undefined, '0\r\n\r\n'],
    ['chunked, between two chunks', { kind: 'chunked' }, scannerAfter('5\r\nhello\r\n'), '0\r\n\r\n'],
    ['chunked, inside a chunk', { kind: 'chunked' }, scannerAfter('5\r\nhel'), undefined],
    ['to the close', { kind: 'close' }, undefined, ''],
    ['Content-Length, not all there', { kind: 'length', length: 10 }, undefined, undefined],
  ])('%s', (_name, framing, chunks, want) => {
    expect(cleanEnd(framing, chunks)).toBe(want);
  });
});

async function gatewayWith(
  answer: (request: PodRequest, socket: Socket) => void,
  settings: Partial<RevisionSettings>,
): Promise<{ gw: LoopbackGateway; pod: RawPod }> {
  const pod = await rawPod(answer);
  cleanups.push(pod.close);
  const gw = await loopbackGateway({ settings, pods: [pod.address] });
  cleanups.push(gw.close);
  return { gw, pod };
}

/** The two ways a request goes through the gateway, as raw bytes and as node:http client options. */
const PATHS = [
  ['the fast path', 'GET', (path: string) => `GET ${path} HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`],
  [
    'the node:http path',
    'POST',
    (path: string) => `POST ${path} HTTP/1.1\r\nhost: ${HOST}\r\ncontent-length: 1\r\n\r\nx`,
  ],
] as const;

const CHUNKED_HEAD = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n';

/** What a node:http client made of a response: its status and body, and whether it came whole. */
interface ClientView {
  status: number;
  body: string;
  complete: boolean;
  /** The request went on a connection an earlier one used. */
  reused: boolean;
}

function send(port: number, agent: Agent, method: string, path: string): Promise<ClientView> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent, method, path, headers: { host: HOST } }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, complete: res.complete, reused: req.reusedSocket });
      });
      res.on('error', () => {
        resolve({ status: res.statusCode ?? 0, body, complete: false, reused: req.reusedSocket });
      });
    });
    req.on('error', reject);
    req.end(method === 'POST' ? 'x' : undefined);
  });
}

/** A pod that writes `first` to each request and then stalls; its connections' closes are seen. */
function stallingPod(first: string): {
  answer: (r: PodRequest, socket: Socket) => void;
  closed: Promise<void>;
} {
  let seen: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (seen = resolve));
  return {
    answer: (_r, socket) => {
      socket.once('close', seen);
      socket.write(first);
    },
    closed,
  };
}

describe('timeoutSeconds', () => {
  it.each(PATHS)(
    '%s: after the head went out, the chunked response ends whole (200) and the pod connection closes',
    async (_name, method, _req) => {
      // Knative's conformance "writes first byte before timeout": head and flush at once, the
      // body only after timeoutSeconds; the client must see a complete 200.
      const pod = stallingPod(`${CHUNKED_HEAD}5\r\nhello\r\n`);
      const { gw } = await gatewayWith(pod.answer, { timeoutMs: 300 });
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      cleanups.push(() => {
        agent.destroy();
        return Promise.resolve();
      });
      const view = await send(gw.port, agent, method, '/');
      expect(view).toEqual({ status: 200, body: 'hello', complete: true, reused: false });
      await pod.closed;
      // The client's connection is still good for the next request, as after Go's server.
      const next = await send(gw.port, agent, method, '/');
      expect([next.status, next.reused]).toEqual([200, true]);
      expect(gw.pipeline.admission.active).toBe(0);
    },
  );

  it.each(PATHS)(
    '%s: a body that runs to the close ends with the close and comes whole',
    async (_name, method, _req) => {
      const pod = stallingPod('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\npartial');
      const { gw } = await gatewayWith(pod.answer, { timeoutMs: 300 });
      const view = await send(gw.port, new Agent(), method, '/');
      expect(view).toEqual({ status: 200, body: 'partial', complete: true, reused: false });
      await pod.closed;
    },
  );

  it.each(PATHS)('%s: before the head went out, the answer is 504', async (_name, _method, req) => {
    const { gw } = await gatewayWith(() => undefined, { timeoutMs: 200 });
    const answer = await rawClient(gw.port, req('/'), (t) => t.includes('\n\r\n'));
    expect(statuses(answer.text)).toEqual([504]);
    expect(answer.text).toContain('timeoutSeconds (0.2 s)');
  });
});

describe('responseStartTimeoutSeconds', () => {
  it.each(PATHS)(
    '%s: 0 sets no limit (Knative e2e: a response begun after 2 s with responseStartTimeoutSeconds 0)',
    async (_name, _method, req) => {
      // The sweep checks every 50 ms: a zero limit read as a limit would answer 504 long before.
      const { gw } = await gatewayWith(
        (_r, socket) => {
          setTimeout(() => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nlate'), 250);
        },
        { responseStartTimeoutMs: 0 },
      );
      const answer = await rawClient(gw.port, req('/'), (t) => t.endsWith('late'));
      expect(statuses(answer.text)).toEqual([200]);
    },
  );
});

describe('idleTimeoutSeconds', () => {
  it.each(PATHS)('%s: 0 sets no limit', async (_name, _method, req) => {
    const { gw } = await gatewayWith(
      (_r, socket) => {
        socket.write(`${CHUNKED_HEAD}5\r\nhello\r\n`);
        setTimeout(() => socket.write('4\r\nlate\r\n0\r\n\r\n'), 250);
      },
      { idleTimeoutMs: 0 },
    );
    const answer = await rawClient(gw.port, req('/'), (t) => t.endsWith('0\r\n\r\n'));
    expect(statuses(answer.text)).toEqual([200]);
    expect(answer.text).toContain('late');
  });

  it.each(PATHS)(
    '%s: after a stall, a chunked response ends whole and the pod connection closes',
    async (_name, _method, req) => {
      const pod = stallingPod(`${CHUNKED_HEAD}5\r\nhello\r\n`);
      const { gw } = await gatewayWith(pod.answer, { idleTimeoutMs: 200 });
      const answer = await rawClient(gw.port, req('/'), (t) => t.endsWith('0\r\n\r\n'));
      expect(statuses(answer.text)).toEqual([200]);
      expect(answer.text.endsWith('\r\n\r\n5\r\nhello\r\n0\r\n\r\n')).toBe(true);
      expect(answer.closed).toBe(false);
      await pod.closed;
    },
  );

  it.each(PATHS)(
    '%s: after a stall, a Content-Length response that cannot be completed is cut off',
    async (_name, _method, req) => {
      const pod = stallingPod('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n12345');
      const { gw } = await gatewayWith(pod.answer, { idleTimeoutMs: 200 });
      const answer = await rawClient(gw.port, req('/'));
      expect(answer.closed).toBe(true);
      expect(answer.text.endsWith('\r\n\r\n12345')).toBe(true);
      await pod.closed;
    },
  );

  it.each(PATHS)('%s: with nothing written, it counts from arrival: 504', async (_name, _method, req) => {
    const { gw } = await gatewayWith(() => undefined, { idleTimeoutMs: 200 });
    const answer = await rawClient(gw.port, req('/'), (t) => t.includes('\n\r\n'));
    expect(statuses(answer.text)).toEqual([504]);
    expect(answer.text).toContain('idleTimeoutSeconds (0.2 s)');
  });
});

describe('websocket tunnels', () => {
  const UPGRADE = `GET /ws HTTP/1.1\r\nhost: ${HOST}\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-key: k\r\nsec-websocket-version: 13\r\n\r\n`;
  const SWITCHED = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';

  // Knative's e2e TestWebSocketWithTimeout: each limit ends the tunnel, counted from the upgrade's
  // arrival, as its handler sees nothing written on a hijacked connection.
  it.each<[string, Partial<RevisionSettings>]>([
    ['timeoutSeconds', { timeoutMs: 300 }],
    ['responseStartTimeoutSeconds', { responseStartTimeoutMs: 300 }],
    ['idleTimeoutSeconds', { idleTimeoutMs: 300 }],
  ])('%s closes an open tunnel and the pod side with it', async (_name, settings) => {
    const pod = stallingPod(SWITCHED);
    const { gw } = await gatewayWith(pod.answer, settings);
    const answer = await rawClient(gw.port, UPGRADE);
    expect(statuses(answer.text)).toEqual([101]);
    expect(answer.closed).toBe(true);
    await pod.closed;
    await gw.pipeline.admission.idle();
  });

  it('an upgrade the pod does not answer in time gets 504', async () => {
    const { gw } = await gatewayWith(() => undefined, { timeoutMs: 200 });
    const answer = await rawClient(gw.port, UPGRADE);
    expect(statuses(answer.text)).toEqual([504]);
    expect(answer.closed).toBe(true);
  });
});
