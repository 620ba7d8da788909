{{/*
Names and labels, as `helm create` makes them.
*/}}

{{/* Expand the name of the chart. */}}
{{- define "invoicer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name. Truncated at 63 characters (some
name fields are limited to that by the DNS naming spec); if the release name
contains the chart name it is used as the full name.
*/}}
{{- define "invoicer.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart name and version as used by the chart label. */}}
{{- define "invoicer.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels. */}}
{{- define "invoicer.labels" -}}
helm.sh/chart: {{ include "invoicer.chart" . }}
{{ include "invoicer.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: invoicer
{{- end }}

{{/* Selector labels. */}}
{{- define "invoicer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "invoicer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one component. Call with (dict "root" $ "component" "gateway").
*/}}
{{- define "invoicer.componentLabels" -}}
{{ include "invoicer.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "invoicer.componentSelectorLabels" -}}
{{ include "invoicer.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Labels by which the databases' NetworkPolicies admit a component's pods:
invoicer/<backend>-client: "true" for each backend in components.<name>.uses.
*/}}
{{- define "invoicer.clientLabels" -}}
{{- range $backend := (index .root.Values.components .component).uses | default (list) }}
{{ printf "invoicer/%s-client" $backend }}: "true"
{{- end }}
{{- end }}

{{/* Name of one component's objects: "<fullname>-<component>". */}}
{{- define "invoicer.componentName" -}}
{{- printf "%s-%s" (include "invoicer.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The ServiceAccount the pods run as. */}}
{{- define "invoicer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "invoicer.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image reference: repository:tag, or repository@digest when a digest is given. */}}
{{- define "invoicer.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret with JWT_SECRET, SMTP_* and any credential given in values. */}}
{{- define "invoicer.secretName" -}}
{{- default (include "invoicer.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/* The ConfigMap with the plain settings. */}}
{{- define "invoicer.configMapName" -}}
{{- include "invoicer.fullname" . }}
{{- end }}

{{/* The gateway's public address: config.PUBLIC_URL, else the Ingress URL, else the port-forward URL. */}}
{{- define "invoicer.publicUrl" -}}
{{- if .Values.config.PUBLIC_URL }}
{{- .Values.config.PUBLIC_URL }}
{{- else if .Values.ingress.enabled }}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host }}
{{- else }}
{{- print "http://localhost:8080" }}
{{- end }}
{{- end }}

{{/*
A settings value as a string. YAML numbers reach templates as float64, so an
integer such as 1048576 would otherwise print as 1.048576e+06.
*/}}
{{- define "invoicer.settingValue" -}}
{{- if kindIs "float64" . }}
{{- printf "%.0f" . }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/*
Connection settings. For each backend (postgresql, mongodb, rabbitmq) the URL
comes, in this order of preference, from:
  1. <backend>.url: a complete URL, kept in this chart's Secret;
  2. <backend>.existingSecret + existingSecretUrlKey: a complete URL in another Secret;
  3. host, port, … and a password, which is read into <PREFIX>_PASSWORD and
     spliced into the URL with Kubernetes' $(VAR) expansion; the password comes
     from <backend>.password (kept in this chart's Secret), else from
     <backend>.existingSecret, else from the Secret of the bundled chart's
     release "<release>-<backend>".
Passwords spliced into a URL must be URL-safe (the generated ones are).
*/}}

{{/* Call with (dict "root" $ "backend" "postgresql"). */}}
{{- define "invoicer.backend.host" -}}
{{- $values := index .root.Values .backend }}
{{- default (printf "%s-%s" .root.Release.Name .backend) $values.host }}
{{- end }}

{{- define "invoicer.backend.passwordSecret" -}}
{{- $values := index .root.Values .backend }}
{{- if $values.password }}
{{- include "invoicer.secretName" .root }}
{{- else }}
{{- default (printf "%s-%s" .root.Release.Name .backend) $values.existingSecret }}
{{- end }}
{{- end }}

{{/*
Env entries for one backend. Call with (dict "root" $ "backend" "postgresql"
"var" "DATABASE_URL" "prefix" "DATABASE" "secret" <secret name holding
chart-kept credentials>). "secret" lets the migration hook use its own Secret.
*/}}
{{- define "invoicer.backend.env" -}}
{{- $root := .root }}
{{- $values := index $root.Values .backend }}
{{- $secret := .secret }}
{{- if $values.url }}
- name: {{ .var }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .var }}
{{- else if and $values.existingSecret $values.existingSecretUrlKey }}
- name: {{ .var }}
  valueFrom:
    secretKeyRef:
      name: {{ $values.existingSecret }}
      key: {{ $values.existingSecretUrlKey }}
{{- else }}
- name: {{ .prefix }}_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- if $values.password }}
      name: {{ $secret }}
      key: {{ .prefix }}_PASSWORD
      {{- else }}
      name: {{ include "invoicer.backend.passwordSecret" (dict "root" $root "backend" .backend) }}
      key: {{ $values.existingSecretPasswordKey }}
      {{- end }}
{{- $host := include "invoicer.backend.host" (dict "root" $root "backend" .backend) }}
{{- if eq .backend "postgresql" }}
- name: {{ .var }}
  value: {{ printf "postgresql://%s:$(%s_PASSWORD)@%s:%v/%s%s" $values.username .prefix $host (int $values.port) $values.database (ternary (printf "?%s" $values.params) "" (ne $values.params "")) | quote }}
{{- else if eq .backend "mongodb" }}
- name: {{ .var }}
  value: {{ printf "mongodb://%s:$(%s_PASSWORD)@%s:%v/%s%s" $values.username .prefix $host (int $values.port) $values.database (ternary (printf "?%s" $values.params) "" (ne $values.params "")) | quote }}
{{- else }}
- name: {{ .var }}
  value: {{ printf "%s://%s:$(%s_PASSWORD)@%s:%v/%s" $values.scheme $values.username .prefix $host (int $values.port) $values.vhost | quote }}
{{- end }}
{{- end }}
{{- end }}

{{- define "invoicer.env.postgresql" -}}
{{ include "invoicer.backend.env" (dict "root" .root "backend" "postgresql" "var" "DATABASE_URL" "prefix" "DATABASE" "secret" .secret) | trim }}
{{- end }}

{{- define "invoicer.env.mongodb" -}}
{{ include "invoicer.backend.env" (dict "root" .root "backend" "mongodb" "var" "MONGODB_URI" "prefix" "MONGODB" "secret" .secret) | trim }}
{{- end }}

{{- define "invoicer.env.rabbitmq" -}}
{{ include "invoicer.backend.env" (dict "root" .root "backend" "rabbitmq" "var" "AMQP_URL" "prefix" "AMQP" "secret" .secret) | trim }}
{{- end }}

{{/* JWT_SECRET, for the components whose `secrets` list jwt (auth and gateway). */}}
{{- define "invoicer.env.jwt" -}}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "invoicer.secretName" . }}
      key: JWT_SECRET
{{- end }}

{{/* SMTP credentials, for the components whose `secrets` list smtp (notification); absent keys mean no SMTP AUTH. */}}
{{- define "invoicer.env.smtp" -}}
- name: SMTP_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ include "invoicer.secretName" . }}
      key: SMTP_USERNAME
      optional: true
- name: SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "invoicer.secretName" . }}
      key: SMTP_PASSWORD
      optional: true
{{- end }}

{{/*
Checks of value combinations that the schema cannot express.
*/}}
{{- define "invoicer.validate" -}}
{{- if and .Values.secret.jwtSecret (lt (len .Values.secret.jwtSecret) 32) }}
{{- fail "secret.jwtSecret must be at least 32 characters (RFC 7518 3.2); leave it empty to have one generated" }}
{{- end }}
{{- range $backend := list "postgresql" "mongodb" "rabbitmq" }}
{{- $values := index $.Values $backend }}
{{- if and $.Values.secret.existingSecret (or $values.url $values.password) }}
{{- fail (printf "%s.url and %s.password are kept in the chart's Secret, which secret.existingSecret replaces: put the credential in a Secret of your own and name it in %s.existingSecret" $backend $backend $backend) }}
{{- end }}
{{- if and $values.existingSecretUrlKey (not $values.existingSecret) }}
{{- fail (printf "%s.existingSecretUrlKey needs %s.existingSecret" $backend $backend) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Pod-level pieces shared by every workload. Call with (dict "root" $ "component" "gateway").
*/}}
{{- define "invoicer.podMetadata" -}}
labels:
  {{- include "invoicer.componentLabels" . | nindent 2 }}
  {{- include "invoicer.clientLabels" . | nindent 2 }}
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ include (print .root.Template.BasePath "/configmap.yaml") .root | sha256sum }}
  checksum/secret: {{ include (print .root.Template.BasePath "/secret.yaml") .root | sha256sum }}
  {{- with .root.Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/*
Call with (dict "root" $ "component" "gateway"). Scheduling (nodeSelector,
tolerations, affinity) is the component's own when it sets one, else the
chart-wide value.
*/}}
{{- define "invoicer.podSpecCommon" -}}
{{- $c := index .root.Values.components .component | default dict }}
{{- with .root.Values }}
{{- with .imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .podSecurityContext | nindent 2 }}
{{- with $c.nodeSelector | default .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.affinity | default .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.tolerations | default .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .tmpSizeLimit }}
{{- end }}
{{- end }}

{{/* Container-level pieces shared by every container. */}}
{{- define "invoicer.containerCommon" -}}
image: {{ include "invoicer.image" . | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end }}

{{/*
The environment of one long-running component, in this order: where it
listens (components.<name>.http.bindSetting and, with metrics on, METRICS_PORT;
else HEALTH_PORT), the keys of
the chart's Secret it reads (components.<name>.secrets), the connection of
each backend it uses (components.<name>.uses). Call with (dict "root" $
"component" "gateway").
*/}}
{{- define "invoicer.componentEnv" -}}
{{- $root := .root }}
{{- $c := index $root.Values.components .component }}
{{- if $c.http }}
- name: {{ $c.http.bindSetting }}
  value: {{ printf "0.0.0.0:%d" (int $c.http.port) | quote }}
{{- if include "invoicer.metricsEnabled" $root }}
- name: METRICS_PORT
  value: {{ $root.Values.metrics.port | int | toString | quote }}
{{- end }}
{{- else if $c.healthPort }}
- name: HEALTH_PORT
  value: {{ $c.healthPort | int | toString | quote }}
{{- end }}
{{- $secrets := $c.secrets | default (list) }}
{{- if has "jwt" $secrets }}
{{ include "invoicer.env.jwt" $root }}
{{- end }}
{{- if has "smtp" $secrets }}
{{ include "invoicer.env.smtp" $root }}
{{- end }}
{{- range $backend := list "postgresql" "mongodb" "rabbitmq" }}
{{- if has $backend ($c.uses | default (list)) }}
{{ include (printf "invoicer.env.%s" $backend) (dict "root" $root "secret" (include "invoicer.secretName" $root)) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Liveness and readiness probes. Call with (dict "root" $ "port" "http" "ready" "/readyz"). */}}
{{- define "invoicer.probes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  {{- toYaml .root.Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet:
    path: {{ .ready }}
    port: {{ .port }}
  {{- toYaml .root.Values.probes.readiness | nindent 2 }}
{{- end }}

{{/*
Secret data for the credentials given in values (URLs and passwords), shared by
the chart's Secret and the migration hook's Secret. Only those of the
backends listed when called with (dict "root" $ "only" (list "postgresql")).
*/}}
{{- define "invoicer.credentialData" -}}
{{- $root := .root | default . }}
{{- $backends := list (list "postgresql" "DATABASE_URL" "DATABASE") (list "mongodb" "MONGODB_URI" "MONGODB") (list "rabbitmq" "AMQP_URL" "AMQP") }}
{{- range $backend := $backends }}
{{- $key := index $backend 0 }}
{{- if or (not $.only) (has $key $.only) }}
{{- $values := index $root.Values $key }}
{{- if $values.url }}
{{ index $backend 1 }}: {{ $values.url | b64enc | quote }}
{{- else if $values.password }}
{{ index $backend 2 }}_PASSWORD: {{ $values.password | b64enc | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* A PodDisruptionBudget for one component. Call with (dict "root" $ "component" "auth"). */}}
{{- define "invoicer.pdb" -}}
{{- $values := index .root.Values.components .component }}
{{- if dig "pdb" "enabled" false $values }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "invoicer.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "invoicer.componentLabels" . | nindent 4 }}
spec:
  maxUnavailable: {{ $values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "invoicer.componentSelectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/* A CPU HorizontalPodAutoscaler for one component. Call with (dict "root" $ "component" "gateway"). */}}
{{- define "invoicer.hpa" -}}
{{- $values := index .root.Values.components .component }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "invoicer.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "invoicer.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "invoicer.componentName" . }}
  minReplicas: {{ $values.autoscaling.minReplicas }}
  maxReplicas: {{ $values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $values.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}

{{/*
Annotations of every invoicer workload. The one suppression: invoicer reads
its settings, secrets included, only from environment variables
(src/invoicer/common/config.py), so secrets cannot be mounted as files.
*/}}
{{- define "invoicer.workloadAnnotations" -}}
checkov.io/skip1: CKV_K8S_35=invoicer reads its settings, secrets included, only from environment variables
{{- end }}

{{/* "true" when the HTTP components serve /metrics (metrics.enabled, or the monitors that need it), else "". */}}
{{- define "invoicer.metricsEnabled" -}}
{{- if or .Values.metrics.enabled .Values.metrics.serviceMonitor.enabled }}true{{ end }}
{{- end }}

{{/* "true" when the Prometheus Operator's kinds may be rendered (the API is there, or assumed). */}}
{{- define "invoicer.monitoringApi" -}}
{{- if or (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") .Values.metrics.assumeMonitoringCRDs }}true{{ end }}
{{- end }}

{{/* The port of one component's GET /metrics: metrics.port for an HTTP one, else its healthPort. */}}
{{- define "invoicer.metricsPort" -}}
{{- $c := index .root.Values.components .component }}
{{- ternary .root.Values.metrics.port $c.healthPort (hasKey $c "http") | int }}
{{- end }}
