// Strict HTTP/1.1 message heads for the gateway's fast path (fast-path.ts): parsing a client's
// request head and a pod's response head, and writing the heads sent on. The parser accepts only
// the plain shape of RFC 9112 (CRLF line ends, token names, no obs-fold, no whitespace before the
// colon); anything else is left to node:http by the caller, so that odd input meets one parser,
// llhttp, and never two that might disagree about where a message ends. Pure: no I/O.
import { METHODS } from 'node:http';
import {
  clientAddress,
  forwardedAfter,
  forwardedForAfter,
  INTERNAL_HEADERS,
  isInternalHeader,
} from './forward-headers.ts';
import { connectionTokens, HOP_BY_HOP, responseFraming, type Framing } from './hop-by-hop.ts';

export type { Framing } from './hop-by-hop.ts';

/** A request the fast path can serve on its own: HTTP/1.1, no body, no upgrade, one Host. */
export interface FastRequest {
  method: string;
  target: string;
  host: string;
  /** Knative-Serving-Tag, when sent once. */
  tag: string | undefined;
  /** The client asked to close the connection after this exchange. */
  close: boolean;
  /**
   * The head for the pod up to the fields the gateway writes itself: the request line and the
   * client's fields in their order, names as sent, without hop-by-hop, internal and forwarding
   * ones; CRLF after each line.
   */
  kept: string;
  /** The client's X-Forwarded-For values, joined, to be appended to. */
  forwardedFor: string | undefined;
  /** The client's Forwarded values, joined, to be appended to. */
  forwarded: string | undefined;
}

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

// Where scanFields found each field: five offsets per field, into the head it scanned. Parsing is
// synchronous, so one set of these serves every head; they grow for a head with many fields.
const NAME_START = 0;
const COLON = 1;
const VALUE_START = 2;
const VALUE_END = 3;
const LINE_END = 4;
const PER_FIELD = 5;
let offsets = new Int32Array(PER_FIELD * 64);
/** Per field: DROP or KEEP. */
let verdicts = new Uint8Array(64);
const DROP = 0;
const KEEP = 1;

function room(count: number): void {
  if (count < verdicts.length) return;
  const grown = new Int32Array(offsets.length * 2);
  grown.set(offsets);
  offsets = grown;
  const more = new Uint8Array(verdicts.length * 2);
  more.set(verdicts);
  verdicts = more;
}

/**
 * The field lines of `head` from `from` (just after the first line's CRLF) to its end, in one pass
 * over the characters: `name:` with no space before the colon, optional whitespace around the
 * value, lines ended by CRLF and nothing else. Fills `offsets` and returns the number of fields,
 * or -1 for anything else, obs-fold included. A split and a regular expression per line, and an
 * object per field, cost a tenth of the fast path's CPU.
 */
function scanFields(head: string, from: number): number {
  const n = head.length;
  let count = 0;
  let pos = from;
  for (;;) {
    const start = pos;
    while (pos < n && NAME_BYTE[head.charCodeAt(pos)] === 1) pos++;
    if (pos === start || head.charCodeAt(pos) !== 0x3a) return -1;
    const colon = pos++;
    let c = head.charCodeAt(pos);
    while (c === 0x20 || c === 0x09) c = head.charCodeAt(++pos);
    const valueStart = pos;
    let valueEnd = pos;
    for (; pos < n; pos++) {
      c = head.charCodeAt(pos);
      if (c === 0x0d) break;
      if (VALUE_BYTE[c] !== 1) return -1;
      if (c !== 0x20 && c !== 0x09) valueEnd = pos + 1;
    }
    room(count);
    const o = PER_FIELD * count++;
    offsets[o + NAME_START] = start;
    offsets[o + COLON] = colon;
    offsets[o + VALUE_START] = valueStart;
    offsets[o + VALUE_END] = valueEnd;
    offsets[o + LINE_END] = pos;
    if (pos === n) return count;
    // A CR ends a line only with its LF, and another field must follow: the head has no blank line.
    if (head.charCodeAt(pos + 1) !== 0x0a || pos + 2 >= n) return -1;
    pos += 2;
  }
}

function lowerName(head: string, field: number): string {
  const o = PER_FIELD * field;
  return head.slice(offsets[o + NAME_START], offsets[o + COLON]).toLowerCase();
}

/** 1 at the lengths of the field names a head's parser acts on; names of other lengths pass as they are. */
function nameLengths(names: Iterable<string>): Uint8Array {
  const lengths = new Uint8Array(32);
  for (const name of names) lengths[name.length] = 1;
  return lengths;
}

/**
 * The field's name, lowercase, when one of `lengths`, or when it might start with `x-ebb-`;
 * '' when the parser has nothing to do with it. Most names (Accept, Date, Content-Type) are
 * passed over without a string being made of them.
 */
function nameIfWanted(head: string, field: number, lengths: Uint8Array, internal: boolean): string {
  const o = PER_FIELD * field;
  const start = offsets[o + NAME_START] ?? 0;
  const length = (offsets[o + COLON] ?? 0) - start;
  if (length < 32 && lengths[length] === 1) return lowerName(head, field);
  if (internal && length >= 6 && (head.charCodeAt(start) | 0x20) === 0x78) return lowerName(head, field);
  return '';
}

function valueOf(head: string, field: number): string {
  const o = PER_FIELD * field;
  return head.slice(offsets[o + VALUE_START], offsets[o + VALUE_END]);
}

/**
 * `head`'s lines from `runStart` to `runEnd` (the first line's, or -1 for none), then the fields
 * whose verdict is not DROP, each ended by CRLF. A line already
 * in the form `Name: value` goes on as it came, as part of one slice with its kept neighbours;
 * another has its whitespace made so.
 */
function keptLines(head: string, count: number, runStart: number, runEnd: number): string {
  let out = '';
  let run = runStart;
  let end = runEnd;
  for (let i = 0; i < count; i++) {
    const verdict = verdicts[i];
    if (verdict === DROP) {
      if (run >= 0) out += `${head.slice(run, end)}\r\n`;
      run = -1;
      continue;
    }
    const o = PER_FIELD * i;
    const colon = offsets[o + COLON] ?? 0;
    const valueStart = offsets[o + VALUE_START] ?? 0;
    const valueEnd = offsets[o + VALUE_END] ?? 0;
    if (
      valueStart === colon + 2 &&
      head.charCodeAt(colon + 1) === 0x20 &&
      valueEnd === offsets[o + LINE_END]
    ) {
      if (run < 0) run = offsets[o + NAME_START] ?? 0;
      end = valueEnd;
      continue;
    }
    if (run >= 0) out += `${head.slice(run, end)}\r\n`;
    run = -1;
    out += `${head.slice(offsets[o + NAME_START], colon)}: ${head.slice(valueStart, valueEnd)}\r\n`;
  }
  if (run >= 0) out += `${head.slice(run, end)}\r\n`;
  return out;
}

/** `value` joined to what came before, as repeated fields are (RFC 9110 §5.3). */
function joinValue(joined: string | undefined, value: string): string {
  return joined === undefined ? value : `${joined}, ${value}`;
}

function nonBlank(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** The methods llhttp parses in a request (node:http's METHODS), as they must be written: uppercase. */
const KNOWN_METHODS: ReadonlySet<string> = new Set(METHODS.filter((m) => m !== 'CONNECT'));

/**
 * The end of the method in a request line `METHOD /target HTTP/1.1`, or -1 for any other shape. The
 * method must be one llhttp knows: it refuses any other, so the fast path must not serve it. Nor
 * CONNECT, which llhttp reads as a tunnel whatever its target.
 */
function requestLine(first: string): number {
  const n = first.length;
  let i = 0;
  while (i < n && NAME_BYTE[first.charCodeAt(i)] === 1) i++;
  const methodEnd = i;
  if (methodEnd === 0 || first.charCodeAt(i) !== 0x20 || first.charCodeAt(i + 1) !== 0x2f) return -1;
  if (!KNOWN_METHODS.has(first.slice(0, methodEnd))) return -1;
  i += 2;
  for (; i < n; i++) {
    const c = first.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) break;
  }
  return i === n - 9 && first.startsWith(' HTTP/1.1', i) ? methodEnd : -1;
}

/** Every name parseFastRequest looks at (those starting with `x-ebb-` apart). */
const REQUEST_NAMES = nameLengths([
  ...HOP_BY_HOP,
  ...REWRITTEN,
  ...INTERNAL_HEADERS,
  'host',
  'content-length',
  'transfer-encoding',
  'upgrade',
  'expect',
  'close',
]);
/** Every name parseResponseHead looks at. */
const RESPONSE_NAMES = nameLengths([...HOP_BY_HOP, 'content-length', 'transfer-encoding']);

/**
 * The request in `head` (the bytes before the blank line, as latin1) when the fast path may serve
 * it; undefined for anything else, which node:http then parses, answers or tunnels as before: a
 * body, an upgrade, Expect, HTTP/1.0, a missing or repeated Host, a Connection header naming other
 * headers, and any syntax outside the plain form.
 */
export function parseFastRequest(head: string): FastRequest | undefined {
  const eol = head.indexOf('\r\n');
  const first = eol < 0 ? head : head.slice(0, eol);
  const methodEnd = requestLine(first);
  if (methodEnd < 0) return undefined;
  const count = eol < 0 ? 0 : scanFields(head, eol + 2);
  if (count < 0) return undefined;
  let host: string | undefined;
  let hosts = 0;
  let tag: string | undefined;
  let tags = 0;
  let close = false;
  let closeFields = false;
  let lengths = 0;
  let forwardedFor: string | undefined;
  let forwarded: string | undefined;
  for (let i = 0; i < count; i++) {
    const lower = nameIfWanted(head, i, REQUEST_NAMES, true);
    verdicts[i] = KEEP;
    switch (lower) {
      case '':
        break;
      case 'host':
        host = valueOf(head, i);
        hosts++;
        break;
      case 'content-length':
        // llhttp refuses a repeated Content-Length; so does this path, by leaving it to llhttp.
        if (valueOf(head, i) !== '0' || ++lengths > 1) return undefined;
        break;
      case 'transfer-encoding':
      case 'upgrade':
      case 'expect':
        return undefined;
      case 'connection': {
        const tokens = connectionTokens(valueOf(head, i));
        for (let k = 0; k < tokens.length; k++) {
          const t = tokens[k];
          if (t === 'close') close = true;
          else if (t !== 'keep-alive') return undefined;
        }
        verdicts[i] = DROP;
        break;
      }
      case 'knative-serving-tag':
        tag = valueOf(head, i);
        tags++;
        verdicts[i] = DROP;
        break;
      case 'x-forwarded-for':
        forwardedFor = joinValue(forwardedFor, valueOf(head, i));
        verdicts[i] = DROP;
        break;
      case 'forwarded':
        forwarded = joinValue(forwarded, valueOf(head, i));
        verdicts[i] = DROP;
        break;
      case 'close':
        closeFields = true;
        break;
      default:
        if (HOP_BY_HOP.has(lower) || REWRITTEN.has(lower) || isInternalHeader(lower)) verdicts[i] = DROP;
    }
  }
  if (hosts !== 1 || host === undefined || host === '' || tags > 1) return undefined;
  // A field named `close` is hop-by-hop when Connection lists it, which only a later field may show.
  if (close && closeFields)
    for (let i = 0; i < count; i++) if (lowerName(head, i) === 'close') verdicts[i] = DROP;
  return {
    method: first.slice(0, methodEnd),
    target: first.slice(methodEnd + 1, first.length - 9),
    host,
    tag,
    close,
    kept: keptLines(head, count, 0, first.length),
    forwardedFor: nonBlank(forwardedFor),
    forwarded: nonBlank(forwarded),
  };
}

/** node:http's default maxHeaderSize: a longer head is left to llhttp, which refuses it with 431. */
export const MAX_HEAD = 16 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');
const CR = 0x0d;
const LF = 0x0a;

/**
 * How far readRequestHead has checked a head still arriving, so that each byte is looked at once
 * however the head is split: `line` is where the line being read starts, `checked` the first byte
 * not yet looked at. Both start at 0 for a new head.
 */
export interface HeadProgress {
  line: number;
  checked: number;
  /** Content-Length lines seen in the head so far (a second one is refused by llhttp). */
  lengths?: number;
  /** Set by takeRequestHead with a request: where its head ends (just past its blank line). */
  end?: number;
}

/** Why takeRequestHead gave no request: the head is still partial, or declined (too large, or not plain). */
export type HeadStop = 'partial' | 'head' | 'request';

/** What the fast path makes of the bytes a client has sent so far; it acts on none before `request`. */
export type HeadRead =
  /** No whole head yet, and nothing in it that a plain head cannot have. */
  | { kind: 'partial' }
  /**
   * Not for the fast path: node:http reads these bytes, and llhttp serves or refuses them.
   * `head`: a head over MAX_HEAD; `request`: anything else.
   */
  | { kind: 'decline'; reason: 'head' | 'request' }
  /** A plain request, whose head ends at `end` (just past its blank line). */
  | { kind: 'request'; request: FastRequest; end: number };

const PARTIAL: HeadRead = { kind: 'partial' };
const DECLINE: HeadRead = { kind: 'decline', reason: 'request' };
const TOO_LARGE: HeadRead = { kind: 'decline', reason: 'head' };

/**
 * Reads the request at the start of `pending`. A head that cannot be plain is declined as soon as
 * a byte shows it, not when its blank line comes: a bare LF or CR, a control character, an unknown
 * method, or a whole line outside the plain form. llhttp refuses such a head at once, and the fast
 * path must not hold it meanwhile. `progress` is updated while the head is partial.
 */
export function readRequestHead(pending: Buffer, progress: HeadProgress): HeadRead {
  const taken = takeRequestHead(pending, progress);
  if (typeof taken !== 'string') return { kind: 'request', request: taken, end: progress.end ?? 0 };
  return taken === 'partial' ? PARTIAL : taken === 'head' ? TOO_LARGE : DECLINE;
}

/**
 * readRequestHead for the fast path's hot loop, without a result object: the request (its head
 * ending at `progress.end`), or why there is none (a decline's reason, as HeadRead gives it).
 */
export function takeRequestHead(pending: Buffer, progress: HeadProgress): FastRequest | HeadStop {
  const end = pending.indexOf(CRLF2, Math.max(0, progress.line - 2));
  if (end >= 0 && end + 4 <= MAX_HEAD) {
    const request = parseFastRequest(pending.toString('latin1', 0, end));
    if (request === undefined) return 'request';
    progress.end = end + 4;
    return request;
  }
  // Whatever way the bytes came, in one read or many, the first MAX_HEAD of them decide.
  const n = Math.min(pending.length, MAX_HEAD);
  for (let i = progress.checked; i < n; i++) {
    const c = pending[i] ?? 0;
    if (c === LF) {
      if (i === 0 || pending[i - 1] !== CR) return 'request';
      if (!plainLine(pending.toString('latin1', progress.line, i - 1), progress)) return 'request';
      progress.line = i + 1;
    } else if (c === CR) {
      if (i + 1 < pending.length && pending[i + 1] !== LF) return 'request';
    } else if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      return 'request';
    } else if (c === 0x20 && progress.line === 0 && !knownMethodBefore(pending, i)) {
      return 'request';
    }
  }
  progress.checked = n;
  return pending.length > MAX_HEAD || end >= 0 ? 'head' : 'partial';
}

/**
 * A whole line of a head still arriving: the request line, or a field line the fast path could
 * serve. A Transfer-Encoding, a Content-Length other than 0, or a second one, is declined at once:
 * the fast path serves no body, and llhttp refuses some of them at the line's end.
 */
function plainLine(line: string, progress: HeadProgress): boolean {
  if (progress.line === 0) return requestLine(line) >= 0;
  if (scanFields(line, 0) !== 1) return false;
  const name = nameIfWanted(line, 0, FRAMING_NAMES, false);
  if (name === 'transfer-encoding') return false;
  if (name === 'content-length') {
    progress.lengths = (progress.lengths ?? 0) + 1;
    return progress.lengths === 1 && valueOf(line, 0) === '0';
  }
  return true;
}

const FRAMING_NAMES = nameLengths(['content-length', 'transfer-encoding']);

/** At the first space of a request line: whether the bytes before it are a method llhttp knows. */
function knownMethodBefore(pending: Buffer, space: number): boolean {
  if (pending.indexOf(0x20) !== space) return true;
  return KNOWN_METHODS.has(pending.toString('latin1', 0, space));
}

/**
 * The head sent to the pod: the client's fields in their order without hop-by-hop and internal
 * ones, then X-Forwarded-For, -Proto, -Host and Forwarded as forwardHeaders() writes them for the
 * node:http path (the two paths give the pod the same headers).
 */
export function upstreamRequestHead(request: FastRequest, clientIP: string | undefined, extra = ''): string {
  let head = request.kept + extra;
  const ip = clientAddress(clientIP);
  const xff = forwardedForAfter(request.forwardedFor, ip);
  if (xff !== undefined) head += `x-forwarded-for: ${xff}\r\n`;
  head += `x-forwarded-proto: http\r\nx-forwarded-host: ${request.host}\r\n`;
  head += `forwarded: ${forwardedAfter(request.forwarded, ip, request.host, 'http')}\r\n\r\n`;
  return head;
}

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
  const eol = head.indexOf('\r\n');
  const first = eol < 0 ? head : head.slice(0, eol);
  if (!statusLine(first)) return `a malformed status line ${JSON.stringify(first.slice(0, 80))}`;
  const count = eol < 0 ? 0 : scanFields(head, eol + 2);
  if (count < 0) return 'a malformed header field, or a bare CR or LF, in the response head';
  const status = Number(first.slice(9, 12));
  const http10 = first.charCodeAt(7) === 0x30;
  /** Names the Connection header lists besides the hop-by-hop ones, which go anyway. */
  let listed: Set<string> | undefined;
  let closeListed = false;
  let length: string | undefined;
  let lengthFields = 0;
  let encoding: string | undefined;
  for (let i = 0; i < count; i++) {
    const lower = nameIfWanted(head, i, RESPONSE_NAMES, false);
    verdicts[i] = KEEP;
    switch (lower) {
      case '':
        break;
      case 'connection': {
        const tokens = connectionTokens(valueOf(head, i));
        for (let k = 0; k < tokens.length; k++) {
          const t = tokens[k] ?? '';
          if (t === 'close') closeListed = true;
          if (!HOP_BY_HOP.has(t)) (listed ??= new Set()).add(t);
        }
        verdicts[i] = DROP;
        break;
      }
      case 'content-length':
        length = valueOf(head, i);
        lengthFields++;
        break;
      case 'transfer-encoding':
        encoding = joinValue(encoding, valueOf(head, i));
        break;
      default:
        if (HOP_BY_HOP.has(lower)) verdicts[i] = DROP;
    }
  }
  const framing = responseFraming(method, status, length, lengthFields, encoding);
  if (typeof framing === 'string') return framing;
  // Fields the Connection header names are this hop's only (it can name any, on any line).
  if (listed !== undefined)
    for (let i = 0; i < count; i++)
      if (verdicts[i] !== DROP && listed.has(lowerName(head, i))) verdicts[i] = DROP;
  const interim = status < 200;
  const close = !interim && (closeClient || framing.kind === 'close');
  // The status line goes on as it came when it is already `HTTP/1.1 NNN reason`.
  const asItCame = !http10 && first.length > 12;
  let downstream = asItCame
    ? keptLines(head, count, 0, first.length)
    : `HTTP/1.1 ${String(status)} ${first.slice(13)}\r\n${keptLines(head, count, -1, -1)}`;
  if (close) downstream += 'connection: close\r\n';
  downstream += '\r\n';
  return {
    status,
    downstream,
    framing,
    reusable: !http10 && !closeListed && framing.kind !== 'close',
    close,
    interim,
  };
}

/** `HTTP/1.x NNN reason` (the reason may be empty, and so may the space before it when it is). */
function statusLine(first: string): boolean {
  const n = first.length;
  if (n < 12 || !first.startsWith('HTTP/1.')) return false;
  const minor = first.charCodeAt(7);
  if ((minor !== 0x30 && minor !== 0x31) || first.charCodeAt(8) !== 0x20) return false;
  const a = first.charCodeAt(9);
  if (a < 0x31 || a > 0x39 || !isDigit(first.charCodeAt(10)) || !isDigit(first.charCodeAt(11))) return false;
  if (n === 12) return true;
  if (first.charCodeAt(12) !== 0x20) return false;
  for (let i = 13; i < n; i++) if (VALUE_BYTE[first.charCodeAt(i)] !== 1) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
