// Byte-level peers for the gateway's tests: a pod that reads requests itself and answers with
// whatever bytes a test gives (answers node:http would never write), and a client that writes
// bytes and collects what comes back. Loopback only.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** A request as the raw pod read it: the request line's method and target, its head, its body. */
export interface PodRequest {
  method: string;
  target: string;
  head: string;
  body: string;
  /** Which of the pod's connections it came on (0, 1, ...). */
  connection: number;
}

export interface RawPod {
  /** `127.0.0.1:port`. */
  address: string;
  requests: PodRequest[];
  close: () => Promise<void>;
}

/**
 * A pod on loopback that calls `answer` for each request it reads (head, then a Content-Length
 * body; nothing else is framed). `answer` writes what it likes to the socket, or nothing.
 */
export async function rawPod(answer: (request: PodRequest, socket: Socket) => void): Promise<RawPod> {
  const requests: PodRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const connection = connections++;
    let pending = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? '0');
        if (pending.length < end + 4 + length) return;
        const body = pending.slice(end + 4, end + 4 + length);
        pending = pending.slice(end + 4 + length);
        const [method = '', target = ''] = head.split('\r\n', 1)[0]?.split(' ') ?? [];
        const request = { method, target, head, body, connection };
        requests.push(request);
        answer(request, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A complete response with a Content-Length body. */
export function okResponse(body: string, fields = ''): string {
  return `HTTP/1.1 200 OK\r\n${fields}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

export interface RawAnswer {
  text: string;
  /** The gateway closed the connection. */
  closed: boolean;
}

/**
 * Writes `parts` on a new connection to `port`, each after the one before it was written and
 * `gapMs` passed, and collects what comes back until the gateway closes or `until` holds.
 */
export function rawClient(
  port: number,
  parts: string | string[],
  until: (text: string) => boolean = () => false,
  gapMs = 0,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      socket.destroy();
      resolve({ text, closed });
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (until(text)) finish(false);
    });
    socket.on('close', () => {
      finish(true);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish(true);
      else reject(error);
    });
    const list = typeof parts === 'string' ? [parts] : parts;
    list.forEach((part, i) => {
      timers.push(
        setTimeout(() => {
          if (!socket.destroyed) socket.write(part, 'latin1');
        }, i * gapMs),
      );
    });
  });
}

/** The status codes of the responses in `text`, in order (a status line at the start of a response). */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}
