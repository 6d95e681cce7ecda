// Turns ebb's zod schemas into the structural OpenAPI v3 schemas that CustomResourceDefinitions
// require. It understands only the zod constructs the API schemas use and fails loudly on others,
// so that a schema change cannot silently produce a CRD the API server would reject or prune.
import { z } from 'zod';

export interface OpenAPISchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, OpenAPISchema>;
  required?: string[];
  items?: OpenAPISchema;
  additionalProperties?: OpenAPISchema;
  enum?: (string | number | boolean)[];
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-int-or-string'?: true;
}

declare module 'zod' {
  interface GlobalMeta {
    /** Emit exactly this schema instead of converting (e.g. ObjectMeta, which the API server owns). */
    openapi?: OpenAPISchema;
    /** Keep fields the schema does not list (a Kubernetes type embedded without its full schema). */
    preserveUnknownFields?: boolean;
    /** An IntOrString field, such as a probe port or a resource quantity. */
    intOrString?: boolean;
  }
}

type AnySchema = z.core.$ZodType;

function meta(schema: AnySchema): z.core.GlobalMeta | undefined {
  return z.globalRegistry.get(schema);
}

function withDescription(out: OpenAPISchema, description: string | undefined): OpenAPISchema {
  return description === undefined ? out : { description, ...out };
}

function isOptional(schema: AnySchema): boolean {
  const t = schema._zod.def.type;
  return t === 'optional' || t === 'default' || t === 'prefault';
}

export function toOpenAPI(schema: AnySchema, path = '<root>'): OpenAPISchema {
  const m = meta(schema);
  if (m?.openapi !== undefined) return withDescription(m.openapi, m.description);
  if (m?.intOrString === true) {
    return withDescription({ 'x-kubernetes-int-or-string': true }, m.description);
  }
  const out = convert(schema, path);
  if (m?.preserveUnknownFields === true) out['x-kubernetes-preserve-unknown-fields'] = true;
  return withDescription(out, m?.description);
}

function convert(schema: AnySchema, path: string): OpenAPISchema {
  const def = schema._zod.def;
  switch (def.type) {
    case 'string':
      return { type: 'string' };
    case 'boolean':
      return { type: 'boolean' };
    case 'number': {
      const format = (schema as z.ZodNumber).format;
      return format === 'safeint' || format === 'int32' || format === 'int64'
        ? { type: 'integer', format: 'int64' }
        : { type: 'number' };
    }
    case 'enum': {
      const values = Object.values((def as z.core.$ZodEnumDef).entries);
      return { type: typeof values[0] === 'number' ? 'integer' : 'string', enum: values };
    }
    case 'literal': {
      const values = (def as z.core.$ZodLiteralDef<z.core.util.Literal>).values.filter(
        (v): v is string | number | boolean =>
          typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean',
      );
      const first = values[0];
      const type = typeof first === 'number' ? 'integer' : typeof first === 'boolean' ? 'boolean' : 'string';
      return { type, enum: values };
    }
    case 'array':
      return { type: 'array', items: toOpenAPI((def as z.core.$ZodArrayDef).element, `${path}[]`) };
    case 'record':
      return {
        type: 'object',
        additionalProperties: toOpenAPI((def as z.core.$ZodRecordDef).valueType, `${path}{}`),
      };
    case 'object': {
      const { shape, catchall } = def as z.core.$ZodObjectDef;
      const properties: Record<string, OpenAPISchema> = {};
      const required: string[] = [];
      for (const [key, value] of Object.entries(shape)) {
        properties[key] = toOpenAPI(value, `${path}.${key}`);
        if (!isOptional(value)) required.push(key);
      }
      const out: OpenAPISchema = { type: 'object' };
      if (Object.keys(properties).length > 0) out.properties = properties;
      if (required.length > 0) out.required = required;
      const open = catchall !== undefined && catchall._zod.def.type === 'unknown';
      if (open) out['x-kubernetes-preserve-unknown-fields'] = true;
      return out;
    }
    case 'optional':
    case 'default':
    case 'prefault':
      return toOpenAPI((def as z.core.$ZodOptionalDef).innerType, path);
    case 'nullable':
      return { ...toOpenAPI((def as z.core.$ZodNullableDef).innerType, path), nullable: true };
    case 'unknown':
      return { 'x-kubernetes-preserve-unknown-fields': true };
    case 'lazy':
      return toOpenAPI((def as z.core.$ZodLazyDef).getter(), path);
    default:
      throw new Error(`openapi: ${path}: zod type "${def.type}" has no structural OpenAPI form`);
  }
}
