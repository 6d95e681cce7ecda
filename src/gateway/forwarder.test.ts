// Table tests for the headers the warm path sends to a pod and back to the client.
import { describe, expect, it } from '@jest/globals';
import { downstreamHeaders, isWebsocketUpgrade, upstreamHeaders } from './forwarder.ts';

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
    expect(isWebsocketUpgrade({ headers: upgrade === undefined ? {} : { upgrade } })).toBe(expected);
  });
});
