// The small part of Go's text/template that Knative's domain-template, tag-template and
// container-name-template use: literal text, `{{.Field}}`, `{{index .Map "key"}}` and the
// `{{-`/`-}}` trim markers. Parsing and executing fail with errors in the shape Go gives.

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'field'; name: string }
  | { kind: 'index'; map: string; key: string };

export interface GoTemplate {
  readonly name: string;
  readonly nodes: readonly Node[];
}

export type TemplateData = Record<string, string | Record<string, string> | undefined>;

export class TemplateError extends Error {}

const FIELD = /^\.([A-Za-z_][A-Za-z0-9_]*)$/;
const INDEX = /^index\s+\.([A-Za-z_][A-Za-z0-9_]*)\s+"((?:[^"\\]|\\.)*)"$/;

export function parseGoTemplate(name: string, source: string): GoTemplate {
  const nodes: Node[] = [];
  let rest = source;
  let line = 1;
  while (rest !== '') {
    const open = rest.indexOf('{{');
    if (open < 0) {
      nodes.push({ kind: 'text', text: rest });
      break;
    }
    let text = rest.slice(0, open);
    rest = rest.slice(open + 2);
    const trimLeft = rest.startsWith('- ');
    if (trimLeft) text = text.trimEnd();
    if (text !== '') nodes.push({ kind: 'text', text });
    line += text.split('\n').length - 1;
    const close = rest.indexOf('}}');
    if (close < 0) throw new TemplateError(`template: ${name}:${line}: unclosed action`);
    let action = rest.slice(trimLeft ? 2 : 0, close);
    rest = rest.slice(close + 2);
    if (action.endsWith(' -')) {
      action = action.slice(0, -2);
      rest = rest.trimStart();
    }
    action = action.trim();
    const field = FIELD.exec(action);
    const index = INDEX.exec(action);
    if (field?.[1] !== undefined) nodes.push({ kind: 'field', name: field[1] });
    else if (index?.[1] !== undefined && index[2] !== undefined) {
      nodes.push({ kind: 'index', map: index[1], key: JSON.parse(`"${index[2]}"`) as string });
    } else {
      throw new TemplateError(`template: ${name}:${line}: unexpected ${JSON.stringify(action)} in command`);
    }
  }
  return { name, nodes };
}

export function executeGoTemplate(template: GoTemplate, data: TemplateData): string {
  let out = '';
  for (const node of template.nodes) {
    if (node.kind === 'text') {
      out += node.text;
      continue;
    }
    const name = node.kind === 'field' ? node.name : node.map;
    if (!(name in data)) {
      throw new TemplateError(
        `template: ${template.name}: executing "${template.name}" at <.${name}>: can't evaluate field ${name}`,
      );
    }
    const value = data[name];
    if (node.kind === 'field') {
      out += typeof value === 'string' ? value : value === undefined ? '' : '<map>';
    } else {
      out += typeof value === 'object' ? (value[node.key] ?? '') : '';
    }
  }
  return out;
}
