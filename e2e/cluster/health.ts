// Health probes for the cluster's components over HTTP(S), with the cluster CA and, where the
// endpoint needs it, the admin client certificate.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Probe {
  url: string;
  /** PKI directory: verify with ca.crt and present admin.crt. */
  pkiDir?: string;
  /** For components that serve a self-signed certificate (controller-manager, scheduler). */
  selfSigned?: boolean;
}

export function probe(
  { url, pkiDir, selfSigned }: Probe,
  timeoutMs = 2000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const tls =
      pkiDir === undefined
        ? {}
        : {
            ca: readFileSync(join(pkiDir, 'ca.crt')),
            cert: readFileSync(join(pkiDir, 'admin.crt')),
            key: readFileSync(join(pkiDir, 'admin.key')),
          };
    const options = {
      ...tls,
      timeout: timeoutMs,
      ...(selfSigned === true ? { rejectUnauthorized: false } : {}),
    };
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function healthy(p: Probe): Promise<boolean> {
  try {
    return (await probe(p)).status === 200;
  } catch {
    return false;
  }
}

/** Polls until healthy; throws with the last answer after `timeoutMs`. */
export async function waitHealthy(
  what: string,
  p: Probe,
  timeoutMs: number,
  isAlive: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const r = await probe(p);
      if (r.status === 200) return;
      last = `HTTP ${r.status}: ${r.body.slice(0, 300)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (!(await isAlive())) throw new Error(`${what} exited before becoming healthy (${last})`);
    await sleep(100);
  }
  throw new Error(`${what} not healthy after ${timeoutMs / 1000} s: ${last}`);
}
