{{/* Names, labels and the values several templates share. */}}

{{- define "mcp-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name: "<release>-mcp-gateway", or the release name when it already contains the chart name. */}}
{{- define "mcp-gateway.fullname" -}}
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

{{- define "mcp-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mcp-gateway.labels" -}}
helm.sh/chart: {{ include "mcp-gateway.chart" . }}
{{ include "mcp-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mcp-gateway
{{- end }}

{{- define "mcp-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mcp-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mcp-gateway.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret and key holding DATABASE_URL; fails when neither an existing Secret nor a URL is given. */}}
{{- define "mcp-gateway.databaseSecretName" -}}
{{- if and .Values.database.existingSecret .Values.database.url }}
{{- fail "database: set database.existingSecret or database.url, not both" }}
{{- else if .Values.database.existingSecret }}
{{- .Values.database.existingSecret }}
{{- else if .Values.database.url }}
{{- printf "%s-database" (include "mcp-gateway.fullname" .) }}
{{- else }}
{{- fail "database: set database.existingSecret (a Secret with the PostgreSQL URL) or database.url" }}
{{- end }}
{{- end }}

{{- define "mcp-gateway.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}{{ .Values.database.existingSecretKey }}{{ else }}DATABASE_URL{{ end }}
{{- end }}

{{- define "mcp-gateway.sessionSecretName" -}}
{{- default (printf "%s-session" (include "mcp-gateway.fullname" .)) .Values.sessionSecret.existingSecret }}
{{- end }}

{{- define "mcp-gateway.sessionSecretKey" -}}
{{- if .Values.sessionSecret.existingSecret }}{{ .Values.sessionSecret.existingSecretKey }}{{ else }}MCP_SESSION_SECRET{{ end }}
{{- end }}

{{/* The servers file as stored in the ConfigMap. */}}
{{- define "mcp-gateway.serversFile" -}}
{{ dict "servers" (default (dict) .Values.servers) | toYaml }}
{{- end }}

{{/* Every env://NAME a server's credential_ref uses must be provided by secretEnv or env. */}}
{{- define "mcp-gateway.checkCredentialRefs" -}}
{{- range $server, $config := (default (dict) .Values.servers) }}
{{- with $config.auth }}
{{- $ref := default "" .credential_ref }}
{{- if hasPrefix "env://" $ref }}
{{- $variable := trimPrefix "env://" $ref }}
{{- if not (or (hasKey $.Values.secretEnv $variable) (hasKey $.Values.env $variable)) }}
{{- fail (printf "servers.%s.auth.credential_ref is %s: add secretEnv.%s (secretName, key) so the gateway can resolve it" $server $ref $variable) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod-level parts shared by the Deployment and the migration Job. */}}
{{- define "mcp-gateway.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{- define "mcp-gateway.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "mcp-gateway.databaseSecretName" . }}
      key: {{ include "mcp-gateway.databaseSecretKey" . }}
{{- end }}

{{/* Variables the chart sets itself may not be repeated in env or secretEnv (a duplicate breaks server-side apply). */}}
{{- define "mcp-gateway.checkEnvNames" -}}
{{- $reserved := list "MCP_GATEWAY_HOST" "MCP_GATEWAY_PORT" "WEB_CONCURRENCY" "MCP_SERVERS_FILE" "DATABASE_URL" "DATABASE_AUTO_MIGRATE" "MCP_SESSION_SECRET" "LOG_LEVEL" "AUTH_ENABLED" "KEYCLOAK_URL" "KEYCLOAK_REALM" "JWT_ALGORITHM" "OIDC_ISSUER" "JWT_JWKS_URL" "JWT_AUDIENCE" "MCP_RESOURCE_SERVER_URL" "MCP_ALLOWED_ORIGINS" "EXPOSE_SERVER_TOOL_NAMES" "AUDIT_TO_STDOUT" "AUDIT_LOG_FILE" "POD_NAME" "POD_NAMESPACE" "OTEL_SERVICE_NAME" "OTEL_RESOURCE_ATTRIBUTES" "OTEL_EXPORTER_OTLP_ENDPOINT" "OTEL_EXPORTER_OTLP_PROTOCOL" "OTEL_TRACES_SAMPLER" "OTEL_TRACES_SAMPLER_ARG" "OTEL_TRACES_EXPORTER" }}
{{- range $name, $_ := .Values.env }}
{{- if has $name $reserved }}
{{- fail (printf "env.%s: set by the chart; use its own value (see values.yaml) instead" $name) }}
{{- end }}
{{- if hasKey $.Values.secretEnv $name }}
{{- fail (printf "env.%s: also in secretEnv; keep one" $name) }}
{{- end }}
{{- end }}
{{- range $name, $_ := .Values.secretEnv }}
{{- if has $name $reserved }}
{{- fail (printf "secretEnv.%s: set by the chart; use its own value (see values.yaml) instead" $name) }}
{{- end }}
{{- end }}
{{- end }}
