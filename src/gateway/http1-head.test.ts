// Table tests of the fast path's HTTP/1.1 heads: which client requests it takes on and which it
// leaves to node:http, the head sent to the pod (checked against the node:http path's headers),
// and the pod's response head: its framing, reuse and the head relayed to the client.
import { describe, expect, it } from '@jest/globals';
import { forwardHeaders, type HeaderRecord } from './forward-headers.ts';
import { upstreamHeaders } from './forwarder.ts';
import {
  parseFastRequest,
  parseResponseHead,
  upstreamRequestHead,
  type FastRequest,
  type Framing,
  type ResponseHead,
} from './http1-head.ts';

/** A message head as the fast path hands it over: lines joined by CRLF, no blank line. */
const head = (...lines: string[]): string => lines.join('\r\n');

function fastRequest(text: string): FastRequest {
  const request = parseFastRequest(text);
  if (request === undefined) throw new Error(`not a fast request: ${JSON.stringify(text)}`);
  return request;
}

function response(text: string, method = 'GET', closeClient = false): ResponseHead {
  const result = parseResponseHead(text, method, closeClient);
  if (typeof result === 'string') throw new Error(`unexpected error: ${result}`);
  return result;
}

/** A written head split into its start line and its field lines; it must end with CRLFCRLF. */
function splitHead(text: string): { start: string; fields: [string, string][] } {
  expect(text.endsWith('\r\n\r\n')).toBe(true);
  const [start = '', ...lines] = text.slice(0, -4).split('\r\n');
  const fields = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    expect(colon).toBeGreaterThan(0);
    expect(line[colon + 1]).toBe(' ');
    return [line.slice(0, colon), line.slice(colon + 2)];
  });
  return { start, fields };
}

describe('parseFastRequest', () => {
  it('takes a plain GET with a Host', () => {
    expect(parseFastRequest(head('GET /path?q=1 HTTP/1.1', 'Host: r.ns.example.com', 'Accept: */*'))).toEqual(
      {
        method: 'GET',
        target: '/path?q=1',
        host: 'r.ns.example.com',
        tag: undefined,
        close: false,
        kept: 'GET /path?q=1 HTTP/1.1\r\nHost: r.ns.example.com\r\nAccept: */*\r\n',
        forwardedFor: undefined,
        forwarded: undefined,
      },
    );
  });

  const accepted: [string, string, Partial<FastRequest>][] = [
    [
      'a Knative-Serving-Tag',
      head('GET / HTTP/1.1', 'Host: r.ns.example.com', 'Knative-Serving-Tag: green'),
      { host: 'r.ns.example.com', tag: 'green', close: false },
    ],
    [
      'a lowercase tag and host',
      head('GET / HTTP/1.1', 'host: r.ns.example.com', 'knative-serving-tag: blue'),
      { host: 'r.ns.example.com', tag: 'blue' },
    ],
    ['Connection: close', head('GET / HTTP/1.1', 'Host: r', 'Connection: close'), { close: true }],
    ['Connection: keep-alive', head('GET / HTTP/1.1', 'Host: r', 'Connection: keep-alive'), { close: false }],
    [
      'Connection listing Keep-Alive and Close',
      head('GET / HTTP/1.1', 'Host: r', 'Connection: Keep-Alive, Close'),
      { close: true },
    ],
    ['an empty Connection', head('GET / HTTP/1.1', 'Host: r', 'Connection:'), { close: false }],
    ['Content-Length: 0', head('POST /submit HTTP/1.1', 'Host: r', 'Content-Length: 0'), { method: 'POST' }],
    ['no space after the colon', head('GET / HTTP/1.1', 'Host:r.example.com'), { host: 'r.example.com' }],
    [
      'whitespace around a value',
      head('GET / HTTP/1.1', 'Host: \t r.example.com \t'),
      { host: 'r.example.com' },
    ],
    [
      'a host with a port',
      head('GET / HTTP/1.1', 'Host: r.example.com:8080'),
      { host: 'r.example.com:8080' },
    ],
    ['an extension method', head('PURGE /cache HTTP/1.1', 'Host: r'), { method: 'PURGE', target: '/cache' }],
    ['DELETE', head('DELETE /items/1 HTTP/1.1', 'Host: r'), { method: 'DELETE', target: '/items/1' }],
    [
      'a target with a query and sub-delimiters',
      head('GET /a/b%20c;p=1?x=1&y=$2,3/?@ HTTP/1.1', 'Host: r'),
      { target: '/a/b%20c;p=1?x=1&y=$2,3/?@' },
    ],
    ['an empty field value', head('GET / HTTP/1.1', 'Host: r', 'X-Empty:'), { host: 'r' }],
    ['obs-text in a value', head('GET / HTTP/1.1', 'Host: r', 'X-Name: caf\xe9'), { host: 'r' }],
    ['a tab inside a value', head('GET / HTTP/1.1', 'Host: r', 'X-List: a\tb'), { host: 'r' }],
  ];

  it.each(accepted)('takes %s', (_name, text, expected) => {
    expect(parseFastRequest(text)).toMatchObject(expected);
  });

  it('keeps every field, in order, with its name as sent', () => {
    const request = fastRequest(
      head('GET / HTTP/1.1', 'Host: r', 'X-Empty:', 'x-a: 1', 'X-A: 2', 'Cookie: a=1; b=2'),
    );
    expect(splitHead(upstreamRequestHead(request, '10.1.2.3')).fields.slice(0, 5)).toEqual([
      ['Host', 'r'],
      ['X-Empty', ''],
      ['x-a', '1'],
      ['X-A', '2'],
      ['Cookie', 'a=1; b=2'],
    ]);
  });

  const refused: [string, string][] = [
    ['HTTP/1.0', head('GET / HTTP/1.0', 'Host: r')],
    [
      'Content-Length: 0 twice (llhttp answers 400)',
      head('GET / HTTP/1.1', 'Host: r', 'Content-Length: 0', 'Content-Length: 0'),
    ],
    ['HTTP/2.0', head('GET / HTTP/2.0', 'Host: r')],
    ['a lowercase protocol', head('GET / http/1.1', 'Host: r')],
    ['no protocol', head('GET /', 'Host: r')],
    ['an absolute-form target', head('GET http://r.example.com/ HTTP/1.1', 'Host: r.example.com')],
    ['the asterisk target', head('OPTIONS * HTTP/1.1', 'Host: r')],
    ['an authority-form target', head('CONNECT r.example.com:443 HTTP/1.1', 'Host: r.example.com:443')],
    ['a method with a parenthesis', head('G(T / HTTP/1.1', 'Host: r')],
    ['a method with an @', head('GE@T / HTTP/1.1', 'Host: r')],
    ['an empty method', head(' / HTTP/1.1', 'Host: r')],
    ['a space in the target', head('GET /a b HTTP/1.1', 'Host: r')],
    ['two spaces after the method', head('GET  / HTTP/1.1', 'Host: r')],
    ['a non-ASCII byte in the target', head('GET /caf\xe9 HTTP/1.1', 'Host: r')],
    ['no Host', head('GET / HTTP/1.1', 'Accept: */*')],
    ['no fields at all', head('GET / HTTP/1.1')],
    ['two Host fields', head('GET / HTTP/1.1', 'Host: r', 'Host: r')],
    ['two Host fields in different case', head('GET / HTTP/1.1', 'Host: a', 'host: b')],
    ['an empty Host', head('GET / HTTP/1.1', 'Host:')],
    ['a Host of spaces', head('GET / HTTP/1.1', 'Host:   ')],
    ['Content-Length: 5', head('POST / HTTP/1.1', 'Host: r', 'Content-Length: 5')],
    ['Content-Length: 1', head('GET / HTTP/1.1', 'Host: r', 'Content-Length: 1')],
    ['an invalid Content-Length', head('GET / HTTP/1.1', 'Host: r', 'Content-Length: abc')],
    ['Transfer-Encoding: chunked', head('POST / HTTP/1.1', 'Host: r', 'Transfer-Encoding: chunked')],
    ['Transfer-Encoding: identity', head('GET / HTTP/1.1', 'Host: r', 'transfer-encoding: identity')],
    [
      'an Upgrade',
      head(
        'GET / HTTP/1.1',
        'Host: r',
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
      ),
    ],
    ['an Upgrade without Connection', head('GET / HTTP/1.1', 'Host: r', 'Upgrade: h2c')],
    ['Expect: 100-continue', head('PUT / HTTP/1.1', 'Host: r', 'Expect: 100-continue')],
    ['Connection naming another header', head('GET / HTTP/1.1', 'Host: r', 'Connection: x-foo', 'X-Foo: 1')],
    [
      'Connection naming close and another header',
      head('GET / HTTP/1.1', 'Host: r', 'Connection: close, x-foo'),
    ],
    ['Connection: Upgrade', head('GET / HTTP/1.1', 'Host: r', 'Connection: Upgrade')],
    ['obs-fold with a space', head('GET / HTTP/1.1', 'Host: r', 'X-A: 1', ' continued')],
    ['obs-fold with a tab', head('GET / HTTP/1.1', 'Host: r', 'X-A: 1', '\tcontinued')],
    ['obs-fold of the Host', head('GET / HTTP/1.1', 'Host:', ' r')],
    ['a space before the colon', head('GET / HTTP/1.1', 'Host : r')],
    ['a tab before the colon', head('GET / HTTP/1.1', 'Host: r', 'X-A\t: 1')],
    ['a field without a colon', head('GET / HTTP/1.1', 'Host: r', 'X-A 1')],
    ['an empty field name', head('GET / HTTP/1.1', 'Host: r', ': 1')],
    ['a field name with a non-token character', head('GET / HTTP/1.1', 'Host: r', 'X/A: 1')],
    ['an empty line inside the head', head('GET / HTTP/1.1', 'Host: r', '', 'X-A: 1')],
    ['a bare LF between fields', head('GET / HTTP/1.1', 'Host: r\nX-A: 1')],
    ['a bare LF after the request line', 'GET / HTTP/1.1\nHost: r'],
    ['a bare CR between fields', head('GET / HTTP/1.1', 'Host: r\rX-A: 1')],
    ['a bare CR inside a value', head('GET / HTTP/1.1', 'Host: r', 'X-A: a\rb')],
    ['a bare LF inside a value', head('GET / HTTP/1.1', 'Host: r', 'X-A: a\nb')],
    ['a NUL in a value', head('GET / HTTP/1.1', 'Host: r', 'X-A: a\x00b')],
    ['a NUL in the Host', head('GET / HTTP/1.1', 'Host: r\x00.evil')],
    ['a control character in a value', head('GET / HTTP/1.1', 'Host: r', 'X-A: a\x01b')],
    ['an escape in a value', head('GET / HTTP/1.1', 'Host: r', 'X-A: a\x1bb')],
    ['a DEL in a value', head('GET / HTTP/1.1', 'Host: r', 'X-A: a\x7fb')],
    [
      'two Knative-Serving-Tag fields',
      head('GET / HTTP/1.1', 'Host: r', 'Knative-Serving-Tag: a', 'knative-serving-tag: b'),
    ],
    ['a leading empty line', head('', 'GET / HTTP/1.1', 'Host: r')],
  ];

  it.each(refused)('leaves %s to node:http', (_name, text) => {
    expect(parseFastRequest(text)).toBeUndefined();
  });
});

describe('upstreamRequestHead', () => {
  /** The headers the node:http path sends for the same request (node:http lowercases names). */
  function nodePathHeaders(
    fields: [string, string][],
    clientIP: string | undefined,
  ): Record<string, unknown> {
    const record: HeaderRecord = {};
    for (const [name, value] of fields) record[name.toLowerCase()] = value;
    return { ...upstreamHeaders(forwardHeaders(record, { clientIP, proto: 'http' })) };
  }

  const cases: [string, [string, string][], string | undefined][] = [
    [
      'a first hop',
      [
        ['Host', 'r.ns.example.com'],
        ['Accept', '*/*'],
        ['User-Agent', 'curl/8.5.0'],
      ],
      '10.1.2.3',
    ],
    [
      'an existing X-Forwarded-For, appended to',
      [
        ['Host', 'r.ns.example.com'],
        ['X-Forwarded-For', '1.1.1.1, 2.2.2.2'],
      ],
      '10.1.2.3',
    ],
    [
      'an existing Forwarded, appended to',
      [
        ['Host', 'r.ns.example.com'],
        ['Forwarded', 'for=1.1.1.1;proto=https'],
      ],
      '10.1.2.3',
    ],
    [
      "the client's X-Forwarded-Proto and -Host, replaced",
      [
        ['Host', 'r.ns.example.com'],
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-Host', 'spoofed.example.com'],
      ],
      '10.1.2.3',
    ],
    [
      'internal headers, dropped',
      [
        ['Host', 'r.ns.example.com'],
        ['Knative-Serving-Tag', 'green'],
        ['X-Ebb-Anything', '1'],
        ['K-Network-Probe', 'probe'],
        ['Knative-Serving-Revision', 'r-00001'],
        ['Accept', 'text/html'],
      ],
      '10.1.2.3',
    ],
    [
      'hop-by-hop headers, dropped',
      [
        ['Host', 'r.ns.example.com'],
        ['Connection', 'keep-alive'],
        ['Keep-Alive', 'timeout=5'],
        ['TE', 'trailers'],
        ['Proxy-Authorization', 'Basic eA=='],
        ['Proxy-Connection', 'keep-alive'],
        ['Trailer', 'expires'],
        ['Authorization', 'Bearer t'],
      ],
      '10.1.2.3',
    ],
    [
      'Connection: close, dropped',
      [
        ['Host', 'r.ns.example.com'],
        ['Connection', 'close'],
      ],
      '10.1.2.3',
    ],
    [
      'a field named by Connection: close, dropped (RFC 9110 §7.6.1)',
      [
        ['Host', 'r.ns.example.com'],
        ['Connection', 'close'],
        ['Close', 'x'],
      ],
      '10.1.2.3',
    ],
    [
      'an IPv4-mapped IPv6 client',
      [
        ['Host', 'r.ns.example.com'],
        ['X-Forwarded-For', '1.1.1.1'],
      ],
      '::ffff:10.1.2.3',
    ],
    ['an IPv6 client', [['Host', 'r.ns.example.com']], 'fd00::1'],
    ['a host with a port', [['Host', 'r.ns.example.com:8080']], '10.1.2.3'],
    ['an unknown client', [['Host', 'r.ns.example.com']], undefined],
    ['an empty client address', [['Host', 'r.ns.example.com']], ''],
    [
      'an unknown client behind a proxy',
      [
        ['Host', 'r.ns.example.com'],
        ['X-Forwarded-For', '1.1.1.1'],
        ['Forwarded', 'for=1.1.1.1'],
      ],
      undefined,
    ],
    [
      'a Content-Length of 0 and ordinary headers',
      [
        ['Host', 'r.ns.example.com'],
        ['Content-Length', '0'],
        ['Content-Type', 'text/plain'],
        ['Cookie', 'a=1; b=2'],
      ],
      '10.1.2.3',
    ],
  ];

  it.each(cases)('sends the node:http headers for %s', (_name, fields, clientIP) => {
    const text = head('GET /path?q=1 HTTP/1.1', ...fields.map(([n, v]) => `${n}: ${v}`));
    const written = splitHead(upstreamRequestHead(fastRequest(text), clientIP));
    expect(written.start).toBe('GET /path?q=1 HTTP/1.1');
    const lowerNames = written.fields.map(([n]) => n.toLowerCase());
    // One line per header, so that a map compares them all.
    expect(new Set(lowerNames).size).toBe(lowerNames.length);
    const got = Object.fromEntries(written.fields.map(([n, v]) => [n.toLowerCase(), v]));
    expect(got).toEqual(nodePathHeaders(fields, clientIP));
  });

  it('writes what RFC 7239 and X-Forwarded-* call for', () => {
    const text = head(
      'POST /items HTTP/1.1',
      'Host: r.ns.example.com',
      'X-Forwarded-For: 1.1.1.1',
      'Forwarded: for=1.1.1.1',
      'X-Forwarded-Proto: https',
      'Content-Length: 0',
    );
    expect(upstreamRequestHead(fastRequest(text), '::ffff:10.1.2.3')).toBe(
      'POST /items HTTP/1.1\r\n' +
        'Host: r.ns.example.com\r\n' +
        'Content-Length: 0\r\n' +
        'x-forwarded-for: 1.1.1.1, 10.1.2.3\r\n' +
        'x-forwarded-proto: http\r\n' +
        'x-forwarded-host: r.ns.example.com\r\n' +
        'forwarded: for=1.1.1.1, for=10.1.2.3;host=r.ns.example.com;proto=http\r\n\r\n',
    );
  });

  it('quotes an IPv6 client in Forwarded and writes for=unknown without a client', () => {
    const request = fastRequest(head('GET / HTTP/1.1', 'Host: r.ns.example.com'));
    const v6 = Object.fromEntries(splitHead(upstreamRequestHead(request, 'fd00::1')).fields);
    expect(v6['x-forwarded-for']).toBe('fd00::1');
    expect(v6.forwarded).toBe('for="[fd00::1]";host=r.ns.example.com;proto=http');
    const unknown = Object.fromEntries(splitHead(upstreamRequestHead(request, undefined)).fields);
    expect(unknown['x-forwarded-for']).toBeUndefined();
    expect(unknown.forwarded).toBe('for=unknown;host=r.ns.example.com;proto=http');
  });

  it('keeps the case of the names it passes on, in their order', () => {
    const text = head(
      'GET / HTTP/1.1',
      'HOST: r.ns.example.com',
      'user-agent: test',
      'X-Custom-Thing: 1',
      'Connection: keep-alive',
      'aCCept: */*',
    );
    const names = splitHead(upstreamRequestHead(fastRequest(text), '10.1.2.3')).fields.map(([n]) => n);
    expect(names).toEqual([
      'HOST',
      'user-agent',
      'X-Custom-Thing',
      'aCCept',
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-forwarded-host',
      'forwarded',
    ]);
  });

  it('keeps the request method and target', () => {
    const request = fastRequest(head('DELETE /a/b?c=%20d HTTP/1.1', 'Host: r'));
    expect(splitHead(upstreamRequestHead(request, '10.1.2.3')).start).toBe('DELETE /a/b?c=%20d HTTP/1.1');
  });

  it('joins repeated X-Forwarded-For lines and appends the client in one line', () => {
    const text = head(
      'GET / HTTP/1.1',
      'Host: r.ns.example.com',
      'X-Forwarded-For: 1.1.1.1',
      'X-Forwarded-For: 2.2.2.2, 3.3.3.3',
    );
    const { fields } = splitHead(upstreamRequestHead(fastRequest(text), '10.1.2.3'));
    const xff = fields.filter(([n]) => n.toLowerCase() === 'x-forwarded-for');
    expect(xff).toEqual([['x-forwarded-for', '1.1.1.1, 2.2.2.2, 3.3.3.3, 10.1.2.3']]);
  });

  it('joins repeated Forwarded lines and appends this hop in one line', () => {
    const text = head('GET / HTTP/1.1', 'Host: r', 'Forwarded: for=1.1.1.1', 'Forwarded: for=2.2.2.2');
    const { fields } = splitHead(upstreamRequestHead(fastRequest(text), '10.1.2.3'));
    const forwarded = fields.filter(([n]) => n.toLowerCase() === 'forwarded');
    expect(forwarded).toEqual([['forwarded', 'for=1.1.1.1, for=2.2.2.2, for=10.1.2.3;host=r;proto=http']]);
  });
});

describe('parseResponseHead', () => {
  const framings: [string, string, string, Framing][] = [
    ['Content-Length', head('HTTP/1.1 200 OK', 'Content-Length: 5'), 'GET', { kind: 'length', length: 5 }],
    ['Content-Length: 0', head('HTTP/1.1 200 OK', 'Content-Length: 0'), 'GET', { kind: 'length', length: 0 }],
    [
      'a large Content-Length',
      head('HTTP/1.1 200 OK', 'Content-Length: 123456789012345'),
      'GET',
      { kind: 'length', length: 123456789012345 },
    ],
    ['chunked', head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'), 'GET', { kind: 'chunked' }],
    [
      'Chunked in any case',
      head('HTTP/1.1 200 OK', 'transfer-encoding: Chunked'),
      'GET',
      { kind: 'chunked' },
    ],
    [
      'gzip, then chunked',
      head('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip, chunked'),
      'GET',
      { kind: 'chunked' },
    ],
    [
      'gzip and chunked on two lines',
      head('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'),
      'GET',
      { kind: 'chunked' },
    ],
    ['gzip alone', head('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip'), 'GET', { kind: 'close' }],
    [
      'chunked, then gzip',
      head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked, gzip'),
      'GET',
      { kind: 'close' },
    ],
    [
      'chunked and gzip on two lines',
      head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip'),
      'GET',
      { kind: 'close' },
    ],
    ['no length', head('HTTP/1.1 200 OK', 'Content-Type: text/plain'), 'GET', { kind: 'close' }],
    ['no fields', head('HTTP/1.1 200 OK'), 'GET', { kind: 'close' }],
    ['HTTP/1.0 without a length', head('HTTP/1.0 200 OK'), 'GET', { kind: 'close' }],
    ['HEAD with a length', head('HTTP/1.1 200 OK', 'Content-Length: 5'), 'HEAD', { kind: 'none' }],
    ['HEAD with chunked', head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'), 'HEAD', { kind: 'none' }],
    ['HEAD without a length', head('HTTP/1.1 200 OK'), 'HEAD', { kind: 'none' }],
    ['204', head('HTTP/1.1 204 No Content'), 'GET', { kind: 'none' }],
    [
      '204 with chunked',
      head('HTTP/1.1 204 No Content', 'Transfer-Encoding: chunked'),
      'GET',
      { kind: 'none' },
    ],
    ['304', head('HTTP/1.1 304 Not Modified', 'Content-Length: 5'), 'GET', { kind: 'none' }],
    ['103', head('HTTP/1.1 103 Early Hints', 'Link: </a.css>; rel=preload'), 'GET', { kind: 'none' }],
    ['100', head('HTTP/1.1 100 Continue'), 'GET', { kind: 'none' }],
    [
      '205 with a length',
      head('HTTP/1.1 205 Reset Content', 'Content-Length: 0'),
      'GET',
      { kind: 'length', length: 0 },
    ],
    [
      '404 with a length',
      head('HTTP/1.1 404 Not Found', 'Content-Length: 9'),
      'GET',
      { kind: 'length', length: 9 },
    ],
  ];

  it.each(framings)('frames %s', (_name, text, method, framing) => {
    const parsed = response(text, method);
    expect(parsed.framing).toEqual(framing);
    expect(parsed.downstream.endsWith('\r\n\r\n')).toBe(true);
  });

  it.each(framings)(
    'closes the client after the body of %s only when it runs to the close',
    (_n, text, method) => {
      const parsed = response(text, method);
      const closes = parsed.framing.kind === 'close';
      expect(parsed.close).toBe(closes);
      expect(splitHead(parsed.downstream).fields.some(([n, v]) => n === 'connection' && v === 'close')).toBe(
        closes,
      );
      if (closes) expect(parsed.reusable).toBe(false);
    },
  );

  // As llhttp, which frames the node:http path's responses: one rule for both paths.
  it.each([
    [
      'a repeated, equal Content-Length',
      ['Content-Length: 5', 'content-length: 5'],
      'a repeated Content-Length',
    ],
    ['Content-Length beside chunked', ['Content-Length: 5', 'Transfer-Encoding: chunked'], 'beside'],
    ['Content-Length beside gzip', ['Transfer-Encoding: gzip', 'Content-Length: 5'], 'beside'],
    ['Content-Length: 0 after chunked', ['Transfer-Encoding: chunked', 'Content-Length: 0'], 'beside'],
  ])('refuses %s, as llhttp does', (_name, fields, message) => {
    expect(parseResponseHead(head('HTTP/1.1 200 OK', ...fields), 'GET', false)).toContain(message);
  });

  it('keeps the framing fields that Connection names: the body is relayed with them', () => {
    const parsed = response(
      head(
        'HTTP/1.1 200 OK',
        'Connection: content-length, transfer-encoding, x-a',
        'X-A: 1',
        'Content-Length: 5',
      ),
    );
    expect(parsed.framing).toEqual({ kind: 'length', length: 5 });
    expect(parsed.downstream).toBe('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
    expect(parsed.close).toBe(false);
  });

  it('relays codings other than chunked with the body, to the close', () => {
    const parsed = response(head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked, gzip'));
    expect(parsed.framing).toEqual({ kind: 'close' });
    expect(parsed.downstream).toBe(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nconnection: close\r\n\r\n',
    );
  });

  it('relays a gzip body to the close with Connection: close', () => {
    const parsed = response(head('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip'));
    expect(parsed).toEqual({
      status: 200,
      downstream: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nconnection: close\r\n\r\n',
      framing: { kind: 'close' },
      reusable: false,
      close: true,
      interim: false,
    });
  });

  it('relays a body without length to the close', () => {
    const parsed = response(head('HTTP/1.1 200 OK', 'Content-Type: text/plain'));
    expect(parsed.downstream).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nconnection: close\r\n\r\n',
    );
    expect(parsed.reusable).toBe(false);
    expect(parsed.close).toBe(true);
  });

  it.each([
    ['103 Early Hints', 'HTTP/1.1 103 Early Hints', 103],
    ['100 Continue', 'HTTP/1.1 100 Continue', 100],
    ['102 Processing', 'HTTP/1.1 102 Processing', 102],
  ])('relays %s as an interim answer, never closing', (_name, statusLine, status) => {
    for (const closeClient of [false, true]) {
      const parsed = response(head(statusLine, 'Link: </a.css>; rel=preload'), 'GET', closeClient);
      expect(parsed).toEqual({
        status,
        downstream: `${statusLine}\r\nLink: </a.css>; rel=preload\r\n\r\n`,
        framing: { kind: 'none' },
        reusable: true,
        close: false,
        interim: true,
      });
    }
  });

  it.each([
    ['HTTP/1.1 with a length', head('HTTP/1.1 200 OK', 'Content-Length: 5'), true],
    ['HTTP/1.1 chunked', head('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'), true],
    ['Connection: keep-alive', head('HTTP/1.1 200 OK', 'Connection: keep-alive', 'Content-Length: 5'), true],
    ['HTTP/1.1 204', head('HTTP/1.1 204 No Content'), true],
    ['HTTP/1.0 with a length', head('HTTP/1.0 200 OK', 'Content-Length: 5'), false],
    [
      'HTTP/1.0 with keep-alive',
      head('HTTP/1.0 200 OK', 'Connection: keep-alive', 'Content-Length: 5'),
      false,
    ],
    ['HTTP/1.0 204', head('HTTP/1.0 204 No Content'), false],
    ['Connection: close', head('HTTP/1.1 200 OK', 'Connection: close', 'Content-Length: 5'), false],
    ['Connection: Close', head('HTTP/1.1 200 OK', 'Connection: Close', 'Content-Length: 5'), false],
    ['close in a list', head('HTTP/1.1 200 OK', 'Connection: x-trace, close', 'Content-Length: 5'), false],
    [
      'close on a second line',
      head('HTTP/1.1 200 OK', 'Connection: x-a', 'Connection: close', 'Content-Length: 0'),
      false,
    ],
    ['a body to the close', head('HTTP/1.1 200 OK'), false],
  ])('reuses the pod connection after %s: %p', (_name, text, reusable) => {
    expect(response(text).reusable).toBe(reusable);
  });

  it("keeps the client's connection open after the pod's Connection: close", () => {
    const parsed = response(head('HTTP/1.1 200 OK', 'Connection: close', 'Content-Length: 5'));
    expect(parsed.close).toBe(false);
    expect(parsed.downstream).toBe('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
  });

  it('strips hop-by-hop fields and those Connection names', () => {
    const parsed = response(
      head(
        'HTTP/1.1 200 OK',
        'Connection: keep-alive, X-Trace',
        'Keep-Alive: timeout=5',
        'Content-Type: text/plain',
        'X-Trace: abc',
        'Proxy-Authenticate: Basic',
        'Proxy-Connection: keep-alive',
        'Trailer: Expires',
        'Upgrade: h2c',
        'TE: trailers',
        'Set-Cookie: a=1',
        'Set-Cookie: b=2',
        'Content-Length: 5',
      ),
    );
    expect(parsed.downstream).toBe(
      'HTTP/1.1 200 OK\r\n' +
        'Content-Type: text/plain\r\n' +
        'Set-Cookie: a=1\r\n' +
        'Set-Cookie: b=2\r\n' +
        'Content-Length: 5\r\n\r\n',
    );
    expect(parsed.reusable).toBe(true);
  });

  it('strips fields named on a second Connection line, in any case', () => {
    const parsed = response(
      head(
        'HTTP/1.1 200 OK',
        'Connection: x-a',
        'connection: X-B',
        'x-A: 1',
        'X-b: 2',
        'X-C: 3',
        'Content-Length: 0',
      ),
    );
    expect(parsed.downstream).toBe('HTTP/1.1 200 OK\r\nX-C: 3\r\nContent-Length: 0\r\n\r\n');
  });

  it('adds Connection: close when the client is to be closed', () => {
    const parsed = response(head('HTTP/1.1 200 OK', 'Content-Length: 5'), 'GET', true);
    expect(parsed).toEqual({
      status: 200,
      downstream: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nconnection: close\r\n\r\n',
      framing: { kind: 'length', length: 5 },
      reusable: true,
      close: true,
      interim: false,
    });
  });

  it('writes one Connection: close when the pod sent one and the client is to be closed', () => {
    const parsed = response(head('HTTP/1.1 200 OK', 'Connection: close', 'Content-Length: 5'), 'GET', true);
    expect(parsed.downstream).toBe('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nconnection: close\r\n\r\n');
    expect(parsed.reusable).toBe(false);
  });

  it.each([
    ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 200],
    ['HTTP/1.0 404 Not Found', 'HTTP/1.1 404 Not Found', 404],
    ['HTTP/1.1 503 Service Unavailable', 'HTTP/1.1 503 Service Unavailable', 503],
    ['HTTP/1.1 200 ', 'HTTP/1.1 200 ', 200],
    // RFC 9112 §4: the space before the reason phrase is not optional, even when it is empty.
    ['HTTP/1.1 200', 'HTTP/1.1 200 ', 200],
    ['HTTP/1.1 299 Custom  reason\twith tabs', 'HTTP/1.1 299 Custom  reason\twith tabs', 299],
    ['HTTP/1.1 200 D\xe9j\xe0 vu', 'HTTP/1.1 200 D\xe9j\xe0 vu', 200],
  ])('writes the status line %p as %p', (statusLine, written, status) => {
    const parsed = response(head(statusLine, 'Content-Length: 0'));
    expect(parsed.status).toBe(status);
    expect(parsed.downstream).toBe(`${written}\r\nContent-Length: 0\r\n\r\n`);
  });

  it.each([
    ['an empty head', ''],
    ['a status of two digits', head('HTTP/1.1 20 OK', 'Content-Length: 0')],
    ['a status of four digits', head('HTTP/1.1 2000 OK', 'Content-Length: 0')],
    ['a status starting with 0', head('HTTP/1.1 099 Odd', 'Content-Length: 0')],
    ['no space after the status', head('HTTP/1.1 200OK', 'Content-Length: 0')],
    ['two spaces before the status', head('HTTP/1.1  200 OK', 'Content-Length: 0')],
    ['HTTP/2', head('HTTP/2 200 OK', 'Content-Length: 0')],
    ['HTTP/1.2', head('HTTP/1.2 200 OK', 'Content-Length: 0')],
    ['a lowercase protocol', head('http/1.1 200 OK', 'Content-Length: 0')],
    ['another protocol', head('ICY 200 OK', 'Content-Length: 0')],
    ['a NUL in the reason', head('HTTP/1.1 200 O\x00K', 'Content-Length: 0')],
    ['conflicting Content-Length values', head('HTTP/1.1 200 OK', 'Content-Length: 5', 'Content-Length: 6')],
    ['a list in Content-Length', head('HTTP/1.1 200 OK', 'Content-Length: 5, 6')],
    ['a non-numeric Content-Length', head('HTTP/1.1 200 OK', 'Content-Length: abc')],
    ['a negative Content-Length', head('HTTP/1.1 200 OK', 'Content-Length: -1')],
    ['a signed Content-Length', head('HTTP/1.1 200 OK', 'Content-Length: +5')],
    ['a hex Content-Length', head('HTTP/1.1 200 OK', 'Content-Length: 0x5')],
    ['an empty Content-Length', head('HTTP/1.1 200 OK', 'Content-Length:')],
    ['a Content-Length of 16 digits', head('HTTP/1.1 200 OK', 'Content-Length: 1234567890123456')],
    ['a bare LF in a line', head('HTTP/1.1 200 OK', 'Content-Length: 5\nX-A: 1')],
    ['a bare LF after the status line', 'HTTP/1.1 200 OK\nContent-Length: 5'],
    ['a bare CR in a line', head('HTTP/1.1 200 OK', 'Content-Length: 5\rX-A: 1')],
    ['a field without a colon', head('HTTP/1.1 200 OK', 'Content-Length 5')],
    ['a space before the colon', head('HTTP/1.1 200 OK', 'Content-Length : 5')],
    ['obs-fold', head('HTTP/1.1 200 OK', 'X-A: 1', ' more', 'Content-Length: 0')],
    ['an empty field name', head('HTTP/1.1 200 OK', ': x', 'Content-Length: 0')],
    ['a NUL in a value', head('HTTP/1.1 200 OK', 'X-A: a\x00b', 'Content-Length: 0')],
    ['a control character in a value', head('HTTP/1.1 200 OK', 'X-A: a\x0bb', 'Content-Length: 0')],
  ])('refuses %s', (_name, text) => {
    const result = parseResponseHead(text, 'GET', false);
    expect(typeof result).toBe('string');
    expect(result).not.toBe('');
  });

  it('names the malformed status line in its error', () => {
    expect(parseResponseHead('HTTP/1.1 20 OK', 'GET', false)).toContain('"HTTP/1.1 20 OK"');
  });
});
