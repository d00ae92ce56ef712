{{/*
Names and labels, in the `helm create` conventions, plus one helper for every block the weather service
and the frontend would otherwise repeat: the workloads themselves are rendered by one loop (deployment.yaml)
and differ only in tenki.<component>.container (ports, env, probes) below.
*/}}

{{/* The two workloads; every per-component object ranges over this list. */}}
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

{{/* The pod securityContext of every pod the chart runs (its own images run as the numeric USER 10001). */}}
{{- define "tenki.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
fsGroup: {{ .Values.podSecurityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The container securityContext: no privileges, no capabilities, a read-only root filesystem. */}}
{{- define "tenki.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
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

{{/* Scheduling settings of a component's pods: the component's values. */}}
{{- define "tenki.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The address of the weather service's gRPC API inside the cluster (the frontend's WEATHER_ADDR). */}}
{{- define "tenki.weatherAddr" -}}
{{- printf "%s.%s.svc:%d" (include "tenki.componentName" (dict "root" . "component" "weather")) .Release.Namespace (int .Values.weather.grpcPort) }}
{{- end }}

{{/* TRUSTED_PROXY_HOPS: the value set, or (-1) one hop behind the chart's Gateway route or Ingress, else 0. */}}
{{- define "tenki.trustedProxyHops" -}}
{{- $hops := int .Values.frontend.rateLimit.trustedProxyHops -}}
{{- if ge $hops 0 }}{{ $hops }}{{ else if or .Values.httpRoute.enabled .Values.ingress.enabled }}1{{ else }}0{{ end }}
{{- end }}

{{/* The name of the Secret holding the OWM key, or "" in demo mode. */}}
{{- define "tenki.owmSecretName" -}}
{{- if .Values.owm.existingSecret }}
{{- .Values.owm.existingSecret }}
{{- else if .Values.owm.apiKey }}
{{- printf "%s-owm" (include "tenki.fullname" .) }}
{{- end }}
{{- end }}

{{/*
The weather service's container: ports, env (exactly the names tenki_weather.config.WeatherSettings reads)
and the kubelet's native gRPC probes on grpc.health.v1.
*/}}
{{- define "tenki.weather.container" -}}
{{- $v := .Values.weather -}}
ports:
  - name: grpc
    containerPort: {{ $v.grpcPort }}
    protocol: TCP
  - name: metrics
    containerPort: {{ $v.metricsPort }}
    protocol: TCP
env:
  {{- with (include "tenki.owmSecretName" .) }}
  # The key comes from a Secret only, never as a literal value.
  - name: OWM_API_KEY
    valueFrom:
      secretKeyRef:
        name: {{ . }}
        key: {{ $.Values.owm.existingSecretKey }}
  {{- end }}
  {{- with .Values.owm.baseUrl }}
  - name: OWM_BASE_URL
    value: {{ . | quote }}
  {{- end }}
  - name: OWM_TIMEOUT_SECONDS
    value: {{ .Values.owm.timeoutSeconds | quote }}
  - name: OWM_RATE_LIMIT_PER_MINUTE
    value: {{ .Values.owm.rateLimitPerMinute | quote }}
  {{- with $v.provider }}
  - name: WEATHER_PROVIDER
    value: {{ . | quote }}
  {{- end }}
  - name: CACHE_TTL_SECONDS
    value: {{ $v.cache.ttlSeconds | quote }}
  - name: CACHE_MAX_ENTRIES
    value: {{ $v.cache.maxEntries | quote }}
  - name: STALE_IF_ERROR_SECONDS
    value: {{ $v.cache.staleIfErrorSeconds | quote }}
  - name: GRPC_RATE_LIMIT_UPSTREAM
    value: {{ $v.rateLimit.upstream | quote }}
  - name: GRPC_RATE_LIMIT_EXEMPT
    value: {{ $v.rateLimit.exempt | quote }}
  - name: WEATHER_HOST
    value: "0.0.0.0"
  - name: WEATHER_PORT
    value: {{ $v.grpcPort | quote }}
  - name: WEATHER_MAX_WORKERS
    value: {{ $v.maxWorkers | quote }}
  - name: METRICS_PORT
    value: {{ $v.metricsPort | quote }}
  - name: SHUTDOWN_GRACE_SECONDS
    value: {{ $v.shutdownGraceSeconds | quote }}
  - name: SHUTDOWN_DRAIN_SECONDS
    value: {{ $v.shutdownDrainSeconds | quote }}
  - name: LOG_LEVEL
    value: {{ $v.logLevel | quote }}
# Kubelet-native gRPC probes (grpc.health.v1): ready while the service says SERVING for its own name;
# it flips to NOT_SERVING on SIGTERM, so the pod leaves the endpoints before the listener closes.
startupProbe:
  grpc:
    port: {{ $v.grpcPort }}
    service: ""
  periodSeconds: 2
  failureThreshold: 30
readinessProbe:
  grpc:
    port: {{ $v.grpcPort }}
    service: tenki.weather.v1.WeatherService
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 2
livenessProbe:
  grpc:
    port: {{ $v.grpcPort }}
    service: ""
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
{{- end }}

{{/*
The frontend's container: the HTTP port, env (exactly the names tenki_frontend.config.FrontendSettings
reads) and HTTP probes: /readyz (the weather service answers) and /healthz (the process is alive).
*/}}
{{- define "tenki.frontend.container" -}}
{{- $v := .Values.frontend -}}
ports:
  - name: http
    containerPort: {{ $v.port }}
    protocol: TCP
env:
  - name: FRONTEND_HOST
    value: "0.0.0.0"
  - name: FRONTEND_PORT
    value: {{ $v.port | quote }}
  - name: WEATHER_ADDR
    value: {{ include "tenki.weatherAddr" . | quote }}
  - name: WEATHER_DEADLINE_SECONDS
    value: {{ $v.weatherDeadlineSeconds | quote }}
  - name: GUNICORN_WORKERS
    value: {{ $v.gunicorn.workers | quote }}
  - name: GUNICORN_THREADS
    value: {{ $v.gunicorn.threads | quote }}
  - name: GUNICORN_GRACEFUL_TIMEOUT
    value: {{ $v.gunicorn.gracefulTimeout | quote }}
  - name: SHUTDOWN_DRAIN_SECONDS
    value: {{ $v.shutdownDrainSeconds | quote }}
  - name: LOG_LEVEL
    value: {{ $v.logLevel | quote }}
  - name: RATE_LIMIT_DEFAULT
    value: {{ $v.rateLimit.default | quote }}
  - name: RATE_LIMIT_UPSTREAM
    value: {{ $v.rateLimit.upstream | quote }}
  - name: TRUSTED_PROXY_HOPS
    value: {{ include "tenki.trustedProxyHops" . | quote }}
  {{- with $v.rateLimit.redisUrl }}
  - name: REDIS_URL
    value: {{ . | quote }}
  {{- end }}
  {{- with $v.rateLimit.redisPasswordSecret }}
  - name: REDIS_PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ . }}
        key: {{ $v.rateLimit.redisPasswordKey }}
  {{- end }}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 2
  failureThreshold: 30
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
{{- end }}

{{/* Seconds a component needs from SIGTERM to exit: its drain and grace (terminationGracePeriodSeconds > pause + this). */}}
{{- define "tenki.weather.shutdownSeconds" -}}
{{- addf .Values.weather.shutdownDrainSeconds .Values.weather.shutdownGraceSeconds }}
{{- end }}

{{- define "tenki.frontend.shutdownSeconds" -}}
{{- addf .Values.frontend.shutdownDrainSeconds .Values.frontend.gunicorn.gracefulTimeout }}
{{- end }}

{{/* The ports of a component's Service: the component's container ports, by name. */}}
{{- define "tenki.weather.servicePorts" -}}
- name: grpc
  port: {{ .Values.weather.grpcPort }}
  targetPort: grpc
  protocol: TCP
  # Tells Gateways and meshes to speak HTTP/2 cleartext (gRPC) to the pods.
  appProtocol: kubernetes.io/h2c
- name: metrics
  port: {{ .Values.weather.metricsPort }}
  targetPort: metrics
  protocol: TCP
{{- end }}

{{- define "tenki.frontend.servicePorts" -}}
- name: http
  port: {{ .Values.frontend.service.port }}
  targetPort: http
  protocol: TCP
  appProtocol: http
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
