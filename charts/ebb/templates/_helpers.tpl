{{/*
Shared pieces of the ebb chart: labels, the image, the security settings every pod gets, and the
environment every container gets. Components call them with (dict "root" $ "component" "<name>").
*/}}

{{/* Labels that select every pod of the release, whatever its component. */}}
{{- define "ebb.releaseSelectorLabels" -}}
app.kubernetes.io/name: ebb
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{/* Labels that select a component's pods; stable across upgrades (Deployment selectors are immutable). */}}
{{- define "ebb.selectorLabels" -}}
{{ include "ebb.releaseSelectorLabels" . }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels on every object the chart creates. */}}
{{- define "ebb.labels" -}}
{{ include "ebb.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: ebb
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end }}

{{- define "ebb.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
Pod-level security: the restricted Pod Security Standard. uid/gid 65532 is the image's "nonroot"
user (distroless).
*/}}
{{- define "ebb.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container-level security: nothing in the image is written at run time. */}}
{{- define "ebb.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop:
    - ALL
{{- end }}

{{/* Environment of every component: log level, and the namespace it runs in (from the downward API). */}}
{{- define "ebb.env" -}}
- name: LOG_LEVEL
  value: {{ .component.logLevel | default .root.Values.logLevel | quote }}
- name: SYSTEM_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- with .component.nodeOptions }}
- name: NODE_OPTIONS
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
Scheduling and pull settings shared by every pod spec, called with (dict "root" $ "component" "<name>").
A topology spread constraint without a labelSelector gets the component's own selector labels: the
scheduler then counts only that component's pods, so the one list in values spreads the two
controller replicas apart whatever the other components' pods do.
*/}}
{{- define "ebb.podScheduling" -}}
{{- $root := .root }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.topologySpreadConstraints }}
{{- $ownPods := dict "matchLabels" (include "ebb.selectorLabels" $ | fromYaml) }}
topologySpreadConstraints:
  {{- range . }}
  {{- $constraint := deepCopy . }}
  {{- if not (hasKey $constraint "labelSelector") }}
  {{- $_ := set $constraint "labelSelector" $ownPods }}
  {{- end }}
  - {{ toYaml $constraint | indent 4 | trim }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
The webhook configurations' names: the webhook patches their caBundle, and its ClusterRole may
touch only these.
*/}}
{{- define "ebb.webhookConfigurationNames" -}}
- ebb-webhook-defaulting
- ebb-webhook-validation
- ebb-webhook-config-validation
{{- end }}

{{/* Knative's ConfigMaps, by values key: created by configmaps.yaml, validated by the webhook. */}}
{{- define "ebb.configMapNames" -}}
autoscaler: config-autoscaler
defaults: config-defaults
deployment: config-deployment
domain: config-domain
features: config-features
gc: config-gc
network: config-network
{{- end }}
