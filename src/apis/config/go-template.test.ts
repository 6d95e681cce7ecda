// Table tests of the small part of Go's text/template that ebb implements.
import { describe, expect, it } from '@jest/globals';
import { executeGoTemplate, parseGoTemplate, TemplateError, type TemplateData } from './go-template.ts';

describe('Go templates', () => {
  const rendering: [string, string, TemplateData, string][] = [
    ['literal text', 'user-container', {}, 'user-container'],
    [
      'fields and text',
      '{{.Name}}.{{ .Namespace }}.{{.Domain}}',
      { Name: 'foo', Namespace: 'bar', Domain: 'baz.com' },
      'foo.bar.baz.com',
    ],
    [
      'index of a map, and of a missing key or nil map',
      '{{index .Labels "app"}}-{{index .Labels "nope"}}-{{index .Annotations "x"}}',
      { Labels: { app: 'web' }, Annotations: undefined },
      'web--',
    ],
    ['trim markers', 'a  {{- .Name -}}  b', { Name: 'x' }, 'axb'],
  ];

  it.each(rendering)('renders %s', (_name, source, data, expected) => {
    expect(executeGoTemplate(parseGoTemplate('t', source), data)).toBe(expected);
  });

  const errors: [string, string, TemplateData, RegExp][] = [
    ['an unclosed action (parse)', 'a\n{{.Name', {}, /^template: t:2: unclosed action$/],
    ['an action that is not a field or index (parse)', '{{animals-being-bros}}', {}, /^template: t:1: /],
    [
      'an unknown field (execution, not parse)',
      '{{.NAme}}',
      { Name: 'foo' },
      /^template: t\b.*executing "t" at <\.NAme>: can't evaluate field NAme/,
    ],
  ];

  it.each(errors)('fails on %s', (_name, source, data, message) => {
    const run = () => executeGoTemplate(parseGoTemplate('t', source), data);
    expect(run).toThrow(TemplateError);
    expect(run).toThrow(message);
  });
});
