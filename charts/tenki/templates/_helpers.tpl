{{/*
Names, labels and the few small snippets the workloads share, in the `helm create` conventions. Each workload
is its own template, readable top to bottom: weather/deployment.yaml and frontend/deployment.yaml (each beside
its Service), selenium.yaml (test-only) and the two `helm test` pods in tests/.
*/}}

{{/* The two workloads; the objects that are the same for both (ServiceAccount, PDB, HPA, ServiceMonitor) range
over them. */}}
{{- define "tenki.components" -}}
weather frontend
{{- end }}

{{/* Expand the name of the chart. */}}
{{- define "tenki.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A default fully qualified app name, truncated at 63 chars (DNS names); the release name when it already
contains the chart name.
*/}}
{{- define "tenki.fullname" -}}
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

{{/* The name of one component's objects: (dict "root" $ "component" "weather") -> <fullname>-weather. */}}
{{- define "tenki.componentName" -}}
{{- printf "%s-%s" (include "tenki.fullname" .root | trunc 54 | trimSuffix "-") .component }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "tenki.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels of a component: (dict "root" $ "component" "weather"). Never change on upgrade. */}}
{{- define "tenki.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tenki.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Standard labels of a component's objects: (dict "root" $ "component" "weather"). */}}
{{- define "tenki.labels" -}}
helm.sh/chart: {{ include "tenki.chart" .root }}
{{ include "tenki.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: {{ include "tenki.name" .root }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* metadata: name, namespace and labels of a component's object: (dict "root" $ "component" "weather"). */}}
{{- define "tenki.metadata" -}}
name: {{ include "tenki.componentName" . }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "tenki.labels" . | nindent 2 }}
{{- end }}

{{/* An image reference: (dict "root" $ "image" .Values.weather.image); the tag defaults to appVersion. */}}
{{- define "tenki.image" -}}
{{- $tag := default .root.Chart.AppVersion .image.tag }}
{{- if hasPrefix "sha256:" $tag }}
{{- printf "%s@%s" .image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{/*
The pod and container securityContexts of every pod run from the chart's own images: the values, as they are
(restricted by default; a null field, e.g. runAsUser on OpenShift, is left out and the platform decides).
*/}}
{{- define "tenki.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{- define "tenki.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext }}
{{- end }}

{{/* Pod labels of a component: its podLabels, then the chart's labels over them (selectors never break). */}}
{{- define "tenki.podLabels" -}}
{{- $own := fromYaml (include "tenki.labels" .) }}
{{- range $key, $value := mustMergeOverwrite (deepCopy (default (dict) .values.podLabels)) $own }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* The writable /tmp every container of ours gets, as the root filesystem is read-only. */}}
{{- define "tenki.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "tenki.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/*
Scheduling of a component's pods: (dict "root" $ "component" "weather" "values" .Values.weather).
A topology spread constraint without labelSelector gets the component's selector labels, so it counts this
Deployment's pods and no other's.
*/}}
{{- define "tenki.scheduling" -}}
{{- $v := .values }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.topologySpreadConstraints }}
{{- $selector := dict "matchLabels" (fromYaml (include "tenki.selectorLabels" $)) }}
{{- $constraints := list }}
{{- range . }}
{{- $constraint := deepCopy . }}
{{- if not (hasKey $constraint "labelSelector") }}
{{- $_ := set $constraint "labelSelector" $selector }}
{{- end }}
{{- $constraints = append $constraints $constraint }}
{{- end }}
topologySpreadConstraints:
  {{- toYaml $constraints | nindent 2 }}
{{- end }}
{{- end }}

{{/* The termination grace must cover the preStop pause and the app's own drain and grace (in seconds). */}}
{{- define "tenki.checkTerminationGrace" -}}
{{- if le (float64 .values.terminationGracePeriodSeconds) (addf .values.preStopSleepSeconds .shutdownSeconds) }}
{{- fail (printf "%s.terminationGracePeriodSeconds must exceed preStopSleepSeconds + the app's shutdown time (%v s)" .component .shutdownSeconds) }}
{{- end }}
{{- end }}

{{/* The weather pods' headless Service (weather/service-headless.yaml). */}}
{{- define "tenki.weatherHeadlessName" -}}
{{- printf "%s-headless" (include "tenki.componentName" (dict "root" . "component" "weather")) }}
{{- end }}

{{/* The frontend's WEATHER_ADDR: a gRPC dns:/// target on the headless Service, so the channel resolves every
weather pod and spreads calls over them (round_robin); the ClusterIP Service stays for everything else. */}}
{{- define "tenki.weatherAddr" -}}
{{- printf "dns:///%s.%s.svc:%d" (include "tenki.weatherHeadlessName" .) .Release.Namespace (int .Values.weather.grpcPort) }}
{{- end }}

{{/*
TRUSTED_PROXY_HOPS: the value set, or (-1) one hop behind the chart's Gateway route or Ingress, else 0; plus one
for the pod's own proxy (nginx appends the address it saw, so the client is one entry further left).
*/}}
{{- define "tenki.trustedProxyHops" -}}
{{- $hops := int .Values.frontend.rateLimit.trustedProxyHops -}}
{{- if lt $hops 0 }}{{ $hops = ternary 1 0 (or .Values.httpRoute.enabled .Values.ingress.enabled) }}{{ end }}
{{- add $hops (ternary 1 0 .Values.frontend.proxy.enabled) }}
{{- end }}

{{/*
The frontend proxy's nginx config: files/nginx-frontend.conf (the one source; make run and the tenki-proxy
image read the same file) with its two placeholders filled: nginx on frontend.port, gunicorn on loopback.
*/}}
{{- define "tenki.proxyConfig" -}}
{{- $v := .Values.frontend }}
{{- .Files.Get "files/nginx-frontend.conf" | replace "@LISTEN@" (toString (int $v.port)) | replace "@UPSTREAM@" (printf "127.0.0.1:%d" (int $v.proxy.appPort)) }}
{{- end }}

{{/* The name of the Secret holding the OWM key, or "" in demo mode. */}}
{{- define "tenki.owmSecretName" -}}
{{- if .Values.owm.existingSecret }}
{{- .Values.owm.existingSecret }}
{{- else if .Values.owm.apiKey }}
{{- printf "%s-owm" (include "tenki.fullname" .) }}
{{- end }}
{{- end }}

{{/* The parentRefs of a route: the created Gateway (a listener of it), or gateway.parentRefs. */}}
{{- define "tenki.parentRefs" -}}
{{- if .root.Values.gateway.create -}}
- group: gateway.networking.k8s.io
  kind: Gateway
  name: {{ include "tenki.fullname" .root }}
  sectionName: {{ .listener }}
{{- else if .root.Values.gateway.parentRefs -}}
{{- toYaml .root.Values.gateway.parentRefs }}
{{- else -}}
{{- fail "routes need a Gateway: set gateway.create=true or list gateway.parentRefs" }}
{{- end }}
{{- end }}

{{/*
The OpenTelemetry variables of a workload (dict root, component) when tracing.enabled; nothing otherwise.
*/}}
{{- define "tenki.tracingEnv" -}}
{{- $t := .root.Values.tracing -}}
{{- if $t.enabled -}}
{{- if not $t.endpoint }}{{ fail "tracing.enabled needs tracing.endpoint (the collector's OTLP/HTTP URL)" }}{{ end -}}
{{- $attributes := printf "k8s.namespace.name=%s,service.namespace=%s" .root.Release.Namespace .root.Release.Name -}}
{{- with $t.resourceAttributes }}{{ $attributes = printf "%s,%s" $attributes . }}{{ end -}}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $t.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: http/protobuf
- name: OTEL_SERVICE_NAME
  value: {{ printf "tenki-%s" .component | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $t.sampler | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $t.samplerArg | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ $attributes | quote }}
{{- end -}}
{{- end }}

{{/*
The trace collector's port, from tracing.endpoint (4318 or 443/80 by scheme when the URL names none).
*/}}
{{- define "tenki.collectorPort" -}}
{{- $url := urlParse .Values.tracing.endpoint -}}
{{- $hostPort := splitList ":" $url.host -}}
{{- if gt (len $hostPort) 1 -}}{{ last $hostPort }}{{- else if eq $url.scheme "https" -}}443{{- else -}}80{{- end -}}
{{- end }}

{{/*
The egress rules every workload shares when networkPolicy.egress.enabled: DNS, the collector, extraRules.
*/}}
{{- define "tenki.commonEgress" -}}
- to:
    - namespaceSelector: {}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- if .Values.tracing.enabled }}
# The trace collector (tracing.endpoint).
- ports:
    - port: {{ include "tenki.collectorPort" . | int }}
      protocol: TCP
  {{- with .Values.tracing.collectorPeers }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- with .Values.networkPolicy.egress.extraRules }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
REDIS_URL of the weather pods: the chart's own server (redis.enabled), redis.url, or "" (no shared state).
*/}}
{{- define "tenki.redisUrl" -}}
{{- if and .Values.redis.enabled .Values.redis.url }}
{{- fail "redis: set redis.enabled (the chart runs Valkey) or redis.url (a server you run), not both" }}
{{- end }}
{{- if .Values.redis.enabled }}
{{- printf "redis://%s.%s.svc:%d/0" (include "tenki.componentName" (dict "root" . "component" "redis")) .Release.Namespace (int .Values.redis.port) }}
{{- else }}
{{- .Values.redis.url }}
{{- end }}
{{- end }}

{{/* The most weather pods that can run at once: maxReplicas with the HPA, else replicaCount. */}}
{{- define "tenki.weatherMaxPods" -}}
{{- if .Values.weather.autoscaling.enabled }}
{{- .Values.weather.autoscaling.maxReplicas }}
{{- else }}
{{- .Values.weather.replicaCount }}
{{- end }}
{{- end }}
