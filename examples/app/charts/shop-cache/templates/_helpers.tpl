{{/*
The chart's name, overridable with nameOverride.
*/}}
{{- define "shop-cache.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A fully qualified name: the release name, plus the chart name unless the release name already
holds it. Truncated to 63 characters (DNS names).
*/}}
{{- define "shop-cache.fullname" -}}
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

{{/*
chart label: name-version.
*/}}
{{- define "shop-cache.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "shop-cache.labels" -}}
helm.sh/chart: {{ include "shop-cache.chart" . }}
{{ include "shop-cache.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels.
*/}}
{{- define "shop-cache.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shop-cache.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The Secret holding the password.
*/}}
{{- define "shop-cache.secretName" -}}
{{ include "shop-cache.fullname" . }}-auth
{{- end }}
