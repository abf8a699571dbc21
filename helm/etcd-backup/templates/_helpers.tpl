{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "etcd-backup.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart unless the release name already holds it.
     52 characters at most: the CronJob controller appends 11 for its Jobs. */}}
{{- define "etcd-backup.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "etcd-backup.selectorLabels" -}}
app.kubernetes.io/name: {{ include "etcd-backup.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "etcd-backup.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "etcd-backup.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "etcd-backup.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "etcd-backup.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "etcd-backup.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The store URL given to --to / --from. */}}
{{- define "etcd-backup.storeURL" -}}
{{- $s := .Values.store }}
{{- if eq $s.type "s3" }}
{{- $bucket := required "store.s3.bucket is required when store.type is s3" $s.s3.bucket }}
{{- if $s.s3.prefix }}
{{- printf "s3://%s/%s" $bucket (trimAll "/" $s.s3.prefix) }}
{{- else }}
{{- printf "s3://%s" $bucket }}
{{- end }}
{{- else if eq $s.type "azblob" }}
{{- $acct := required "store.azblob.account is required when store.type is azblob" $s.azblob.account }}
{{- $cont := required "store.azblob.container is required when store.type is azblob" $s.azblob.container }}
{{- if $s.azblob.prefix }}
{{- printf "azblob://%s/%s/%s" $acct $cont (trimAll "/" $s.azblob.prefix) }}
{{- else }}
{{- printf "azblob://%s/%s" $acct $cont }}
{{- end }}
{{- else if or (eq $s.type "hostPath") (eq $s.type "pvc") }}
{{- $s.mountPath }}
{{- else }}
{{- fail (printf "store.type must be hostPath, pvc, s3 or azblob (got %q)" $s.type) }}
{{- end }}
{{- end }}

{{/* Store flags as YAML list items: include with (list . "--to"). */}}
{{- define "etcd-backup.storeArgs" -}}
{{- $root := index . 0 }}
{{- $flag := index . 1 }}
- {{ $flag }}
- {{ include "etcd-backup.storeURL" $root | quote }}
{{- if eq $root.Values.store.type "s3" }}
{{- with $root.Values.store.s3.endpoint }}
- --s3-endpoint
- {{ . | quote }}
{{- end }}
{{- with $root.Values.store.s3.region }}
- --s3-region
- {{ . | quote }}
{{- end }}
{{- end }}
{{- if eq $root.Values.store.type "azblob" }}
{{- with $root.Values.store.azblob.endpoint }}
- --azure-endpoint
- {{ . | quote }}
{{- end }}
{{- with $root.Values.store.azblob.endpointSuffix }}
- --azure-endpoint-suffix
- {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* "true" when a hostPath with root-only files is mounted: kubeadm's
     certificates (mode 0600, root), the control-plane folder, a hostPath store or the textfile
     folder (created root-owned by DirectoryOrCreate). */}}
{{- define "etcd-backup.needsRoot" -}}
{{- if or (and .Values.etcd.tls.enabled (eq .Values.etcd.tls.source "hostPath")) (eq .Values.store.type "hostPath") .Values.metrics.textfile.enabled .Values.controlPlane.enabled }}true{{ end }}
{{- end }}

{{- define "etcd-backup.podSecurityContext" -}}
{{- $base := dict "seccompProfile" (dict "type" "RuntimeDefault") }}
{{- if include "etcd-backup.needsRoot" . }}
{{- $_ := merge $base (dict "runAsUser" 0 "runAsGroup" 0 "runAsNonRoot" false) }}
{{- else }}
{{- $_ := merge $base (dict "runAsUser" 65532 "runAsGroup" 65532 "runAsNonRoot" true "fsGroup" 65532) }}
{{- end }}
{{- toYaml (mergeOverwrite $base (deepCopy .Values.podSecurityContext)) }}
{{- end }}

{{/* "true" when the store is a folder the pod mounts (hostPath, pvc). */}}
{{- define "etcd-backup.storeMounted" -}}
{{- if or (eq .Values.store.type "hostPath") (eq .Values.store.type "pvc") }}true{{ end }}
{{- end }}

{{/* The store's credentials from its existing Secret, as env list items
     (nothing when there is none: IRSA, Pod Identity, instance roles). */}}
{{- define "etcd-backup.storeEnv" -}}
{{- $store := .Values.store }}
{{- if and (eq $store.type "s3") $store.s3.existingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $store.s3.existingSecret | quote }}
      key: {{ $store.s3.accessKeyIdKey | quote }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $store.s3.existingSecret | quote }}
      key: {{ $store.s3.secretAccessKeyKey | quote }}
{{- with $store.s3.sessionTokenKey }}
- name: AWS_SESSION_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $store.s3.existingSecret | quote }}
      key: {{ . | quote }}
{{- end }}
{{- else if and (eq $store.type "azblob") $store.azblob.existingSecret }}
{{- $az := $store.azblob }}
{{- if not (or $az.connectionStringKey $az.accountKeyKey $az.sasTokenKey) }}
{{- fail "store.azblob.existingSecret needs one of connectionStringKey, accountKeyKey, sasTokenKey" }}
{{- end }}
{{- range $var, $key := dict "AZURE_STORAGE_CONNECTION_STRING" $az.connectionStringKey "AZURE_STORAGE_KEY" $az.accountKeyKey "AZURE_STORAGE_SAS_TOKEN" $az.sasTokenKey }}
{{- if $key }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ $az.existingSecret | quote }}
      key: {{ $key | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
