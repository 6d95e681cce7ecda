// Which header fields stay on their own connection (RFC 9110 §7.6.1) and how a response's body is
// framed (RFC 9112 §6): the one statement of these rules, for the fast path (http1-head.ts), the
// node:http path (forwarder.ts) and websocket upgrades alike. Pure: no I/O.

/** Hop-by-hop fields; Transfer-Encoding is handled apart (it frames the body being relayed). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
]);

/**
 * Fields that a Connection header may name but that the gateway never drops for it: the body's
 * framing (a message relayed with its own framing must keep it, or the next message on the
 * connection is read as part of this one) and Host (the pod must see the route's host).
 */
const NEVER_LISTED: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'host']);

// Shared, never written to (readonly); not frozen, which would take them off V8's fast array paths.
const KEEP_ALIVE: readonly string[] = ['keep-alive'];
const CLOSE: readonly string[] = ['close'];
const NO_TOKENS: readonly string[] = [];

/** `value` is `lower` (lowercase) in any case of its letters, without a string made. */
function sameToken(value: string, lower: string): boolean {
  if (value.length !== lower.length) return false;
  for (let i = 0; i < value.length; i++) {
    let c = value.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * A Connection value's tokens, lowercase, without empty ones and without the fields that are
 * never dropped for being named (framing, Host). Nearly always a single `keep-alive` or `close`,
 * which takes no split and allocates nothing.
 */
export function connectionTokens(value: string): readonly string[] {
  if (!value.includes(',')) {
    const trimmed = value.trim();
    if (sameToken(trimmed, 'keep-alive')) return KEEP_ALIVE;
    if (sameToken(trimmed, 'close')) return CLOSE;
    const token = trimmed.toLowerCase();
    return token === '' || NEVER_LISTED.has(token) ? NO_TOKENS : [token];
  }
  const tokens: string[] = [];
  for (const part of value.split(',')) {
    const token = part.trim().toLowerCase();
    if (token !== '' && !NEVER_LISTED.has(token)) tokens.push(token);
  }
  return tokens;
}

/**
 * The field names a Connection header lists that are dropped with it, lowercase: every listed
 * name but the framing fields and Host. `close`, `keep-alive` and `upgrade` are among them as
 * tokens; a field of that name is this hop's too.
 */
export function listedFields(value: string | readonly string[] | undefined): Set<string> {
  if (value === undefined) return new Set();
  return new Set(connectionTokens(typeof value === 'string' ? value : value.join(',')));
}

/** True for a field a proxy never passes on: hop-by-hop, or named by the Connection header. */
export function isHopField(name: string, listed: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || listed.has(name);
}

/** How a response's body ends (RFC 9112 §6.3). */
export type Framing =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  /** Until the pod closes the connection: the client's connection closes after it too. */
  | { kind: 'close' };

/** The transfer codings of a Transfer-Encoding value, lowercase, in the order applied. */
export function transferCodings(value: string | readonly string[]): string[] {
  const codings: string[] = [];
  for (const part of (typeof value === 'string' ? value : value.join(',')).split(',')) {
    const coding = part.split(';')[0]?.trim().toLowerCase() ?? '';
    if (coding !== '') codings.push(coding);
  }
  return codings;
}

/**
 * A response's framing from its request method, status and framing fields, or a string naming
 * why it cannot be relayed. As llhttp decides it, so that both paths frame alike: a repeated or
 * malformed Content-Length, or Content-Length beside Transfer-Encoding, is refused (RFC 9112
 * §6.3 points 3 and 5); Transfer-Encoding whose last coding is chunked is chunked, any other runs
 * to the close (point 4).
 */
export function responseFraming(
  method: string,
  status: number,
  length: string | undefined,
  lengthFields: number,
  transferEncoding: string | undefined,
): Framing | string {
  if (lengthFields > 1) return 'a repeated Content-Length';
  if (length !== undefined && !isLength(length)) return `an invalid Content-Length ${JSON.stringify(length)}`;
  if (transferEncoding !== undefined && length !== undefined)
    return 'Content-Length beside Transfer-Encoding';
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return NO_BODY;
  if (transferEncoding !== undefined) {
    return transferCodings(transferEncoding).at(-1) === 'chunked' ? CHUNKED : TO_CLOSE;
  }
  if (length !== undefined) return { kind: 'length', length: Number(length) };
  return TO_CLOSE;
}

const NO_BODY: Framing = { kind: 'none' };
const CHUNKED: Framing = { kind: 'chunked' };
const TO_CLOSE: Framing = { kind: 'close' };

/** One to fifteen decimal digits, nothing else. */
function isLength(value: string): boolean {
  const n = value.length;
  if (n === 0 || n > 15) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
