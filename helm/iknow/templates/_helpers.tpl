{{/* Names, labels, images and the shared pod pieces of the iknow chart. */}}

{{- define "iknow.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-wide prefix of every object name. */}}
{{- define "iknow.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's objects: (dict "root" $ "name" "actor-catalog"). */}}
{{- define "iknow.componentName" -}}
{{- printf "%s-%s" (include "iknow.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "iknow.configMapName" -}}
{{- printf "%s-config" (include "iknow.fullname" .) -}}
{{- end -}}

{{- define "iknow.secretName" -}}
{{- if .Values.secrets.create -}}
{{- printf "%s-secrets" (include "iknow.fullname" .) -}}
{{- else -}}
{{- required "secrets.existingSecret is required when secrets.create is false" .Values.secrets.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "name" "gateway"). */}}
{{- define "iknow.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* Every label of one component. */}}
{{- define "iknow.labels" -}}
{{ include "iknow.selectorLabels" . }}
app.kubernetes.io/part-of: {{ include "iknow.name" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Labels of release-wide objects (ConfigMap, Secret, NetworkPolicies). */}}
{{- define "iknow.commonLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: {{ include "iknow.name" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Image of one binary: (dict "root" $ "name" "actor-catalog"). */}}
{{- define "iknow.image" -}}
{{- $img := .root.Values.image -}}
{{- $tag := $img.tag | default .root.Chart.AppVersion -}}
{{- if $img.registry -}}
{{- printf "%s/%s/%s:%s" $img.registry $img.repositoryPrefix .name $tag -}}
{{- else -}}
{{- printf "%s/%s:%s" $img.repositoryPrefix .name $tag -}}
{{- end -}}
{{- end -}}

{{/* Environment of one container: the ConfigMap, then secret keys, then plain values.
     (dict "root" $ "secretEnv" map "env" map) */}}
{{- define "iknow.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "iknow.configMapName" .root }}
{{- if or .secretEnv .env }}
env:
{{- range $var, $key := .secretEnv }}
  - name: {{ $var }}
    valueFrom:
      secretKeyRef:
        name: {{ include "iknow.secretName" $.root }}
        key: {{ $key }}
{{- end }}
{{- range $var, $value := .env }}
  - name: {{ $var }}
    value: {{ $value | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every workload. */}}
{{- define "iknow.podSpecCommon" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
