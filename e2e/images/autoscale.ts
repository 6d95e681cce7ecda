// dev.local/autoscale: holds requests open for ?sleep=MS so that a test can build up concurrency,
// and reports what it saw: {"inflight":n,"maxInflight":m}, n being the requests in flight when
// this one arrived (itself included) and m the most seen at once since start, as of the answer.
// GET /healthz answers at once and is not counted, so probes do not disturb the numbers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseTarget, sendJson, sendText, serve } from './serve.ts';

const MAX_SLEEP_MS = 60_000;

let inflight = 0;
let maxInflight = 0;

function handle(req: IncomingMessage, res: ServerResponse): void {
  const { path, query } = parseTarget(req.url);
  if (path === '/healthz') {
    sendText(res, 200, 'ok');
    return;
  }
  const sleep = parseSleep(query.get('sleep'));
  if (sleep === undefined) {
    sendText(res, 400, `sleep must be a non-negative number of milliseconds\n`);
    return;
  }
  inflight++;
  if (inflight > maxInflight) maxInflight = inflight;
  // 'close' follows both a finished response and a client that hung up, so the count stays true.
  res.once('close', finished);
  if (sleep === 0) answer(res, inflight);
  else setTimeout(answer, sleep, res, inflight);
}

function finished(): void {
  inflight--;
}

function answer(res: ServerResponse, arrivedAs: number): void {
  if (res.destroyed) return;
  sendJson(res, 200, { inflight: arrivedAs, maxInflight });
}

function parseSleep(raw: string | null): number | undefined {
  if (raw === null || raw === '') return 0;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, MAX_SLEEP_MS);
}

serve('autoscale', handle);
