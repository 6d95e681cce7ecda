// Table tests for the headers the warm path sends to a pod and back to the client, and the relay of
// a large response to a stalled client over loopback.
import { describe, expect, it } from '@jest/globals';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { downstreamHeaders, forward, hasBody, isWebsocketUpgrade, upstreamHeaders } from './forwarder.ts';

describe('upstreamHeaders', () => {
  it('keeps end-to-end headers, Transfer-Encoding and Content-Length', () => {
    expect(
      upstreamHeaders({
        host: 'hello.default.example.com',
        'content-type': 'text/plain',
        'transfer-encoding': 'chunked',
        'x-forwarded-for': '10.0.0.1',
        cookie: ['a=1', 'b=2'],
      }),
    ).toEqual({
      host: 'hello.default.example.com',
      'content-type': 'text/plain',
      'transfer-encoding': 'chunked',
      'x-forwarded-for': '10.0.0.1',
      cookie: ['a=1', 'b=2'],
    });
  });

  it('drops hop-by-hop headers and those the Connection header names', () => {
    expect(
      upstreamHeaders({
        host: 'h',
        connection: 'close, X-Trace-Hop',
        'keep-alive': 'timeout=5',
        'proxy-connection': 'keep-alive',
        'proxy-authorization': 'Basic eA==',
        te: 'trailers',
        trailer: 'expires',
        upgrade: 'h2c',
        'x-trace-hop': '1',
        'content-length': '3',
      }),
    ).toEqual({ host: 'h', 'content-length': '3' });
  });

  it('leaves out headers without a value', () => {
    expect(upstreamHeaders({ host: 'h', accept: undefined })).toEqual({ host: 'h' });
  });
});

describe('downstreamHeaders', () => {
  const pod = {
    'content-type': 'application/json',
    'content-length': '12',
    'set-cookie': ['a=1', 'b=2'],
    connection: 'keep-alive',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
  };

  it("drops the pod's hop-by-hop headers and its framing", () => {
    expect(downstreamHeaders(pod, false)).toEqual({
      'content-type': 'application/json',
      'content-length': '12',
      'set-cookie': ['a=1', 'b=2'],
    });
  });

  it('asks the client to close when told to (the gateway is draining)', () => {
    expect(downstreamHeaders(pod, true).connection).toBe('close');
  });

  it("does not pass on the pod's own Connection: close, which was about the gateway's connection", () => {
    expect(downstreamHeaders({ connection: 'close', 'x-a': '1' }, false)).toEqual({ 'x-a': '1' });
  });
});

describe('isWebsocketUpgrade', () => {
  it.each<[string | undefined, boolean]>([
    ['websocket', true],
    ['WebSocket', true],
    ['foo/2, websocket', true],
    ['h2c', false],
    ['', false],
    [undefined, false],
  ])('Upgrade: %s → %s', (upgrade, expected) => {
    expect(isWebsocketUpgrade({ method: 'GET', headers: upgrade === undefined ? {} : { upgrade } })).toBe(
      expected,
    );
  });

  it.each(['POST', 'PATCH', 'PUT'])('is false for %s, which is served as a plain request', (method) => {
    expect(isWebsocketUpgrade({ method, headers: { upgrade: 'websocket' } })).toBe(false);
  });
});

describe('hasBody', () => {
  it.each([
    [{}, false],
    [{ 'content-length': '0' }, false],
    [{ 'content-length': '12' }, true],
    [{ 'transfer-encoding': 'chunked' }, true],
    [{ 'transfer-encoding': 'chunked', 'content-length': '0' }, true],
  ])('%j → %s', (headers, expected) => {
    expect(hasBody({ headers })).toBe(expected);
  });
});

describe('forward', () => {
  it('relays a large response to a client that stalls whole, reading from the pod only as fast as the client takes it', async () => {
    // 48 MiB in 64 KiB pieces of a repeating pattern, so a lost or reordered piece shows. That is
    // well over what the kernel buffers of two loopback connections hold (about 10 MiB each).
    const size = 64 * 1024;
    const pieces = 768;
    const pod = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let i = 0;
      const more = (): void => {
        while (i < pieces) {
          if (!res.write(Buffer.alloc(size, i++ % 251))) {
            res.once('drain', more);
            return;
          }
        }
        res.end();
      };
      more();
    });
    const agent = new Agent({ keepAlive: true });
    let fromPod = 0;
    const proxy = createServer((req, res) => {
      forward(req, res, {
        host: '127.0.0.1',
        port: (pod.address() as AddressInfo).port,
        agent,
        headers: req.headers,
        onRequest: () => undefined,
        onWrite: () => undefined,
        onResponse: (answer) => {
          answer.on('data', (chunk: Buffer) => {
            fromPod += chunk.length;
          });
          return false;
        },
        onError: (error) => {
          res.destroy(error);
        },
      });
    });
    await new Promise<void>((resolve) => pod.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      let duringStall = 0;
      const body = await new Promise<Buffer>((resolve, reject) => {
        const port = (proxy.address() as AddressInfo).port;
        const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
          // The client takes nothing for half a second, then everything.
          setTimeout(() => {
            duringStall = fromPod;
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              resolve(Buffer.concat(chunks));
            });
          }, 500);
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      expect(body.length).toBe(pieces * size);
      for (let i = 0; i < pieces; i++) expect(body[i * size]).toBe(i % 251);
      // Without backpressure the gateway would have read the whole body into memory by then.
      expect(duringStall).toBeLessThan((pieces * size) / 2);
    } finally {
      agent.destroy();
      proxy.closeAllConnections();
      pod.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      await new Promise((resolve) => pod.close(resolve));
    }
  });
});
