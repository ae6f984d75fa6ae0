{{/* Common names and labels. */}}
{{- define "ratings.labels" -}}
app.kubernetes.io/part-of: ratings
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* An image from the internal registry: "ratings.image" (list $ .Values.web.image) */}}
{{- define "ratings.image" -}}
{{- $root := index . 0 -}}
{{- $img := index . 1 -}}
{{- if not $root.Values.registry -}}
{{- fail "registry must be set: images come from an internal registry only" -}}
{{- end -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $root.Values.registry) $img.repository $img.tag -}}
{{- end -}}

{{- define "ratings.pullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{ toYaml . | indent 2 }}
{{- end }}
{{- end -}}

{{- define "ratings.podSecurity" -}}
securityContext:
  runAsNonRoot: true
  seccompProfile: { type: RuntimeDefault }
{{- end -}}

{{- define "ratings.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  capabilities: { drop: [ALL] }
{{- end -}}
