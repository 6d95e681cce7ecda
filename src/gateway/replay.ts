// When the gateway may send a request to a pod again after the first try failed, on either path.
// RFC 9110 §9.2.2: an intermediary must not automatically retry a request whose method is not
// idempotent. A request that never reached a pod (the connection was refused or never opened) is
// not a retry in that sense: it goes to another pod whatever its method. One that was written to
// a pod is sent again only when its method is idempotent and the pod most likely never read it: it
// went out on a kept-alive connection that the pod had closed (no byte of an answer came back).
// Every attempt counts, on the fast path and on node:http alike, up to MAX_ATTEMPTS in all.

/** How far a failed attempt got. */
export type Delivery =
  /** The connection to the pod never opened: nothing was sent. */
  | 'unsent'
  /** Written on a reused keep-alive connection that then failed with no answer: most likely closed idle. */
  | 'stale'
  /** Written on a fresh connection, or answered in part: the pod may have acted on it. */
  | 'sent';

/** RFC 9110 §9.2.2. */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Attempts of one request in all, the first one included. */
export const MAX_ATTEMPTS = 3;

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** Whether a request that failed as `delivery` after `attempts` attempts may be sent to a pod again. */
export function mayResend(method: string, delivery: Delivery, attempts: number): boolean {
  if (attempts >= MAX_ATTEMPTS) return false;
  switch (delivery) {
    case 'unsent':
      return true;
    case 'stale':
      return isIdempotent(method);
    case 'sent':
      return false;
  }
}

/** Connection errors that mean the connection never opened. */
const NEVER_OPENED: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
]);

/**
 * How far an attempt got, from whether its connection had opened (`connected`), whether it was a
 * reused keep-alive one, and whether any byte of an answer came back.
 */
export function deliveryOf(connected: boolean, reused: boolean, answered: boolean, code: string): Delivery {
  if (!connected && NEVER_OPENED.has(code)) return 'unsent';
  if (reused && !answered) return 'stale';
  return 'sent';
}

/** Errors that say the pod itself is gone, not just one connection to it: it is set aside. */
export function podGone(code: string): boolean {
  return code === 'ECONNREFUSED' || code === 'EHOSTUNREACH';
}
