// The app the gateway benchmarks without a cluster proxy to: a node:http server in a child process
// that answers every request with a short body, as dev.local/helloworld does.
import { spawn } from 'node:child_process';

export async function startHelloApp(): Promise<{ port: number; stop: () => void }> {
  const script = `
    const server = require('node:http').createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('Hello World!\\n');
    });
    server.keepAliveTimeout = 75000;
    server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => {
      resolve(Number(chunk.toString().trim()));
    });
    child.once('exit', (code) => {
      reject(new Error(`the app exited with code ${String(code)} before listening`));
    });
  });
  return {
    port,
    stop: () => {
      child.kill();
    },
  };
}
