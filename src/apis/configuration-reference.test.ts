import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import {
  CONFIGURATION_DOC,
  configurationMarkdown,
  renderConfigurationReference,
  valueRows,
  type ChartValues,
} from './configuration-reference.ts';

const root = new URL('../../', import.meta.url);

describe('docs/configuration.md', () => {
  it('is what `npm run generate` writes (if not, run `npm run generate`)', async () => {
    const committed = await readFile(new URL(CONFIGURATION_DOC, root), 'utf8');
    expect(committed).toBe(await renderConfigurationReference(root));
  });
});

describe('valueRows', () => {
  const chart: ChartValues = {
    schema: {
      definitions: {
        level: { type: 'string', enum: ['info', 'debug'] },
        list: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
      },
      properties: {
        level: { $ref: '#/definitions/level', description: 'Top level.' },
        part: {
          type: 'object',
          description: 'A component.',
          properties: {
            level: { description: 'Its own level.', anyOf: [{ const: '' }, { $ref: '#/definitions/level' }] },
            requests: { $ref: '#/definitions/list' },
            names: { type: 'array', items: { type: 'string' } },
          },
        },
        quiet: { type: 'object', properties: { on: { type: 'boolean' } } },
      },
    },
    values: {
      level: 'info',
      part: { level: '', requests: { cpu: '1', memory: '64Mi' } },
      quiet: { on: true },
    },
  };

  it('walks the schema in order, following references, with defaults from values.yaml', () => {
    expect(valueRows(chart)).toEqual([
      { path: 'level', type: 'info or debug', fallback: 'info', description: 'Top level.' },
      { path: 'part', type: 'object', fallback: undefined, description: 'A component.' },
      { path: 'part.level', type: '"", info or debug', fallback: '""', description: 'Its own level.' },
      {
        path: 'part.requests',
        type: 'map of string or number',
        fallback: '{ cpu: "1", memory: 64Mi }',
        description: undefined,
      },
      { path: 'part.names', type: 'list of string', fallback: undefined, description: undefined },
      { path: 'quiet.on', type: 'boolean', fallback: 'true', description: undefined },
    ]);
  });

  it('makes a table row per value and a section per Knative ConfigMap', () => {
    const markdown = configurationMarkdown(chart);
    expect(markdown).toContain(
      '| `part.requests` | map of string or number | `{ cpu: "1", memory: 64Mi }` |  |',
    );
    expect(markdown).toContain('| `part.level` | "", info or debug | `""` | Its own level. |');
    for (const name of ['autoscaler', 'defaults', 'deployment', 'domain', 'features', 'gc', 'network'])
      expect(markdown).toContain(`### config-${name}`);
  });
});
