// The answers the gateway gives itself instead of a pod's: one plain-text line saying why, marked
// `x-ebb-gateway: refused`, with the status RFC 9110 gives for the case. Written as bytes on a
// socket (the fast path, upgrades, heads node:http refused) or through a ServerResponse; both
// come from gatewayAnswer's fields, so they cannot drift apart.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The reason as one line of printable ASCII: it may quote a pod's bytes, and the answer's length
 * must count what is written (as latin1 on a socket).
 */
function printable(message: string): string {
  return message.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function answerFields(message: string): { body: string; fields: Record<string, string> } {
  const body = `${printable(message)}\n`;
  return {
    body,
    fields: {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'x-ebb-gateway': 'refused',
    },
  };
}

/** The whole answer, head and body (none to a HEAD request), as ASCII for a socket. */
export function gatewayAnswer(code: number, message: string, close: boolean, toHead = false): string {
  const { body, fields } = answerFields(message);
  let head = `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\n`;
  for (const [name, value] of Object.entries(fields)) head += `${name}: ${value}\r\n`;
  if (close) head += 'connection: close\r\n';
  return `${head}\r\n${toHead ? '' : body}`;
}

/** The answer through node:http's response, unless that response has begun already. */
export function answerResponse(res: ServerResponse, code: number, message: string, close: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const { body, fields } = answerFields(message);
  if (close) fields.connection = 'close';
  // The reason is given: a pod's reason that node:http refused may still be set on `res`.
  res.writeHead(code, STATUS_CODES[code] ?? '', fields).end(body);
}

/** The answer straight on a socket that node:http no longer frames (an upgrade, a refused head), then the end. */
export function answerSocket(socket: Socket, code: number, message: string): void {
  if (!socket.destroyed && socket.writable) socket.end(gatewayAnswer(code, message, true));
  else socket.destroy();
}

/**
 * The answer to a request head llhttp refused (node:http's 'clientError'), by its error code:
 * 431 for a head over the size limit (RFC 6585 §5), 408 for one that did not arrive in time,
 * 400 for any other malformed head (RFC 9112 §2.2).
 */
export function clientErrorAnswer(code: string | undefined): { status: number; message: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: 'the request head is larger than the gateway accepts (16 KiB)' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: 'the request head did not arrive in time' };
    default:
      return { status: 400, message: `malformed request (${code ?? 'unreadable'})` };
  }
}
