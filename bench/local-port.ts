// Ports on 127.0.0.1 for processes the benchmarks start themselves (nginx, the app timed outside
// the cluster): finding a free one, and telling when a process accepts connections on it.
import { connect, createServer } from 'node:net';
import { Failure } from './serving-fixture.ts';

/** A TCP port free on 127.0.0.1 when asked (the caller binds it right after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null)
    throw new Failure('cannot find a free port on 127.0.0.1');
  return address.port;
}

/** Whether something accepts a TCP connection on `host`:`port` (default 127.0.0.1) now. */
export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}
