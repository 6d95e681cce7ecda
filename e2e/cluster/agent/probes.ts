// Container probes as the kubelet runs them: httpGet and tcpSocket against the pod IP, exec inside
// the container (its namespaces and root). Success is HTTP 200–399, an accepted connection, or
// exit code 0. HTTPS probes skip certificate verification, as the kubelet's do. A probe that cannot
// even be sent (a header Node refuses) fails; it never throws.
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

function resolvePort(port: number | string | undefined, container: V1Container): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined || port === '') return container.ports?.[0]?.containerPort;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** `execIn` is the command prefix that enters the container, for exec probes. */
export function runProbe(
  probe: V1Probe,
  container: V1Container,
  podIP: string,
  execIn: readonly string[],
): Promise<boolean> {
  try {
    return sendProbe(probe, container, podIP, execIn).catch(() => false);
  } catch {
    return Promise.resolve(false);
  }
}

function sendProbe(
  probe: V1Probe,
  container: V1Container,
  podIP: string,
  execIn: readonly string[],
): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet !== undefined) {
    const port = resolvePort(probe.httpGet.port, container);
    if (port === undefined) return Promise.resolve(false);
    const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
    const https = probe.httpGet.scheme === 'HTTPS';
    const request = https ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = request(
        {
          ...(https ? { rejectUnauthorized: false } : {}),
          host: probe.httpGet?.host ?? podIP,
          port,
          path: probe.httpGet?.path ?? '/',
          headers: { 'user-agent': 'kube-probe/ebb', ...headers },
          timeout: timeoutMs,
        },
        (res) => {
          res.resume();
          resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => {
        resolve(false);
      });
      req.end();
    });
  }
  if (probe.tcpSocket !== undefined) {
    const port = resolvePort(probe.tcpSocket.port, container);
    if (port === undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const socket = connect({ host: probe.tcpSocket?.host ?? podIP, port, timeout: timeoutMs });
      socket.on('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('timeout', () => {
        socket.destroy();
        resolve(false);
      });
      socket.on('error', () => {
        resolve(false);
      });
    });
  }
  if (probe.exec?.command !== undefined) {
    const command = probe.exec.command;
    return new Promise((resolve) => {
      const [file = '', ...args] = [...execIn, ...command];
      execFile(file, args, { timeout: timeoutMs }, (error) => {
        resolve(error === null);
      });
    });
  }
  return Promise.resolve(false);
}
