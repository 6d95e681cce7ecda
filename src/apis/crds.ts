// Builds the CustomResourceDefinitions in crds/ from the zod schemas, so that the types, the
// runtime validation and the API server's schema cannot drift apart. `npm run generate` writes
// them; a test fails when the committed files differ.
import type { z } from 'zod';
import { stringify } from 'yaml';
import * as pa from './autoscaling/v1alpha1/podautoscaler-types.ts';
import { toOpenAPI, type OpenAPISchema } from './openapi.ts';
import { GROUP as SERVING_GROUP } from './serving/register.ts';
import { ConfigurationSpec, ConfigurationStatus } from './serving/v1/configuration-types.ts';
import { RevisionSpec, RevisionStatus } from './serving/v1/revision-types.ts';
import { RouteSpec, RouteStatus } from './serving/v1/route-types.ts';
import { ServiceSpec, ServiceStatus } from './serving/v1/service-types.ts';

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer';
  jsonPath: string;
}

interface KindDefinition {
  group: string;
  version: string;
  kind: string;
  plural: string;
  shortNames: string[];
  categories: string[];
  labels: Record<string, string>;
  description: string;
  spec: z.core.$ZodType;
  status: z.core.$ZodType;
  columns: PrinterColumn[];
}

const ready: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: ".status.conditions[?(@.type=='Ready')].status",
};
const reason: PrinterColumn = {
  name: 'Reason',
  type: 'string',
  jsonPath: ".status.conditions[?(@.type=='Ready')].reason",
};
const url: PrinterColumn = { name: 'URL', type: 'string', jsonPath: '.status.url' };
const latestCreated: PrinterColumn = {
  name: 'LatestCreated',
  type: 'string',
  jsonPath: '.status.latestCreatedRevisionName',
};
const latestReady: PrinterColumn = {
  name: 'LatestReady',
  type: 'string',
  jsonPath: '.status.latestReadyRevisionName',
};

const servingLabels = { 'app.kubernetes.io/name': 'ebb', 'knative.dev/crd-install': 'true' };
const servingCategories = ['all', 'knative', 'serving'];

export const KINDS: readonly KindDefinition[] = [
  {
    group: SERVING_GROUP,
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    shortNames: ['kservice', 'ksvc'],
    categories: servingCategories,
    labels: {
      ...servingLabels,
      'duck.knative.dev/addressable': 'true',
      'duck.knative.dev/podspecable': 'true',
    },
    description:
      'Service manages the whole lifecycle of a workload: it owns a Configuration and a Route of its name.',
    spec: ServiceSpec,
    status: ServiceStatus,
    columns: [url, latestCreated, latestReady, ready, reason],
  },
  {
    group: SERVING_GROUP,
    version: 'v1',
    kind: 'Configuration',
    plural: 'configurations',
    shortNames: ['config', 'cfg', 'kcfg'],
    categories: servingCategories,
    labels: { ...servingLabels, 'duck.knative.dev/podspecable': 'true' },
    description:
      'Configuration keeps the desired state of a workload and creates a Revision for each change.',
    spec: ConfigurationSpec,
    status: ConfigurationStatus,
    columns: [latestCreated, latestReady, ready, reason],
  },
  {
    group: SERVING_GROUP,
    version: 'v1',
    kind: 'Revision',
    plural: 'revisions',
    shortNames: ['rev'],
    categories: servingCategories,
    labels: servingLabels,
    description: 'Revision is an immutable snapshot of code and configuration.',
    spec: RevisionSpec,
    status: RevisionStatus,
    columns: [
      {
        name: 'Config Name',
        type: 'string',
        jsonPath: ".metadata.labels['serving\\.knative\\.dev/configuration']",
      },
      {
        name: 'Generation',
        type: 'string',
        jsonPath: ".metadata.labels['serving\\.knative\\.dev/configurationGeneration']",
      },
      ready,
      reason,
      { name: 'Actual Replicas', type: 'integer', jsonPath: '.status.actualReplicas' },
      { name: 'Desired Replicas', type: 'integer', jsonPath: '.status.desiredReplicas' },
    ],
  },
  {
    group: SERVING_GROUP,
    version: 'v1',
    kind: 'Route',
    plural: 'routes',
    shortNames: ['rt'],
    categories: servingCategories,
    labels: { ...servingLabels, 'duck.knative.dev/addressable': 'true' },
    description: 'Route gives a set of Revisions a URL and splits traffic between them.',
    spec: RouteSpec,
    status: RouteStatus,
    columns: [url, ready, reason],
  },
  {
    group: pa.GROUP,
    version: 'v1alpha1',
    kind: 'PodAutoscaler',
    plural: 'podautoscalers',
    shortNames: ['kpa', 'pa'],
    categories: ['all', 'ebb-internal', 'autoscaling'],
    labels: { 'app.kubernetes.io/name': 'ebb' },
    description: "PodAutoscaler scales one Revision's Deployment; ebb's controller manages it.",
    spec: pa.PodAutoscalerSpec,
    status: pa.PodAutoscalerStatus,
    columns: [
      { name: 'DesiredScale', type: 'integer', jsonPath: '.status.desiredScale' },
      { name: 'ActualScale', type: 'integer', jsonPath: '.status.actualScale' },
      ready,
      reason,
    ],
  },
];

/** The CRD's name, `<plural>.<group>`. */
export function crdName(kind: KindDefinition): string {
  return `${kind.plural}.${kind.group}`;
}

export function buildCrd(kind: KindDefinition): Record<string, unknown> {
  const schema: OpenAPISchema = {
    type: 'object',
    description: kind.description,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: toOpenAPI(kind.spec, `${kind.kind}.spec`),
      status: toOpenAPI(kind.status, `${kind.kind}.status`),
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(kind), labels: kind.labels },
    spec: {
      group: kind.group,
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.kind.toLowerCase(),
        shortNames: kind.shortNames,
        categories: kind.categories,
      },
      scope: 'Namespaced',
      versions: [
        {
          name: kind.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: schema },
          additionalPrinterColumns: kind.columns,
        },
      ],
    },
  };
}

const HEADER = '# Generated by `npm run generate` from the zod schemas in src/apis. Do not edit.\n';

/** The plain CRDs: `kubectl apply -f crds/`, and in the image. */
export const CRD_DIR = 'crds/';
/** The chart's CRDs are templates, not the chart's crds/ (which Helm installs once and never
 * upgrades): `helm upgrade` updates them with the chart, and the keep policy leaves them, and so
 * every Knative object, in place on `helm uninstall`. `crds.install=false` leaves them to you. */
export const CHART_CRD_DIR = 'charts/ebb/templates/crds/';

/** File name → YAML text, for every kind: for crds/, or as chart templates. */
export function renderCrds(target: 'plain' | 'chart' = 'plain'): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of KINDS) {
    const crd = buildCrd(kind);
    const name = `${kind.group}_${kind.plural}.yaml`;
    if (target === 'plain') {
      files.set(name, HEADER + stringify(crd, { lineWidth: 0 }));
      continue;
    }
    const metadata = crd.metadata as Record<string, unknown>;
    crd.metadata = { ...metadata, annotations: { 'helm.sh/resource-policy': 'keep' } };
    files.set(
      name,
      `{{- if .Values.crds.install }}\n${HEADER}${stringify(crd, { lineWidth: 0 })}{{- end }}\n`,
    );
  }
  return files;
}
