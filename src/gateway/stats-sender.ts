// Sends the gateway's per-revision stats to every autoscaler replica: a report each second, and
// an immediate "poke" when a revision gets its first request of a period (that is what wakes a
// revision at zero without waiting for a tick). Every report is its own HTTP request with the
// gateway's ServiceAccount token, so an autoscaler that restarts simply gets the next one; a
// replica that does not answer only loses its own copy. Standby autoscalers get the stats too,
// so their windows are warm when they take over.
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import type { Logger } from 'pino';
import { splitAddress } from './endpoints.ts';
import { STATS_PATH, type WireReport, type WireStat } from '../autoscaler/stats-wire.ts';

const SEND_TIMEOUT_MS = 2_000;
const TOKEN_REREAD_MS = 60_000;

export interface StatsSenderOptions {
  pod: string;
  /** Path of the projected ServiceAccount token with the autoscaler's audience. */
  tokenPath: string;
  /** "ip:port" of each ready autoscaler replica, as of now. */
  targets: () => string[];
  log: Logger;
  onSendError?: () => void;
}

export class StatsSender {
  private readonly options: StatsSenderOptions;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private token = '';
  private tokenReadAt = 0;
  private lastWarn = 0;

  constructor(options: StatsSenderOptions) {
    this.options = options;
  }

  async send(stats: WireStat[], poke = false): Promise<void> {
    if (stats.length === 0 && !poke) return;
    const report: WireReport = { pod: this.options.pod, stats, ...(poke ? { poke } : {}) };
    const body = JSON.stringify(report);
    const token = await this.currentToken();
    await Promise.all(this.options.targets().map((t) => this.post(t, body, token)));
  }

  close(): void {
    this.agent.destroy();
  }

  private async currentToken(): Promise<string> {
    const now = Date.now();
    if (this.token === '' || now - this.tokenReadAt > TOKEN_REREAD_MS) {
      try {
        this.token = (await readFile(this.options.tokenPath, 'utf8')).trim();
        this.tokenReadAt = now;
      } catch (error) {
        this.warn(`cannot read the stats token at ${this.options.tokenPath}: ${String(error)}`);
      }
    }
    return this.token;
  }

  private post(target: string, body: string, token: string): Promise<void> {
    const { host, port } = splitAddress(target);
    return new Promise((resolve) => {
      const req = request(
        {
          host,
          port,
          path: STATS_PATH,
          method: 'POST',
          agent: this.agent,
          timeout: SEND_TIMEOUT_MS,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${token}`,
          },
        },
        (res) => {
          res.resume();
          if (res.statusCode !== 204) {
            this.options.onSendError?.();
            this.warn(`autoscaler ${target} answered ${res.statusCode ?? 0} to a stats report`);
          }
          resolve();
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (error) => {
        this.options.onSendError?.();
        this.warn(`cannot send stats to autoscaler ${target}: ${error.message}`);
        resolve();
      });
      req.end(body);
    });
  }

  /** At most one warning every ten seconds: a down autoscaler must not flood the log. */
  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarn < 10_000) return;
    this.lastWarn = now;
    this.options.log.warn(message);
  }
}
