// dev.local/helloworld: Knative's hello-world sample. GET / answers "Hello ${TARGET}!", so a test
// can tell revisions apart by their environment.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseTarget, sendText, serve } from './serve.ts';

// `||`, not `??`: like the sample's ${TARGET:-World}, an empty TARGET greets the World too.
const greeting = `Hello ${process.env.TARGET || 'World'}!\n`;

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (parseTarget(req.url).path !== '/') {
    sendText(res, 404, 'not found\n');
  } else if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendText(res, 405, 'method not allowed\n');
  } else {
    sendText(res, 200, greeting);
  }
}

serve('helloworld', handle);
