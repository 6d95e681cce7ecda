// Kubernetes' name rules (apimachinery's validation), with its messages word for word, since
// Knative embeds them in its own errors.

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export const DNS1035_MESSAGE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
export const DNS1123_LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_MESSAGE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

function maxLength(value: string, max: number): string[] {
  return value.length > max ? [`must be no more than ${max} characters`] : [];
}

export function isDNS1035Label(value: string): string[] {
  return [...maxLength(value, 63), ...(DNS1035.test(value) ? [] : [DNS1035_MESSAGE])];
}

/** generateName may end in "-": it is checked as if the suffix were already there. */
export function isDNS1035LabelPrefix(value: string): string[] {
  return isDNS1035Label(value.length > 1 && value.endsWith('-') ? `${value.slice(0, -2)}a` : value);
}

export function isDNS1123Label(value: string): string[] {
  return [...maxLength(value, 63), ...(DNS1123_LABEL.test(value) ? [] : [DNS1123_LABEL_MESSAGE])];
}

export function isDNS1123Subdomain(value: string): string[] {
  return [...maxLength(value, 253), ...(DNS1123_SUBDOMAIN.test(value) ? [] : [DNS1123_SUBDOMAIN_MESSAGE])];
}

/** A label key or similar: an optional DNS subdomain prefix and "/", then a name of ≤ 63 characters. */
export function isQualifiedName(value: string): string[] {
  const parts = value.split('/');
  let name: string;
  const errors: string[] = [];
  if (parts.length === 1) name = parts[0] ?? '';
  else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix === '') errors.push('prefix part must be non-empty');
    else errors.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name === '') errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push('name part must be no more than 63 characters');
  if (name !== '' && !QUALIFIED_NAME.test(name)) errors.push(QUALIFIED_NAME_MESSAGE);
  return errors;
}

/** Go renders a []string as `[a b]`. */
export function goList(messages: readonly string[]): string {
  return `[${messages.join(' ')}]`;
}
