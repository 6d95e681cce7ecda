// Strict HTTP/1.1 message heads for the gateway's fast path (fast-path.ts): parsing a client's
// request head and a pod's response head, and writing the heads sent on. The parser accepts only
// the plain shape of RFC 9112 (CRLF line ends, token names, no obs-fold, no whitespace before the
// colon); anything else is left to node:http by the caller, so that odd input meets one parser,
// llhttp, and never two that might disagree about where a message ends. Pure: no I/O.
import { STATUS_CODES } from 'node:http';
import { forwardedElement, isInternalHeader, plainIP } from './forward-headers.ts';
import { connectionTokens, HOP_BY_HOP } from './forwarder.ts';

/** A head line's name and value, with the name as sent and its lowercase form. */
export interface HeadField {
  name: string;
  lower: string;
  value: string;
}

/** A request the fast path can serve on its own: HTTP/1.1, no body, no upgrade, one Host. */
export interface FastRequest {
  method: string;
  target: string;
  fields: HeadField[];
  host: string;
  /** Knative-Serving-Tag, when sent once. */
  tag: string | undefined;
  /** The client asked to close the connection after this exchange. */
  close: boolean;
}

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

/** Request headers the gateway writes itself from what it saw. */
const REWRITTEN: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
]);

/** 1 for the bytes of a field name (an RFC 9110 token). */
const NAME_BYTE = new Uint8Array(256);
/** 1 for the bytes of a field value: visible ASCII, obs-text, space and tab; never CR, LF or NUL. */
const VALUE_BYTE = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  NAME_BYTE[c.charCodeAt(0)] = 1;
VALUE_BYTE[0x09] = 1;
for (let c = 0x20; c <= 0xff; c++) if (c !== 0x7f) VALUE_BYTE[c] = 1;

/**
 * A head's first line and its fields, in one pass over the characters (a split and a regular
 * expression per line cost a tenth of the fast path's CPU): `name:` with no space before the
 * colon, optional whitespace around the value, lines ended by CRLF and nothing else. Undefined for
 * anything else, obs-fold included. The first line is returned unchecked, for its own pattern.
 */
function scanHead(head: string): { first: string; fields: HeadField[] } | undefined {
  const n = head.length;
  const eol = head.indexOf('\r\n');
  if (eol < 0) return { first: head, fields: [] };
  const fields: HeadField[] = [];
  let pos = eol + 2;
  for (;;) {
    const start = pos;
    while (pos < n && NAME_BYTE[head.charCodeAt(pos)] === 1) pos++;
    if (pos === start || head.charCodeAt(pos) !== 0x3a) return undefined;
    const name = head.slice(start, pos);
    pos++;
    let c = head.charCodeAt(pos);
    while (c === 0x20 || c === 0x09) c = head.charCodeAt(++pos);
    const valueStart = pos;
    let valueEnd = pos;
    for (; pos < n; pos++) {
      c = head.charCodeAt(pos);
      if (c === 0x0d) break;
      if (VALUE_BYTE[c] !== 1) return undefined;
      if (c !== 0x20 && c !== 0x09) valueEnd = pos + 1;
    }
    fields.push({ name, lower: name.toLowerCase(), value: head.slice(valueStart, valueEnd) });
    if (pos === n) return { first: head.slice(0, eol), fields };
    // A CR ends a line only with its LF, and another field must follow: the head has no blank line.
    if (head.charCodeAt(pos + 1) !== 0x0a || pos + 2 >= n) return undefined;
    pos += 2;
  }
}

/**
 * The request in `head` (the bytes before the blank line, as latin1) when the fast path may serve
 * it; undefined for anything else, which node:http then parses, answers or tunnels as before: a
 * body, an upgrade, Expect, HTTP/1.0, a missing or repeated Host, a Connection header naming other
 * headers, and any syntax outside the plain form.
 */
export function parseFastRequest(head: string): FastRequest | undefined {
  const scanned = scanHead(head);
  if (scanned === undefined) return undefined;
  const start = REQUEST_LINE.exec(scanned.first);
  if (start === null) return undefined;
  const fields = scanned.fields;
  let host: string | undefined;
  let hosts = 0;
  let tag: string | undefined;
  let tags = 0;
  let close = false;
  let lengths = 0;
  for (const f of fields) {
    switch (f.lower) {
      case 'host':
        host = f.value;
        hosts++;
        break;
      case 'content-length':
        // llhttp refuses a repeated Content-Length; so does this path, by leaving it to llhttp.
        if (f.value !== '0' || ++lengths > 1) return undefined;
        break;
      case 'transfer-encoding':
      case 'upgrade':
      case 'expect':
        return undefined;
      case 'connection': {
        for (const t of connectionTokens(f.value)) {
          if (t === 'close') close = true;
          else if (t !== 'keep-alive') return undefined;
        }
        break;
      }
      case 'knative-serving-tag':
        tag = f.value;
        tags++;
        break;
    }
  }
  if (hosts !== 1 || host === undefined || host === '' || tags > 1) return undefined;
  return { method: start[1] ?? '', target: start[2] ?? '', fields, host, tag, close };
}

function joinedValues(fields: readonly HeadField[], lower: string): string | undefined {
  let joined: string | undefined;
  for (const f of fields) {
    if (f.lower !== lower) continue;
    joined = joined === undefined ? f.value : `${joined}, ${f.value}`;
  }
  return joined === undefined || joined.trim() === '' ? undefined : joined;
}

/**
 * The head sent to the pod: the client's fields in their order without hop-by-hop and internal
 * ones, then X-Forwarded-For, -Proto, -Host and Forwarded as forwardHeaders() writes them for the
 * node:http path (the two paths give the pod the same headers).
 */
export function upstreamRequestHead(request: FastRequest, clientIP: string | undefined): string {
  let head = `${request.method} ${request.target} HTTP/1.1\r\n`;
  for (const f of request.fields) {
    // `close` is the one name besides keep-alive a fast request's Connection header may list.
    if (HOP_BY_HOP.has(f.lower) || REWRITTEN.has(f.lower) || isInternalHeader(f.lower)) continue;
    if (f.lower === 'close' && request.close) continue;
    head += `${f.name}: ${f.value}\r\n`;
  }
  const ip = clientIP === undefined || clientIP === '' ? undefined : plainIP(clientIP);
  const xff = joinedValues(request.fields, 'x-forwarded-for');
  if (ip !== undefined) head += `x-forwarded-for: ${xff === undefined ? ip : `${xff}, ${ip}`}\r\n`;
  else if (xff !== undefined) head += `x-forwarded-for: ${xff}\r\n`;
  head += `x-forwarded-proto: http\r\nx-forwarded-host: ${request.host}\r\n`;
  const element = forwardedElement(ip, request.host, 'http');
  const forwarded = joinedValues(request.fields, 'forwarded');
  head += `forwarded: ${forwarded === undefined ? element : `${forwarded}, ${element}`}\r\n\r\n`;
  return head;
}

/** How the pod's response body ends (RFC 9112 §6.3). */
export type Framing =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  /** Until the pod closes the connection: the client's connection closes after it too. */
  | { kind: 'close' };

export interface ResponseHead {
  status: number;
  /** The head to send the client, blank line included. */
  downstream: string;
  framing: Framing;
  /** The pod's connection may carry another request after this response. */
  reusable: boolean;
  /** The client's connection closes after this response (close-delimited body, or asked for). */
  close: boolean;
  /** A 1xx answer other than 101: relayed, and the final response follows on the same connection. */
  interim: boolean;
}

/**
 * The pod's response head (`head` without the blank line), checked and rewritten for the client:
 * hop-by-hop fields and those its Connection header names dropped, Transfer-Encoding kept (the
 * body is relayed with the pod's framing), `Connection: close` added when `closeClient` or when
 * the body runs to the pod's close. A string names what is wrong with a head that cannot be
 * relayed.
 */
export function parseResponseHead(head: string, method: string, closeClient: boolean): ResponseHead | string {
  const scanned = scanHead(head);
  if (scanned === undefined) return 'a malformed header field, or a bare CR or LF, in the response head';
  const start = STATUS_LINE.exec(scanned.first);
  if (start === null) return `a malformed status line ${JSON.stringify(scanned.first.slice(0, 80))}`;
  const fields = scanned.fields;
  const status = Number(start[2]);
  const http10 = start[1] === '0';
  const listed = new Set<string>();
  let length: string | undefined;
  let chunked = false;
  let encoded = false;
  for (const f of fields) {
    if (f.lower === 'connection') for (const t of connectionTokens(f.value)) listed.add(t);
    else if (f.lower === 'content-length') {
      if (!/^\d{1,15}$/.test(f.value) || (length !== undefined && length !== f.value))
        return `an invalid Content-Length ${JSON.stringify(f.value)}`;
      length = f.value;
    } else if (f.lower === 'transfer-encoding') {
      encoded = true;
      // The last coding applied decides (RFC 9112 §6.3): chunked, or the body runs to the close.
      chunked = f.value.split(',').at(-1)?.trim().toLowerCase() === 'chunked';
    }
  }
  let framing: Framing;
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) framing = { kind: 'none' };
  else if (encoded) framing = chunked ? { kind: 'chunked' } : { kind: 'close' };
  else if (length !== undefined) framing = { kind: 'length', length: Number(length) };
  else framing = { kind: 'close' };
  const interim = status < 200;
  const close = !interim && (closeClient || framing.kind === 'close');
  let downstream = `HTTP/1.1 ${status} ${start[3] ?? ''}\r\n`;
  for (const f of fields) {
    if (HOP_BY_HOP.has(f.lower) || listed.has(f.lower)) continue;
    // With both, Transfer-Encoding decides the framing and Content-Length must not go on.
    if (encoded && f.lower === 'content-length') continue;
    downstream += `${f.name}: ${f.value}\r\n`;
  }
  if (close) downstream += 'connection: close\r\n';
  downstream += '\r\n';
  return {
    status,
    downstream,
    framing,
    reusable: !http10 && !listed.has('close') && framing.kind !== 'close',
    close,
    interim,
  };
}

/**
 * An answer the gateway writes itself, head and body: a one-line reason, marked
 * `x-ebb-gateway: refused` as all of the gateway's own answers are.
 */
export function gatewayAnswer(code: number, message: string, close: boolean): string {
  const body = `${message}\n`;
  return (
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nx-ebb-gateway: refused\r\n` +
    `${close ? 'connection: close\r\n' : ''}\r\n${body}`
  );
}
