#!/usr/bin/env node
// Entry for the `ebb` command. A checkout runs the TypeScript sources directly (Node 24 strips
// types); an installed package, where Node does not strip types, runs the compiled dist/, and so
// does a checkout with EBB_RUN_DIST=1 (the local cluster's image, to run what ships).
import { existsSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `ebb: needs Node.js 24 or newer, but this is ${process.version}.\n` +
      'From a checkout, run it as `npm run ebb -- <command>`, which uses the Node 24 that `npm ci` installs.\n',
  );
  process.exit(2);
}

const source = new URL('../src/cli/main.ts', import.meta.url);
const installed = source.pathname.includes('/node_modules/');
const fromDist = installed || process.env.EBB_RUN_DIST === '1' || !existsSync(source);
const entry = fromDist ? new URL('../dist/cli/main.js', import.meta.url) : source;
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
