// Differential test of the fast path's request heads against llhttp (issue 15, point 3):
// generated request byte streams go to readRequestHead and to a real node:http server configured
// as listener.ts configures the gateway's, and the two must not disagree where it matters. A
// request the fast path takes must be one llhttp parses alike: the same message boundary (a
// sentinel request after it is llhttp's next), method, target and fields. A head llhttp refuses
// must never be taken, and a head the fast path still waits on must not be one llhttp has already
// refused. Declining is always allowed: node:http then reads the bytes itself. The same streams
// split anywhere must be read alike, and a subset goes through the whole gateway to a recording
// pod. Deterministic (a fixed seed) and bounded by the number of cases.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { isInternalHeader } from './forward-headers.ts';
import { isWebsocketUpgrade } from './forwarder.ts';
import { HOP_BY_HOP } from './hop-by-hop.ts';
import { readRequestHead, type FastRequest, type HeadRead } from './http1-head.ts';
import { normalizeHost } from './routing-table.ts';
import {
  Disagreements,
  nextTurn,
  requestCases,
  SENTINEL,
  shown,
  type RequestCase,
} from './testing/http1-cases.ts';
import { HOST, loopbackGateway, type LoopbackGateway } from './testing/loopback-gateway.ts';
import { Random } from '../testing/random.ts';

const SEED = 0x15_0003;
const CASES = 2400;
/** Every Nth case has its line-end prefixes checked, and every Mth goes through the gateway. */
const PREFIX_EVERY = 3;
const GATEWAY_EVERY = 8;
/** Split sequences tried per case for the incremental reading. */
const SPLITS = 3;
/** Oracle connections open at once. */
const PARALLEL = 32;
/**
 * Jest's limit for the steps that go over loopback for every case: a guard against a hang, far
 * above what they take (a few seconds at most), not a measure of anything.
 */
const HANG_GUARD_MS = 60_000;
/** Event-loop turns to wait for a connection's bytes to be read before giving up on it. */
const MAX_TURNS = 10_000;

/** A request llhttp parsed, and which of node:http's events it came with. */
interface Parsed {
  kind: 'request' | 'checkContinue' | 'checkExpectation' | 'upgrade' | 'connect';
  method: string;
  url: string;
  rawHeaders: string[];
  /** llhttp's should-keep-alive, as node:http's response takes it (false for upgrade and connect). */
  keepAlive: boolean;
  /** llhttp read the whole message, body included (true for upgrade and connect). */
  complete: boolean;
}
/** llhttp refused the bytes (node:http's clientError), at byte `at` of what was written. */
interface Refused {
  kind: 'refused';
  code: string;
  at: number;
}
type LlhttpEvent = Parsed | Refused;

interface ParseError extends Error {
  code?: string;
  bytesParsed?: number;
  rawPacket?: Buffer;
}

interface OracleConnection {
  socket: Socket;
  events: LlhttpEvent[];
  done: boolean;
}

/**
 * llhttp as node:http runs it for the gateway: a server with listener.ts's options that records
 * what it makes of each connection's bytes and answers nothing.
 */
class LlhttpOracle {
  private readonly server: Server;
  /** Server-side connections by the client's port. */
  private readonly connections = new Map<number, OracleConnection>();
  port = 0;

  constructor() {
    this.server = createServer({
      requestTimeout: 0,
      headersTimeout: 60_000,
      keepAliveTimeout: 75_000,
      shouldUpgradeCallback: isWebsocketUpgrade,
    });
    this.server.on('connection', (socket: Socket) => {
      const conn: OracleConnection = { socket, events: [], done: false };
      this.connections.set(socket.remotePort ?? 0, conn);
      socket.on('close', () => {
        conn.done = true;
      });
    });
    const record =
      (kind: Parsed['kind']) =>
      (req: IncomingMessage, res?: ServerResponse): void => {
        const conn = this.connections.get(req.socket.remotePort ?? 0);
        const parsed: Parsed = {
          kind,
          method: req.method ?? '',
          url: req.url ?? '',
          rawHeaders: req.rawHeaders,
          keepAlive: res?.shouldKeepAlive ?? false,
          complete: res === undefined,
        };
        conn?.events.push(parsed);
        if (res === undefined) {
          if (conn !== undefined) conn.done = true;
          req.socket.destroy();
        } else {
          req.once('end', () => {
            parsed.complete = true;
          });
          req.resume();
        }
      };
    this.server.on('request', record('request'));
    this.server.on('checkContinue', record('checkContinue'));
    this.server.on('checkExpectation', record('checkExpectation'));
    // These two hand over the socket instead of a response: llhttp reads no further.
    const upgrade = record('upgrade');
    const connectRequest = record('connect');
    this.server.on('upgrade', (req: IncomingMessage) => {
      upgrade(req);
    });
    this.server.on('connect', (req: IncomingMessage) => {
      connectRequest(req);
    });
    this.server.on('clientError', (error: ParseError, socket: Socket) => {
      const conn = this.connections.get(socket.remotePort ?? 0);
      if (conn !== undefined) {
        // The error points into the chunk being parsed, the last one read.
        const at = socket.bytesRead - (error.rawPacket?.length ?? 0) + (error.bytesParsed ?? 0);
        conn.events.push({ kind: 'refused', code: error.code ?? error.message, at });
        conn.done = true;
      }
      socket.destroy();
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** What llhttp makes of `bytes` on a new connection, once it has read them all (or stopped). */
  async parse(bytes: Buffer): Promise<LlhttpEvent[]> {
    const client = connect(this.port, '127.0.0.1');
    client.on('error', () => undefined);
    await new Promise<void>((resolve) => client.once('connect', resolve));
    const port = client.localPort ?? 0;
    client.write(bytes);
    try {
      for (let turn = 0; ; turn++) {
        const conn = this.connections.get(port);
        if (conn !== undefined && (conn.done || conn.socket.bytesRead >= bytes.length)) {
          // A turn more: a request's 'end' (its body read whole) comes a tick after its bytes.
          await nextTurn();
          return conn.events;
        }
        if (turn > MAX_TURNS) throw new Error(`llhttp never read ${shown(bytes)}`);
        await nextTurn();
      }
    } finally {
      client.destroy();
      this.connections.get(port)?.socket.destroy();
      this.connections.delete(port);
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }
}

async function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += PARALLEL) {
    out.push(...(await Promise.all(items.slice(i, i + PARALLEL).map(fn))));
  }
  return out;
}

/** The fast path's decision on each message of a stream, as Connection.serveNext reads them. */
interface FastMessage {
  offset: number;
  read: HeadRead;
}

function fastMessages(bytes: Buffer): FastMessage[] {
  const messages: FastMessage[] = [];
  let offset = 0;
  for (;;) {
    const read = readRequestHead(bytes.subarray(offset), { line: 0, checked: 0 });
    messages.push({ offset, read });
    if (read.kind !== 'request' || read.request.close || offset + read.end >= bytes.length) return messages;
    offset += read.end;
  }
}

/** Request fields the fast path writes itself, so drops from what it passes on. */
const REWRITTEN = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

function fieldValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2)
    if (rawHeaders[i]?.toLowerCase() === name) values.push(rawHeaders[i + 1] ?? '');
  return values;
}

function nonBlank(values: string[]): string | undefined {
  const joined = values.join(', ');
  return values.length === 0 || joined.trim() === '' ? undefined : joined;
}

/**
 * What the fast path's request must hold for a request llhttp parsed: its method, target and
 * fields as llhttp read them (values trimmed), with the fast path's rules for what it drops.
 */
function asFastRequest(parsed: Parsed): Partial<FastRequest> {
  const close = !parsed.keepAlive;
  let kept = `${parsed.method} ${parsed.url} HTTP/1.1\r\n`;
  const raw = parsed.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || REWRITTEN.has(lower) || isInternalHeader(lower)) continue;
    if (close && lower === 'close') continue;
    kept += `${name}: ${raw[i + 1] ?? ''}\r\n`;
  }
  const hosts = fieldValues(raw, 'host');
  const tags = fieldValues(raw, 'knative-serving-tag');
  return {
    method: parsed.method,
    target: parsed.url,
    host: hosts.length === 1 ? hosts[0] : `(${String(hosts.length)} Host fields)`,
    tag: tags.length === 1 ? tags[0] : undefined,
    close,
    kept,
    forwardedFor: nonBlank(fieldValues(raw, 'x-forwarded-for')),
    forwarded: nonBlank(fieldValues(raw, 'forwarded')),
  };
}

function describeEvent(event: LlhttpEvent | undefined): string {
  if (event === undefined) return 'nothing';
  if (event.kind === 'refused') return `refused ${event.code} at byte ${String(event.at)}`;
  return `${event.kind} ${event.method} ${event.url}`;
}

function describeRead(read: HeadRead): string {
  if (read.kind === 'request')
    return `request ${read.request.method} ${read.request.target} ending at ${String(read.end)}`;
  return read.kind === 'decline' ? `decline (${read.reason})` : 'partial';
}

/**
 * The request's fields for a failure message: what the fast path built and what llhttp read,
 * where they differ.
 */
function fieldDiff(fast: FastRequest, parsed: Parsed): string | undefined {
  const expected = asFastRequest(parsed);
  const got: Partial<FastRequest> = {
    method: fast.method,
    target: fast.target,
    host: fast.host,
    tag: fast.tag,
    close: fast.close,
    kept: fast.kept,
    forwardedFor: fast.forwardedFor,
    forwarded: fast.forwarded,
  };
  const differ = Object.keys(expected).filter(
    (key) => got[key as keyof FastRequest] !== expected[key as keyof FastRequest],
  );
  if (differ.length === 0) return undefined;
  return differ
    .map(
      (key) =>
        `${key}: fast ${JSON.stringify(got[key as keyof FastRequest])}, llhttp ${JSON.stringify(expected[key as keyof FastRequest])}`,
    )
    .join('; ');
}

/** Each case: the fast path's decisions and llhttp's events on the whole stream. */
interface Verdict {
  case: RequestCase;
  fast: FastMessage[];
  llhttp: LlhttpEvent[];
}

function example(c: RequestCase, detail: string): string {
  return `case ${c.index < 0 ? 'minimal' : String(c.index)}: ${shown(c.bytes)}; ${detail}`;
}

/**
 * Each request the fast path takes, against llhttp: on the whole stream llhttp's message there is
 * a request too, and given the head alone and a sentinel request after it, llhttp reads the same
 * request (method, target, fields) and then the sentinel, or after `Connection: close` refuses
 * the sentinel's first byte.
 */
async function checkTaken(verdict: Verdict, found: Disagreements): Promise<void> {
  const c = verdict.case;
  for (const [message, { offset, read }] of verdict.fast.entries()) {
    if (read.kind !== 'request') continue;
    const whole = verdict.llhttp[message];
    if (whole?.kind !== 'request')
      found.add(
        `fast path takes a request, llhttp on the whole stream: ${whole?.kind === 'refused' ? whole.code : (whole?.kind ?? 'nothing')}`,
        example(c, `message ${String(message)}: llhttp ${describeEvent(whole)}`),
      );
    const head = c.bytes.subarray(offset, offset + read.end);
    const events = await oracle.parse(Buffer.concat([head, Buffer.from(SENTINEL, 'latin1')]));
    const detail = example(
      c,
      `message ${String(message)}, head ${shown(head)}; llhttp: ${events.map(describeEvent).join(', ')}`,
    );
    const [first, second] = events;
    if (first?.kind !== 'request') {
      found.add(
        `fast path takes a request, llhttp: ${first?.kind === 'refused' ? first.code : (first?.kind ?? 'nothing')}`,
        detail,
      );
      continue;
    }
    const diff = fieldDiff(read.request, first);
    if (diff !== undefined) found.add('fast path and llhttp read different fields', `${detail}; ${diff}`);
    // After `Connection: close`, llhttp refuses the sentinel, pointing one byte into it.
    const ends = read.request.close
      ? events.length === 2 &&
        second?.kind === 'refused' &&
        second.code === 'HPE_CLOSED_CONNECTION' &&
        second.at === read.end + 1
      : events.length === 2 && second?.kind === 'request' && second.url === '/sentinel';
    if (!ends) found.add('fast path and llhttp end the request at different bytes', detail);
  }
}

/**
 * Each message read in pieces, with one `progress` and a growing buffer as Connection.onData
 * reads it: the first decision that is not `partial` must be the whole-buffer one. Once in
 * pieces that double in size, and `SPLITS` times in pieces cut at random.
 */
function checkSplits(verdict: Verdict, random: Random, found: Disagreements): void {
  const c = verdict.case;
  for (const { offset, read: whole } of verdict.fast) {
    const rest = c.bytes.subarray(offset);
    const sequences: number[][] = [];
    const doubling: number[] = [];
    for (let length = 1; length < rest.length; length *= 2) doubling.push(length);
    sequences.push(doubling);
    for (let s = 0; s < SPLITS; s++) {
      const cuts = new Set<number>();
      for (let n = 1 + random.int(6); n > 0; n--) cuts.add(1 + random.int(rest.length));
      sequences.push([...cuts].sort((a, b) => a - b));
    }
    for (const lengths of sequences) {
      lengths.push(rest.length);
      const progress = { line: 0, checked: 0 };
      let read: HeadRead = { kind: 'partial' };
      for (const length of lengths) {
        read = readRequestHead(rest.subarray(0, length), progress);
        if (read.kind !== 'partial') break;
      }
      if (JSON.stringify(read) !== JSON.stringify(whole))
        found.add(
          `read in pieces: ${describeRead(read).split(' (')[0] ?? ''} (${read.kind === 'decline' ? read.reason : ''}), whole: ${describeRead(whole).split(' (')[0] ?? ''} (${whole.kind === 'decline' ? whole.reason : ''})`,
          example(
            c,
            `from byte ${String(offset)} in pieces ending at ${lengths.join(',')}: ${describeRead(read)}, whole: ${describeRead(whole)}`,
          ),
        );
    }
  }
}

/**
 * Each prefix of a message that ends with CRLF and that the fast path still waits on: llhttp,
 * given just that prefix, must not have refused it. The fast path would otherwise hold a head
 * that node:http answers with 400 at once, until the client sends more or the head times out.
 */
async function checkLineEnds(verdict: Verdict, found: Disagreements): Promise<number> {
  const c = verdict.case;
  const prefixes: Buffer[] = [];
  for (const { offset } of verdict.fast) {
    const rest = c.bytes.subarray(offset);
    for (let end = rest.indexOf('\r\n'); end >= 0; end = rest.indexOf('\r\n', end + 1)) {
      const prefix = rest.subarray(0, end + 2);
      if (readRequestHead(prefix, { line: 0, checked: 0 }).kind === 'partial') prefixes.push(prefix);
    }
  }
  for (const prefix of prefixes) {
    const refused = (await oracle.parse(prefix)).find((e) => e.kind === 'refused');
    if (refused !== undefined)
      found.add(
        `fast path waits at a line end, llhttp refused: ${refused.code}`,
        example(c, `prefix ${shown(prefix)} refused at byte ${String(refused.at)}`),
      );
  }
  return prefixes.length;
}

async function verdictOf(c: RequestCase): Promise<Verdict> {
  return { case: c, fast: fastMessages(c.bytes), llhttp: await oracle.parse(c.bytes) };
}

const cases = requestCases(SEED, CASES);
const oracle = new LlhttpOracle();
let verdicts: Verdict[] = [];

/**
 * One small stream for each disagreement the generated cases found, kept as its own test so that
 * each is seen, and stays fixed, by name.
 */
const MINIMAL: [string, string][] = [
  ['CONNECT with an origin-form target', `CONNECT /x HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`],
  [
    'an invalid Content-Length, the head not yet whole',
    `GET / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: abc\r\n`,
  ],
  [
    'a repeated Content-Length, the head not yet whole',
    `GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n`,
  ],
  [
    'Content-Length beside Transfer-Encoding, the head not yet whole',
    'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n',
  ],
  [
    'chunked before another coding, the head not yet whole',
    'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n',
  ],
  [
    'a stream over 16 KiB with a bare CR in its second line',
    `GET / HTTP/1.1\r\nX: a\rb${'f'.repeat(16 * 1024)}`,
  ],
  [
    'a websocket upgrade with a method other than GET',
    `PATCH /ws HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
  ],
  [
    'a request after an HTTP/1.0 one (node:http path)',
    `GET /a HTTP/1.0\r\nHost: ${HOST}\r\n\r\nGET /b HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
  ],
  [
    'a malformed request after a POST with a body (node:http path)',
    `POST /a HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 1\r\n\r\nxBAD / HTTP/1.1\r\n\r\n`,
  ],
];

beforeAll(async () => {
  await oracle.start();
  verdicts = await inBatches(cases, verdictOf);
}, HANG_GUARD_MS);

afterAll(async () => {
  await oracle.close();
});

describe('readRequestHead against llhttp', () => {
  it(
    'takes only requests llhttp parses alike: same end, method, target and fields',
    async () => {
      const found = new Disagreements();
      await inBatches(verdicts, (v) => checkTaken(v, found));
      expect(found.report()).toEqual({});
    },
    HANG_GUARD_MS,
  );

  it('reads a stream in pieces as it reads it whole', () => {
    const found = new Disagreements();
    const random = new Random(SEED ^ 0x5b117);
    for (const v of verdicts) checkSplits(v, random, found);
    expect(found.report()).toEqual({});
  });

  it(
    'never waits on a head that llhttp has refused by the end of a line',
    async () => {
      const found = new Disagreements();
      const counts = await inBatches(
        verdicts.filter((v) => v.case.index % PREFIX_EVERY === 0),
        (v) => checkLineEnds(v, found),
      );
      expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(CASES / PREFIX_EVERY);
      expect(found.report()).toEqual({});
    },
    HANG_GUARD_MS,
  );

  it('exercises all three outcomes: taken by the fast path, declined, refused by llhttp', () => {
    const first = (v: Verdict): HeadRead['kind'] | undefined => v.fast[0]?.read.kind;
    expect(verdicts.filter((v) => first(v) === 'request').length).toBeGreaterThan(CASES / 5);
    expect(verdicts.filter((v) => first(v) === 'decline').length).toBeGreaterThan(CASES / 5);
    expect(verdicts.filter((v) => v.llhttp[0]?.kind === 'refused').length).toBeGreaterThan(CASES / 5);
    // And the rarer shapes: two requests in one stream, heads over the limit, upgrades, CONNECT.
    expect(verdicts.filter((v) => v.fast.length > 1).length).toBeGreaterThan(CASES / 50);
    const tooLarge = (v: Verdict): boolean =>
      v.fast.some((m) => m.read.kind === 'decline' && m.read.reason === 'head');
    expect(verdicts.filter(tooLarge).length).toBeGreaterThan(CASES / 200);
    const kinds = new Set(verdicts.flatMap((v) => v.llhttp.map((e) => e.kind)));
    expect([...kinds].sort()).toEqual([
      'checkContinue',
      'checkExpectation',
      'connect',
      'refused',
      'request',
      'upgrade',
    ]);
  });
});
/** A request the gateway passed to the pod. */
interface PodRequest {
  method: string;
  url: string;
}

/** What the gateway must do with a stream: its answers' statuses, the requests the pod gets, and a close. */
interface Exchange {
  /** Per answer: its status, and the request's method (a HEAD answer has no body). */
  answers: { status: number; method: string }[];
  /** Requests the pod must get. */
  pod: PodRequest[];
  /** Requests the pod may get: their heads were whole, but llhttp refused their bodies. */
  podMaybe: PodRequest[];
  close: boolean;
}

function refusalStatus(event: Refused): number {
  return event.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
}

/**
 * The gateway's exchange for what llhttp made of a stream: each request llhttp parsed is routed
 * (a Host of its own → the pod, any other → 404, not exactly one → 400) or answered by node:http
 * (417 for an unknown expectation); a refusal gets 400 or 431 (in place of the answer to a request
 * whose body it refused), CONNECT 405, and the connection closes after them and after a request
 * that asked for it.
 */
function expectedExchange(events: readonly LlhttpEvent[]): Exchange {
  const exchange: Exchange = { answers: [], pod: [], podMaybe: [], close: false };
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (event === undefined) break;
    if (event.kind === 'refused') {
      exchange.answers.push({ status: refusalStatus(event), method: '' });
      exchange.close = true;
      return exchange;
    }
    if (event.kind === 'connect') {
      exchange.answers.push({ status: 405, method: '' });
      exchange.close = true;
      return exchange;
    }
    const hosts = fieldValues(event.rawHeaders, 'host');
    const routed =
      event.kind !== 'checkExpectation' && hosts.length === 1 && normalizeHost(hosts[0] ?? '') === HOST;
    const next = events[i + 1];
    if (!event.complete && next?.kind === 'refused') {
      if (routed) exchange.podMaybe.push({ method: event.method, url: event.url });
      // The refusal answers this request, cut off in its body: a HEAD's answer has no body.
      exchange.answers.push({ status: refusalStatus(next), method: event.method });
      exchange.close = true;
      return exchange;
    }
    let status = 200;
    if (event.kind === 'checkExpectation') status = 417;
    else if (hosts.length !== 1) status = 400;
    else if (!routed) status = 404;
    else exchange.pod.push({ method: event.method, url: event.url });
    exchange.answers.push({ status, method: event.method });
    if (!event.keepAlive) {
      exchange.close = true;
      return exchange;
    }
  }
  return exchange;
}

/** Whether `got` holds each of `must` and nothing but those and some of `maybe`, as multisets. */
function podGot(
  got: readonly PodRequest[],
  must: readonly PodRequest[],
  maybe: readonly PodRequest[],
): boolean {
  const key = (r: PodRequest): string => `${r.method} ${r.url}`;
  const left = got.map(key);
  for (const r of must) {
    const i = left.indexOf(key(r));
    if (i < 0) return false;
    left.splice(i, 1);
  }
  const optional = maybe.map(key);
  for (const k of left) {
    const i = optional.indexOf(k);
    if (i < 0) return false;
    optional.splice(i, 1);
  }
  return true;
}

/** The statuses of the whole responses at the front of `text`, 1xx apart, and where they end. */
function answersIn(text: string, methods: readonly string[]): { statuses: number[]; end: number } {
  const statuses: number[] = [];
  let pos = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) return { statuses, end: pos };
    const head = text.slice(pos, headEnd);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? '0');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? '0');
    const noBody = methods[statuses.length] === 'HEAD' || status < 200 || status === 204 || status === 304;
    const end = headEnd + 4 + (noBody ? 0 : length);
    if (end > text.length) return { statuses, end: pos };
    if (status >= 200) statuses.push(status);
    pos = end;
  }
}

/** Sends `bytes` to the gateway and reads its answers until `expected` have come or it closes. */
function exchangeWithGateway(
  port: number,
  bytes: Buffer,
  methods: readonly string[],
  count: number,
): Promise<{ socket: Socket; text: () => string; closed: () => boolean; done: Promise<void> }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    let settle: () => void = () => undefined;
    const done = new Promise<void>((r) => {
      settle = r;
    });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (answersIn(text, methods).statuses.length >= count) settle();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      settle();
    });
    socket.write(bytes);
    if (count === 0) settle();
    resolve({ socket, text: () => text, closed: () => closed, done });
  });
}

/** The whole gateway on loopback in front of a node:http pod that records what it gets. */
class GatewayUnderTest {
  gateway: LoopbackGateway | undefined;
  readonly pod: Server;
  readonly received: PodRequest[] = [];
  readonly podErrors: string[] = [];

  constructor() {
    // Room for a head near the gateway's limit plus the forwarding fields the gateway adds. The
    // answer goes at once: a body the client never finishes must not keep it back.
    this.pod = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
      this.received.push({ method: req.method ?? '', url: req.url ?? '' });
      req.resume();
      res.writeHead(200, { 'content-length': '2' }).end('ok');
    });
    // An upgrade is answered without one (and the gateway relays that, then closes); a CONNECT
    // is recorded, since none should come.
    const other = (req: IncomingMessage, socket: Socket): void => {
      this.received.push({ method: req.method ?? '', url: req.url ?? '' });
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
    };
    this.pod.on('upgrade', other);
    this.pod.on('connect', other);
    this.pod.on('clientError', (error: ParseError, socket: Socket) => {
      this.podErrors.push(error.code ?? error.message);
      socket.destroy();
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.pod.listen(0, '127.0.0.1', resolve));
    this.gateway = await loopbackGateway({
      pods: [`127.0.0.1:${String((this.pod.address() as AddressInfo).port)}`],
      // A head the gateway would hold for ever gets its 408 soon, and shows as a wrong answer.
      headersTimeoutMs: 1000,
    });
  }

  get port(): number {
    return this.gateway?.port ?? 0;
  }

  async close(): Promise<void> {
    await this.gateway?.close();
    this.pod.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.pod.close(() => {
        resolve();
      }),
    );
  }

  /** A request through the gateway on a connection of its own; after its answer, the pod has seen all before it. */
  async barrier(): Promise<void> {
    const { done } = await exchangeWithGateway(
      this.port,
      Buffer.from(`GET /barrier HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`),
      ['GET'],
      1,
    );
    await done;
  }

  /**
   * The stream through the gateway: its answers are those node:http gives what llhttp parsed,
   * nothing more, the connection closes where node:http's would, and the pod gets exactly the
   * requests llhttp parsed. Returns false when the stream was not sent: the fast path would hold
   * a head llhttp refused (the line-end check's finding) until the head timed out.
   */
  async check(verdict: Verdict, found: Disagreements): Promise<boolean> {
    const { case: c, fast, llhttp } = verdict;
    const expected = expectedExchange(llhttp);
    if (fast.at(-1)?.read.kind === 'partial' && llhttp.some((e) => e.kind === 'refused')) {
      found.add('the gateway would hold a head llhttp refused (the fast path waits on it)', example(c, ''));
      return false;
    }
    await this.barrier();
    this.received.length = 0;
    const methods = expected.answers.map((a) => a.method);
    const client = await exchangeWithGateway(this.port, c.bytes, methods, expected.answers.length);
    await client.done;
    await this.barrier();
    const text = client.text();
    const { statuses, end } = answersIn(text, methods);
    const got = this.received.filter((r) => r.url !== '/barrier');
    const detail = example(
      c,
      `llhttp: ${llhttp.map(describeEvent).join(', ') || 'nothing'}; fast: ${fast.map((m) => describeRead(m.read)).join(', ')}`,
    );
    const wanted = expected.answers.map((a) => a.status);
    if (statuses.join() !== wanted.join())
      found.add(
        'the gateway answers otherwise than node:http would',
        `${detail}; answers ${statuses.join() || 'none'}, expected ${wanted.join() || 'none'}`,
      );
    else if (end !== text.length)
      found.add('the gateway writes more than its answers', `${detail}; extra ${shown(text.slice(end))}`);
    else if (expected.close !== client.closed())
      found.add(
        `the gateway ${client.closed() ? 'closes' : 'keeps'} the connection, node:http would not`,
        detail,
      );
    if (!podGot(got, expected.pod, expected.podMaybe))
      found.add(
        'the pod gets other requests than llhttp parsed',
        `${detail}; pod got ${JSON.stringify(got)}, expected ${JSON.stringify(expected.pod)} and maybe ${JSON.stringify(expected.podMaybe)}`,
      );
    // A request whose body llhttp refused reaches the pod cut off, if at all.
    for (const code of this.podErrors.splice(0))
      if (code !== 'HPE_INVALID_EOF_STATE' || expected.podMaybe.length === 0)
        found.add(`the pod could not read what the gateway sent: ${code}`, detail);
    client.socket.destroy();
    return true;
  }
}

describe('the gateway against llhttp, end to end', () => {
  const gateway = new GatewayUnderTest();

  beforeAll(async () => {
    await gateway.start();
  });

  afterAll(async () => {
    await gateway.close();
  });

  it(
    'answers as node:http would and passes the pod exactly the requests llhttp parsed',
    async () => {
      const found = new Disagreements();
      let sent = 0;
      for (const v of verdicts)
        if (v.case.index % GATEWAY_EVERY === 0 && (await gateway.check(v, found))) sent++;
      expect(sent).toBeGreaterThan(CASES / GATEWAY_EVERY / 2);
      expect(found.report()).toEqual({});
    },
    HANG_GUARD_MS,
  );

  it.each(MINIMAL)(
    'agrees with llhttp on %s',
    async (_name, text) => {
      const found = new Disagreements();
      const verdict = await verdictOf({ index: -1, bytes: Buffer.from(text, 'latin1') });
      await checkTaken(verdict, found);
      checkSplits(verdict, new Random(SEED), found);
      await checkLineEnds(verdict, found);
      await gateway.check(verdict, found);
      expect(found.report()).toEqual({});
    },
    HANG_GUARD_MS,
  );
});
