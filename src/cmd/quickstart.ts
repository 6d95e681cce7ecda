// `npm run quickstart`: from a fresh machine to a Knative URL that scales to zero. The local
// cluster, the components and the chart it needs arrive with the issues that build them; until
// then it says so plainly instead of pretending.
process.stderr.write(
  [
    'ebb quickstart is not available yet.',
    'What works today: `npm ci && npm test`, and `npm run ebb -- validate -f config/samples/`',
    'to check Knative manifests offline. See README.md, "Status".',
    '',
  ].join('\n'),
);
process.exitCode = 1;
