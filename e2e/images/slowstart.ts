// dev.local/slowstart: listens only after STARTUP_DELAY_MS (default 5000), for the tests of
// readiness: no traffic may reach a revision before its container answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { intFromEnv, parseTarget, sendText, serve } from './serve.ts';

const delayMs = intFromEnv('slowstart', 'STARTUP_DELAY_MS', 5000, 2 ** 31 - 1);
const body = `ready after ${delayMs} ms\n`;

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (parseTarget(req.url).path === '/') sendText(res, 200, body);
  else sendText(res, 404, 'not found\n');
}

serve('slowstart', handle, { delayMs });
