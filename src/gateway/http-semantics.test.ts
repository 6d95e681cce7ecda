// What the gateway guarantees as an HTTP intermediary (docs/dataplane.md, "What the gateway
// guarantees"), one regression test per finding of the adversarial run against 2909d61 (issue 15),
// on both request paths: the fast path serves a plain GET, and node:http serves a request with a
// body (here a POST with one byte), which the fast path hands over. The whole gateway runs on
// loopback in front of raw pods that send exactly the bytes under test.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  gatewayReplicas,
  HOST,
  loopbackGateway,
  type LoopbackGateway,
  type LoopbackGatewayOptions,
} from './testing/loopback-gateway.ts';
import {
  okResponse,
  rawClient,
  rawPod,
  statuses,
  type PodRequest,
  type RawPod,
} from './testing/raw-peers.ts';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gatewayWith(
  answer: (request: PodRequest, socket: Socket) => void,
  options: LoopbackGatewayOptions = {},
): Promise<{ gw: LoopbackGateway; pod: RawPod }> {
  const pod = await rawPod(answer);
  cleanups.push(pod.close);
  const gw = await loopbackGateway({ ...options, pods: [pod.address] });
  cleanups.push(gw.close);
  return { gw, pod };
}

/** The two ways a request goes through the gateway. */
const PATHS = [
  ['the fast path', (path: string) => `GET ${path} HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`],
  [
    'the node:http path',
    (path: string) => `POST ${path} HTTP/1.1\r\nhost: ${HOST}\r\ncontent-length: 1\r\n\r\nx`,
  ],
] as const;

const MARKER = okResponse('tenant B: the next response');

/**
 * `/a` then `/b` pipelined on one connection, the pod answering `/a` with `first` and `/b` with
 * MARKER: what the client read, cut into its responses.
 */
async function pipelinedPair(
  req: (path: string) => string,
  first: string,
): Promise<{ text: string; responses: string[] }> {
  const { gw } = await gatewayWith((r, socket) => {
    socket.write(r.target === '/a' ? first : MARKER);
  });
  const answer = await rawClient(gw.port, req('/a') + req('/b'), (t) => t.includes('tenant B'));
  return { text: answer.text, responses: answer.text.split(/(?=HTTP\/1\.1 )/) };
}

describe('group 1: responses never run into one another', () => {
  it.each(PATHS)(
    "%s: framing fields the pod's Connection header names stay, so pipelined answers stay apart",
    async (_name, req) => {
      const { text, responses } = await pipelinedPair(
        req,
        'HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\nhello',
      );
      const [first = '', second = ''] = responses;
      expect(statuses(text)).toEqual([200, 200]);
      expect(first.toLowerCase()).toMatch(/\r\ncontent-length: 5\r\n|\r\ntransfer-encoding: chunked\r\n/);
      expect(first.endsWith('hello') || first.endsWith('5\r\nhello\r\n0\r\n\r\n')).toBe(true);
      expect(second.endsWith('tenant B: the next response')).toBe(true);
    },
  );

  it.each(PATHS)('%s: a chunked body named by Connection stays chunked', async (_name, req) => {
    const { text, responses } = await pipelinedPair(
      req,
      'HTTP/1.1 200 OK\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    );
    const [first = ''] = responses;
    expect(first.toLowerCase()).toContain('transfer-encoding: chunked\r\n');
    expect(first.endsWith('5\r\nhello\r\n0\r\n\r\n')).toBe(true);
    expect(statuses(text)).toEqual([200, 200]);
  });
});

describe('group 2: a request that is not idempotent is never sent twice', () => {
  const closer = (_r: PodRequest, socket: Socket): void => {
    socket.destroy();
  };

  it.each([
    ['POST', ''],
    ['PUT', ''],
    ['PATCH', ''],
    ['DELETE', ''],
    ['POST', 'content-length: 3\r\n\r\nabc'],
  ])(
    '%s %s to a pod that closes without answering reaches it once, and the client gets 502',
    async (method, rest) => {
      const { gw, pod } = await gatewayWith(closer);
      const tail = rest === '' ? '\r\n' : rest;
      const answer = await rawClient(gw.port, `${method} /order HTTP/1.1\r\nhost: ${HOST}\r\n${tail}`, (t) =>
        t.includes('\r\n\r\n'),
      );
      expect(statuses(answer.text)).toEqual([502]);
      expect(pod.requests.map((r) => r.method)).toEqual([method]);
    },
  );

  /** A pod that answers the first request on each connection and drops the connection at the second. */
  const dropsKeptAlive = (r: PodRequest, socket: Socket): void => {
    if (r.target === '/warm' || r.connection > 0) socket.write(okResponse(`served ${r.method} ${r.target}`));
    else socket.destroy();
  };

  it('a POST that meets a kept-alive connection the pod drops is answered 502, not sent again', async () => {
    const { gw, pod } = await gatewayWith(dropsKeptAlive);
    const warm = await rawClient(gw.port, `GET /warm HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`, (t) =>
      t.includes('served'),
    );
    expect(statuses(warm.text)).toEqual([200]);
    const answer = await rawClient(gw.port, `POST /order HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`, (t) =>
      t.includes('\r\n\r\n'),
    );
    expect(statuses(answer.text)).toEqual([502]);
    expect(answer.text).toContain('a POST request is not sent twice');
    expect(pod.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('a GET that meets a kept-alive connection the pod drops is sent again on a new one', async () => {
    const { gw, pod } = await gatewayWith(dropsKeptAlive);
    await rawClient(gw.port, `GET /warm HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`, (t) => t.includes('served'));
    const answer = await rawClient(gw.port, `GET /page HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`, (t) =>
      t.includes('served'),
    );
    expect(statuses(answer.text)).toEqual([200]);
    expect(answer.text).toContain('served GET /page');
    expect(pod.requests.map((r) => `${r.target}@${r.connection}`)).toEqual(['/warm@0', '/page@0', '/page@1']);
  });
});

describe('group 3: no hangs', () => {
  it.each(PATHS)('%s: an unsolicited 101 from the pod is a 502', async (_name, req) => {
    const { gw } = await gatewayWith((_r, socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    });
    const answer = await rawClient(gw.port, req('/'), (t) => t.includes('\r\n\r\n'));
    expect(statuses(answer.text)).toEqual([502]);
    expect(answer.text).toContain('101 Switching Protocols to a request that did not ask to upgrade');
  });

  it('a head with bare LF line ends is refused with 400 as soon as it is seen', async () => {
    const { gw, pod } = await gatewayWith((_r, socket) => socket.write(okResponse('no')));
    // No blank line yet: the refusal comes from the first bare LF, not from a timeout.
    const answer = await rawClient(gw.port, `GET / HTTP/1.1\nhost: ${HOST}\n`, (t) => t.includes('\r\n\r\n'));
    expect(statuses(answer.text)).toEqual([400]);
    expect(pod.requests).toHaveLength(0);
  });

  it('a head trickled in plain form gets 408 from the gateway when headersTimeout is up', async () => {
    const { gw } = await gatewayWith((_r, socket) => socket.write(okResponse('no')), {
      headersTimeoutMs: 300,
    });
    const answer = await rawClient(
      gw.port,
      ['GET / HTTP/1.1\r\n', `host: ${HOST}\r\n`, 'x-a: 1\r\n'],
      undefined,
      100,
    );
    expect(statuses(answer.text)).toEqual([408]);
    expect(answer.text).toContain('the request head did not arrive within 0.3 s');
    expect(answer.closed).toBe(true);
  });

  it('a head handed to node:http part-way keeps only what is left of its time', async () => {
    const { gw } = await gatewayWith((_r, socket) => socket.write(okResponse('no')), {
      headersTimeoutMs: 300,
    });
    // The request line completes 200 ms in, as HTTP/1.0, which node:http reads: its own
    // headersTimeout would start then, and answer at 500 ms; the gateway's answers at 300 ms.
    const answer = await rawClient(gw.port, ['GET / HTTP/1.0', '\r\n'], undefined, 200);
    expect(statuses(answer.text)).toEqual([408]);
    expect(answer.text).toContain('the request head did not arrive within 0.3 s');
    expect(await gw.byReason('ebb_gateway_handovers_total')).toEqual({ request: 1 });
  });
});

describe('group 4: answer codes and fields as RFC 9110 and 9112 have them', () => {
  it('two Host fields are a 400, on either path', async () => {
    const { gw, pod } = await gatewayWith((_r, socket) => socket.write(okResponse('served')));
    for (const req of [
      `GET / HTTP/1.1\r\nhost: ${HOST}\r\nhost: other.example.com\r\n\r\n`,
      `POST / HTTP/1.1\r\nhost: ${HOST}\r\nhost: ${HOST}\r\ncontent-length: 1\r\n\r\nx`,
    ]) {
      const answer = await rawClient(gw.port, req, (t) => t.includes('\r\n\r\n'));
      expect(statuses(answer.text)).toEqual([400]);
      expect(answer.text).toContain('more than one Host header field');
    }
    expect(pod.requests).toHaveLength(0);
  });

  it('a head over 16 KiB is a 431', async () => {
    const { gw } = await gatewayWith((_r, socket) => socket.write(okResponse('served')));
    const answer = await rawClient(
      gw.port,
      `GET / HTTP/1.1\r\nhost: ${HOST}\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
      (t) => t.includes('\r\n\r\n'),
    );
    expect(statuses(answer.text)).toEqual([431]);
  });

  it('CONNECT is a 405: the gateway is no forward proxy', async () => {
    const { gw, pod } = await gatewayWith((_r, socket) => socket.write(okResponse('served')));
    const answer = await rawClient(
      gw.port,
      `CONNECT ${HOST}:443 HTTP/1.1\r\nhost: ${HOST}:443\r\n\r\n`,
      (t) => t.includes('\r\n\r\n'),
    );
    expect(statuses(answer.text)).toEqual([405]);
    expect(pod.requests).toHaveLength(0);
  });

  it.each(PATHS)('%s: a chunked body broken from its first bytes is a 502', async (_name, req) => {
    const { gw } = await gatewayWith((_r, socket) => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n');
    });
    const answer = await rawClient(gw.port, req('/'), (t) => t.includes('\r\n\r\n'));
    expect(statuses(answer.text)).toEqual([502]);
  });

  it.each(PATHS)('%s: a repeated Content-Length, even an equal one, is a 502', async (_name, req) => {
    const { gw } = await gatewayWith((_r, socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello');
    });
    const answer = await rawClient(gw.port, req('/'), (t) => t.includes('\r\n\r\n'));
    expect(statuses(answer.text)).toEqual([502]);
  });

  it.each(PATHS)(
    '%s: Transfer-Encoding: chunked, gzip keeps its codings and runs to the close',
    async (_name, req) => {
      const { gw } = await gatewayWith((_r, socket) => {
        socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nGZIPPED-BYTES');
      });
      const answer = await rawClient(gw.port, req('/'));
      expect(answer.closed).toBe(true);
      const [head = '', body] = answer.text.split('\r\n\r\n');
      expect(head.toLowerCase()).toContain('\r\ntransfer-encoding: chunked, gzip');
      expect(head.toLowerCase()).toContain('\r\nconnection: close');
      expect(body).toBe('GZIPPED-BYTES');
    },
  );

  it.each([['get'], ['FOO'], ['Get']])(
    'the method %s, which llhttp does not know, is a 400',
    async (method) => {
      const { gw, pod } = await gatewayWith((_r, socket) => socket.write(okResponse('served')));
      const answer = await rawClient(gw.port, `${method} / HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`, (t) =>
        t.includes('\r\n\r\n'),
      );
      expect(statuses(answer.text)).toEqual([400]);
      expect(pod.requests).toHaveLength(0);
    },
  );

  it("a websocket's 101 reaches the client without the pod's hop-by-hop fields", async () => {
    const pod = createServer();
    pod.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade, keep-alive, x-hop\r\n' +
          'Keep-Alive: timeout=5\r\nX-Hop: 1\r\nSec-WebSocket-Accept: abc\r\n\r\n',
      );
    });
    const podSockets = new Set<Socket>();
    pod.on('connection', (socket: Socket) => podSockets.add(socket));
    await new Promise<void>((resolve) => pod.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          for (const socket of podSockets) socket.destroy();
          pod.close(() => {
            resolve();
          });
        }),
    );
    const gw = await loopbackGateway({ pods: [`127.0.0.1:${(pod.address() as AddressInfo).port}`] });
    cleanups.push(gw.close);
    const answer = await rawClient(
      gw.port,
      `GET /ws HTTP/1.1\r\nhost: ${HOST}\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-key: k\r\nsec-websocket-version: 13\r\n\r\n`,
      (t) => t.includes('\r\n\r\n'),
    );
    const head = answer.text.toLowerCase();
    expect(head).toMatch(/^http\/1\.1 101 /);
    expect(head).toContain('\r\nupgrade: websocket');
    expect(head).toContain('\r\nconnection: upgrade');
    expect(head).toContain('\r\nsec-websocket-accept: abc');
    expect(head).not.toContain('keep-alive');
    expect(head).not.toContain('x-hop');
  });
});

describe('group 5: containerConcurrency holds across gateway replicas', () => {
  /** A pod that answers after a short wait and counts how many requests it held at once. */
  async function countingPod(): Promise<{ address: string; max: () => number; served: () => number }> {
    let inflight = 0;
    let max = 0;
    let served = 0;
    const pod = createServer((_req, res) => {
      inflight++;
      max = Math.max(max, inflight);
      setTimeout(() => {
        inflight--;
        served++;
        res.end('ok');
      }, 10);
    });
    await new Promise<void>((resolve) => pod.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          pod.closeAllConnections();
          pod.close(() => {
            resolve();
          });
        }),
    );
    return {
      address: `127.0.0.1:${String((pod.address() as AddressInfo).port)}`,
      max: () => max,
      served: () => served,
    };
  }

  function get(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/', headers: { host: HOST }, agent: false },
        (res) => {
          res.resume();
          res.on('end', () => {
            resolve(res.statusCode ?? 0);
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it.each([[1], [2], [3]])(
    'with %i replica(s), 20 clients at once never put two requests on a containerConcurrency 1 pod',
    async (count) => {
      const pod = await countingPod();
      const replicas = await gatewayReplicas(count, {
        settings: { containerConcurrency: 1 },
        pods: [pod.address],
      });
      for (const r of replicas) cleanups.push(r.close);
      const statuses: number[] = [];
      for (let round = 0; round < 2; round++) {
        statuses.push(
          ...(await Promise.all(Array.from({ length: 20 }, (_, i) => get(replicas[i % count]?.port ?? 0)))),
        );
      }
      expect(statuses).toEqual(Array.from({ length: 40 }, () => 200));
      expect(pod.served()).toBe(40);
      expect(pod.max()).toBe(1);
    },
  );
});
