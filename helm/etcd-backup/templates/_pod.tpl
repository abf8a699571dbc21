{{/* The pod spec of the backup container: include with
     (dict "root" . "mode" "snapshot") for the CronJob's Jobs, or "replicate"
     for the continuous-backup Deployment (same mounts, keys and store). */}}
{{- define "etcd-backup.podSpec" -}}
{{- $root := .root }}
{{- $mode := .mode }}
{{- $replicate := eq $mode "replicate" }}
{{- $tls := $root.Values.etcd.tls }}
{{- $store := $root.Values.store }}
{{- $lock := $store.s3.objectLock }}
{{- $enc := $root.Values.encryption }}
{{- $sign := $root.Values.signing -}}
{{- $cp := $root.Values.controlPlane -}}
{{- if and $cp.enabled (not $enc.ageRecipients) (not $enc.recipientsConfigMap.name) (not $cp.storePrivateKeysUnencrypted) }}
{{- fail "controlPlane.enabled stores the cluster's private keys: set encryption.ageRecipients (or encryption.recipientsConfigMap), or controlPlane.storePrivateKeysUnencrypted=true" }}
{{- end }}
restartPolicy: {{ if $replicate }}Always{{ else }}Never{{ end }}
serviceAccountName: {{ include "etcd-backup.serviceAccountName" $root }}
automountServiceAccountToken: {{ $root.Values.automountServiceAccountToken }}
hostNetwork: {{ $root.Values.hostNetwork }}
{{- with $root.Values.dnsPolicy }}
dnsPolicy: {{ . }}
{{- end }}
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
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
securityContext:
  {{- include "etcd-backup.podSecurityContext" $root | nindent 2 }}
containers:
  - name: etcd-backup
    image: {{ include "etcd-backup.image" $root | quote }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    command: ["etcd-backup"]
    args:
      - {{ $mode }}
      - --endpoints
      - {{ join "," $root.Values.etcd.endpoints | quote }}
      {{- if $tls.enabled }}
      - --cacert
      - {{ printf "%s/%s" $tls.mountPath $tls.caFile | quote }}
      - --cert
      - {{ printf "%s/%s" $tls.mountPath $tls.certFile | quote }}
      - --key
      - {{ printf "%s/%s" $tls.mountPath $tls.keyFile | quote }}
      {{- end }}
      {{- include "etcd-backup.storeArgs" (list $root "--to") | trim | nindent 6 }}
      {{- if and (eq $store.type "s3") $lock.mode }}
      - --s3-object-lock-mode
      - {{ $lock.mode | quote }}
      - --s3-object-lock-days
      - {{ $lock.days | int | quote }}
      {{- end }}
      {{- if and (eq $store.type "s3") $store.s3.sse }}
      - --s3-sse
      - {{ $store.s3.sse | quote }}
      {{- with $store.s3.sseKmsKeyId }}
      - --s3-sse-kms-key-id
      - {{ . | quote }}
      {{- end }}
      {{- end }}
      {{- range $enc.ageRecipients }}
      - --age-recipient
      - {{ . | quote }}
      {{- end }}
      {{- if $enc.recipientsConfigMap.name }}
      - --age-recipients-file
      - {{ printf "/etc/etcd-backup/age/%s" $enc.recipientsConfigMap.key | quote }}
      {{- end }}
      {{- if $sign.secretName }}
      - --sign-key
      - {{ printf "/etc/etcd-backup/sign/%s" $sign.key | quote }}
      {{- end }}
      {{- if $cp.enabled }}
      - --control-plane
      - {{ $cp.hostPath | quote }}
      {{- if $cp.storePrivateKeysUnencrypted }}
      - --control-plane-store-private-keys-unencrypted
      {{- end }}
      {{- end }}
      {{- with $root.Values.tag }}
      - --tag
      - {{ . | quote }}
      {{- end }}
      {{- if $replicate }}
      - --segment-interval
      - {{ $root.Values.replicate.segmentInterval | quote }}
      - --full-interval
      - {{ $root.Values.replicate.fullInterval | quote }}
      {{- else }}
      {{- range $k := list "keepLast" "keepHourly" "keepDaily" "keepWeekly" "keepMonthly" }}
      {{- $v := index $root.Values.retention $k | default 0 | int }}
      {{- if gt $v 0 }}
      - --{{ kebabcase $k }}
      - {{ $v | quote }}
      {{- end }}
      {{- end }}
      {{- end }}
      {{- if $root.Values.metrics.textfile.enabled }}
      - --metrics-file
      - {{ printf "/metrics/%s" (ternary $root.Values.replicate.metricsFileName $root.Values.metrics.textfile.fileName $replicate) | quote }}
      {{- end }}
      {{- if not $replicate }}
      {{- with $root.Values.metrics.pushgateway.url }}
      - --pushgateway-url
      - {{ . | quote }}
      {{- end }}
      {{- end }}
      {{- if eq $root.Values.logFormat "json" }}
      - --log-format
      - json
      {{- end }}
      {{- with $root.Values.extraArgs }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- $creds := include "etcd-backup.storeEnv" $root }}
    {{- if or $creds $root.Values.extraEnv }}
    env:
      {{- with $creds }}
      {{- . | trim | nindent 6 }}
      {{- end }}
      {{- with $root.Values.extraEnv }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- end }}
    {{- with $root.Values.extraEnvFrom }}
    envFrom:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $root.Values.resources }}
    resources:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    securityContext:
      {{- toYaml $root.Values.securityContext | nindent 6 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
      {{- if $tls.enabled }}
      - name: etcd-pki
        mountPath: {{ $tls.mountPath | quote }}
        readOnly: true
      {{- end }}
      {{- if include "etcd-backup.storeMounted" $root }}
      - name: store
        mountPath: {{ $store.mountPath | quote }}
      {{- end }}
      {{- if $root.Values.metrics.textfile.enabled }}
      - name: metrics
        mountPath: /metrics
      {{- end }}
      {{- if $enc.recipientsConfigMap.name }}
      - name: age-recipients
        mountPath: /etc/etcd-backup/age
        readOnly: true
      {{- end }}
      {{- if $sign.secretName }}
      - name: sign-key
        mountPath: /etc/etcd-backup/sign
        readOnly: true
      {{- end }}
      {{- if $cp.enabled }}
      - name: control-plane
        mountPath: {{ $cp.hostPath | quote }}
        readOnly: true
      {{- range $i, $p := $cp.extraHostPaths }}
      - name: {{ printf "control-plane-%d" $i }}
        mountPath: {{ $p | quote }}
        readOnly: true
      {{- end }}
      {{- end }}
      {{- with $root.Values.extraVolumeMounts }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
  {{- if $tls.enabled }}
  - name: etcd-pki
    {{- if eq $tls.source "hostPath" }}
    hostPath:
      path: {{ $tls.hostPath | quote }}
      type: Directory
    {{- else }}
    secret:
      secretName: {{ $tls.secretName | quote }}
      # Group-readable: the non-root user reads them through fsGroup.
      defaultMode: 0440
    {{- end }}
  {{- end }}
  {{- if eq $store.type "hostPath" }}
  - name: store
    hostPath:
      path: {{ $store.hostPath.path | quote }}
      type: {{ $store.hostPath.type }}
  {{- else if eq $store.type "pvc" }}
  - name: store
    persistentVolumeClaim:
      claimName: {{ default (include "etcd-backup.fullname" $root) $store.pvc.existingClaim | quote }}
  {{- end }}
  {{- if $root.Values.metrics.textfile.enabled }}
  - name: metrics
    hostPath:
      path: {{ $root.Values.metrics.textfile.hostPath | quote }}
      type: DirectoryOrCreate
  {{- end }}
  {{- if $enc.recipientsConfigMap.name }}
  - name: age-recipients
    configMap:
      name: {{ $enc.recipientsConfigMap.name | quote }}
  {{- end }}
  {{- if $sign.secretName }}
  - name: sign-key
    secret:
      secretName: {{ $sign.secretName | quote }}
      # Group-readable: the non-root user reads it through fsGroup.
      defaultMode: 0440
  {{- end }}
  {{- if $cp.enabled }}
  - name: control-plane
    hostPath:
      path: {{ $cp.hostPath | quote }}
      type: Directory
  {{- range $i, $p := $cp.extraHostPaths }}
  - name: {{ printf "control-plane-%d" $i }}
    hostPath:
      path: {{ $p | quote }}
      type: Directory
  {{- end }}
  {{- end }}
  {{- with $root.Values.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
