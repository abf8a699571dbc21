#!/usr/bin/env bash
# The Helm chart renders for the default values (kubeadm) and for the
# Secret, IRSA, S3-with-Secret, PVC and hostPath variants (the files in
# helm/etcd-backup/ci/), and the rendered manifests are checked field by
# field (tests/it/helm_checks.py, PyYAML).  Also: helm lint, the schema
# rejects bad values, template-time errors, the NOTES text, and the
# PrometheusRule's alerts under promtool (rule unit tests).
#
# helm comes from PATH or .ci/get-helm.sh (an official helm binary shipped in
# an npm package).  Without any helm the test says so and falls back to
# static checks: values.yaml parses, the schema is valid JSON and accepts the
# default and ci values (jsonschema module, when present).
. "$(dirname "$0")/../lib.sh"
CHART="$TOP/helm/etcd-backup"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if ! "$PY" -c 'import yaml' 2>/dev/null; then
	die "python3 yaml module missing (Debian: python3-yaml)"
fi

HELM=$("$TOP/.ci/get-helm.sh" 2>"$T/get-helm.log") || HELM=""
[ -n "${EB_NO_HELM:-}" ] && { HELM=""; echo "EB_NO_HELM set" >"$T/get-helm.log"; }

if [ -z "$HELM" ]; then
	# helm comes with the tests (.ci/get-helm.sh): without it the chart is
	# not rendered, which is a failure, not a skip (EB_NO_HELM is for
	# exercising the static checks alone)
	if [ -n "${EB_NO_HELM:-}" ]; then
		echo "SKIP helm rendering: EB_NO_HELM set; static checks only"
	else
		fail helm__binary "no helm binary could be installed: $(tail -1 "$T/get-helm.log")"
	fi
	check helm__values_parse "$PY" -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$CHART/values.yaml"
	check helm__schema_json "$PY" -c 'import sys, json; json.load(open(sys.argv[1]))' "$CHART/values.schema.json"
	if "$PY" -c 'import jsonschema' 2>/dev/null; then
		for f in "$CHART/values.yaml" "$CHART"/ci/*-values.yaml; do
			check "helm__schema_accepts_$(basename "$f" .yaml)" "$PY" -c '
import json, sys, yaml, jsonschema
base = yaml.safe_load(open(sys.argv[2]))
over = yaml.safe_load(open(sys.argv[3])) or {}
def merge(a, b):
    for k, v in b.items():
        if v is None: a.pop(k, None)
        elif isinstance(v, dict) and isinstance(a.get(k), dict): merge(a[k], v)
        else: a[k] = v
    return a
jsonschema.validate(merge(base, over), json.load(open(sys.argv[1])))' \
				"$CHART/values.schema.json" "$CHART/values.yaml" "$f"
		done
	fi
	exit $((_NFAIL > 0))
fi
echo "using $HELM ($("$HELM" version --short))"

lint() { "$HELM" lint --strict "$@" >"$T/lint.log" 2>&1 || { cat "$T/lint.log"; return 1; }; }
check helm__lint lint "$CHART"
for f in "$CHART"/ci/*-values.yaml; do
	check "helm__lint_$(basename "$f" -values.yaml)" lint "$CHART" -f "$f"
done

render() { # variant [helm args]
	local v=$1; shift
	if "$HELM" template etcd-backup "$CHART" --namespace backup "$@" >"$T/$v.yaml" 2>"$T/$v.err"; then
		pass "helm__${v}__renders"
		"$PY" "$TOP/tests/it/helm_checks.py" "$v" "$T/$v.yaml"
		_NFAIL=$((_NFAIL + $?))
	else
		fail "helm__${v}__renders" "$(head -c 600 "$T/$v.err")"
	fi
}

render default
for v in secret irsa pod-identity s3-secret azblob azblob-workload-identity pvc hostpath encrypted replicate control-plane drill; do
	render "$v" -f "$CHART/ci/$v-values.yaml"
done
# every flag of the drill's two halves exists in `etcd-backup drill`
drill_help=$("$BACKUP" drill --help 2>&1)
dflags=$("$PY" -c '
import sys, yaml
seen = set()
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "CronJob" and d["metadata"]["name"].endswith("-drill"):
        p = d["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        for c in p["initContainers"][:1] + p["containers"]:
            seen.update(a for a in c["args"] if a.startswith("--"))
print(" ".join(sorted(seen)))' "$T/drill.yaml")
missing=""
for f in $dflags; do grep -q -- "$f\b" <<<"$drill_help" || missing+=" $f"; done
if [ -n "$dflags" ] && [ -z "$missing" ]; then pass helm__drill_flags_known_to_agent
else fail helm__drill_flags_known_to_agent "not in 'etcd-backup drill --help':${missing:- (no drill CronJob)}"; fi


# Every flag the chart passes exists in the agent (when it is built).
if "$BACKUP" snapshot --help 2>&1 | grep -q -- '--metrics-file'; then
	snap_help=$("$BACKUP" snapshot --help 2>&1)
	list_help=$("$BACKUP" list --help 2>&1)
	flags=$(cat "$T"/*.yaml | "$PY" -c '
import sys, yaml
seen = set()
for d in yaml.safe_load_all(sys.stdin):
    if d and d.get("kind") == "CronJob" and not d["metadata"]["name"].endswith("-drill"):
        for a in d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]:
            if a.startswith("--"):
                seen.add(a)
print(" ".join(sorted(seen)))')
	missing=""
	for f in $flags; do grep -q -- "$f\b" <<<"$snap_help" || missing+=" $f"; done
	if [ -z "$missing" ]; then pass helm__flags_known_to_agent; else fail helm__flags_known_to_agent "not in 'etcd-backup snapshot --help':$missing"; fi
	rep_help=$("$BACKUP" replicate --help 2>&1)
	rflags=$(cat "$T"/*.yaml | "$PY" -c '
import sys, yaml
seen = set()
for d in yaml.safe_load_all(sys.stdin):
    if d and d.get("kind") == "Deployment":
        for a in d["spec"]["template"]["spec"]["containers"][0]["args"]:
            if a.startswith("--"):
                seen.add(a)
print(" ".join(sorted(seen)))')
	missing=""
	for f in $rflags; do grep -q -- "$f\b" <<<"$rep_help" || missing+=" $f"; done
	if [ -n "$rflags" ] && [ -z "$missing" ]; then pass helm__replicate_flags_known_to_agent
	else fail helm__replicate_flags_known_to_agent "not in 'etcd-backup replicate --help':${missing:- (no Deployment rendered)}"; fi
	missing=""
	for f in --from --s3-endpoint --s3-region --azure-endpoint --azure-endpoint-suffix; do grep -q -- "$f\b" <<<"$list_help" || missing+=" $f"; done
	if [ -z "$missing" ]; then pass helm__notes_list_flags_known; else fail helm__notes_list_flags_known "not in 'etcd-backup list --help':$missing"; fi
else
	fail helm__flags_known_to_agent "$BACKUP snapshot --help does not list its flags"
fi

# Bad values are refused at install time, with a message that says why.
refused() { # name regex helm-args...
	local n=$1 re=$2; shift 2
	local out
	if out=$("$HELM" template x "$CHART" "$@" 2>&1); then
		fail "$n" "rendered but must be refused: $*"
	else
		expect_match "$n" "$out" "$re"
	fi
}
refused helm__refuse_s3_without_bucket 'bucket' --set store.type=s3
refused helm__refuse_bad_store 'store.type' --set store.type=nfs
refused helm__refuse_azblob_without_container 'container' --set store.type=azblob --set store.azblob.account=acct
refused helm__refuse_azblob_secret_without_key 'needs one of' --set store.type=azblob --set store.azblob.account=acct \
	--set store.azblob.container=prod --set store.azblob.existingSecret=s --set store.azblob.accountKeyKey=
refused helm__refuse_lock_without_days 'objectLock.days' --set store.type=s3 --set store.s3.bucket=bkt --set store.s3.objectLock.mode=governance
refused helm__refuse_bad_recipient 'ageRecipients' --set encryption.ageRecipients[0]=AGE-SECRET-KEY-1XYZ
refused helm__refuse_kms_key_without_kms 'sseKmsKeyId' --set store.type=s3 --set store.s3.bucket=bkt --set store.s3.sseKmsKeyId=k
refused helm__refuse_log_format 'logFormat' --set logFormat=yaml
refused helm__refuse_drill_encrypted_without_identity 'ageIdentitySecret' --set drill.enabled=true \
	--set encryption.ageRecipients[0]=age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
refused helm__refuse_negative_keep 'keepLast' --set retention.keepLast=-1
refused helm__refuse_secret_without_name 'secretName' --set etcd.tls.source=secret
refused helm__refuse_bad_schedule 'schedule' --set schedule=daily
refused helm__refuse_textfile_name 'fileName' --set metrics.textfile.enabled=true --set metrics.textfile.fileName=x.txt
refused helm__refuse_unknown_key 'additional properties|not allowed' --set nosuchkey=1
refused helm__refuse_no_endpoints 'endpoints' --set 'etcd.endpoints=null'
refused helm__refuse_control_plane_unencrypted 'private keys.*ageRecipients' --set controlPlane.enabled=true
refused helm__refuse_control_plane_relative 'hostPath' --set controlPlane.enabled=true --set controlPlane.hostPath=etc/kubernetes --set controlPlane.storePrivateKeysUnencrypted=true

# A plain-http etcd without TLS: no certificate flags and no pki volume.
if "$HELM" template x "$CHART" --set etcd.tls.enabled=false --set 'etcd.endpoints={http://127.0.0.1:2379}' >"$T/notls.yaml" 2>&1; then
	out=$(grep -cE -- '--cacert|etcd-pki' "$T/notls.yaml")
	expect_eq helm__no_tls_no_cert_flags "$out" 0
else
	fail helm__no_tls_no_cert_flags "$(head -c 300 "$T/notls.yaml")"
fi

# The PrometheusRule: off by default, and its expressions when on.
out=$("$HELM" template x "$CHART")
check helm__no_rule_by_default bash -c '! grep -q PrometheusRule <<<"$1"' _ "$out"
"$HELM" template x "$CHART" --set metrics.prometheusRule.enabled=true \
	--set metrics.prometheusRule.labels.release=kps --set metrics.prometheusRule.certWarningDays=45 >"$T/rule.yaml"
check helm__prometheus_rule "$PY" - "$T/rule.yaml" <<'PY'
import sys, yaml
rule = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "PrometheusRule"][0]
assert rule["metadata"]["labels"]["release"] == "kps"
rules = {r["alert"]: r for r in rule["spec"]["groups"][0]["rules"]}
assert rules["EtcdCertificateExpiresSoon"]["expr"] == "etcd_backup_certificate_expiry_timestamp_seconds - time() < 3888000", rules
assert rules["EtcdBackupTooOld"]["expr"] == "time() - etcd_backup_last_success_timestamp_seconds > 43200"
assert rules["EtcdBackupFailed"]["expr"] == "etcd_backup_last_run_success == 0"
assert "{{ $labels.cert }}" in rules["EtcdCertificateExpiresCritical"]["annotations"]["description"]
PY

# The rules with the default values through Prometheus's own rule engine
# (promtool from Debian's prometheus package, .ci/get-promtool.sh): they
# load, stay quiet on a healthy cluster, and fire with the right labels
# and rendered annotations for a failed run, a backup too old and
# certificates close to expiry.  Series names are the ones the agent
# writes (tests/it/t_metrics.sh checks those, and lints them with promtool).
PROMTOOL=$("$TOP/.ci/get-promtool.sh" 2>"$T/get-promtool.log") ||
	fail helm__promtool "no promtool: $(tail -1 "$T/get-promtool.log")"
if [ -n "$PROMTOOL" ]; then
	# rules_of RENDERED RULES helm-args...: the PrometheusRule's groups as
	# a rules file promtool reads
	rules_of() {
		local out=$1 rules=$2; shift 2
		mkdir -p "$(dirname "$rules")"
		"$HELM" template x "$CHART" --set metrics.prometheusRule.enabled=true "$@" >"$out"
		"$PY" -c 'import sys, yaml
rule = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "PrometheusRule"][0]
open(sys.argv[2], "w").write(yaml.safe_dump({"groups": rule["spec"]["groups"]}))' "$out" "$rules"
	}
	rules_of "$T/rule-default.yaml" "$T/rules.yaml"
	check helm__promtool_check_rules "$PROMTOOL" check rules "$T/rules.yaml"
	cat >"$T/rules-test.yaml" <<'YAML'
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  # a healthy cluster: recent success, certificates far from expiry
  - interval: 1m
    input_series:
      - series: 'etcd_backup_last_run_success{instance="cp1",job="etcd-backup"}'
        values: '1x60'
      - series: 'etcd_backup_last_success_timestamp_seconds{instance="cp1",job="etcd-backup"}'
        values: '0+60x60'
      - series: 'etcd_backup_certificate_expiry_timestamp_seconds{cert="server",endpoint="https://10.0.0.1:2379",instance="cp1",job="etcd-backup"}'
        values: '31536000x60'
    alert_rule_test:
      - {eval_time: 59m, alertname: EtcdBackupFailed, exp_alerts: []}
      - {eval_time: 59m, alertname: EtcdBackupTooOld, exp_alerts: []}
      - {eval_time: 59m, alertname: EtcdCertificateExpiresSoon, exp_alerts: []}
      - {eval_time: 59m, alertname: EtcdCertificateExpiresCritical, exp_alerts: []}
  # the last run failed: alert after 5 minutes
  - interval: 1m
    input_series:
      - series: 'etcd_backup_last_run_success{instance="cp1",job="etcd-backup"}'
        values: '0x20'
    alert_rule_test:
      - {eval_time: 4m, alertname: EtcdBackupFailed, exp_alerts: []}
      - eval_time: 6m
        alertname: EtcdBackupFailed
        exp_alerts:
          - exp_labels: {severity: warning, instance: cp1, job: etcd-backup}
            exp_annotations:
              summary: The last etcd backup run failed.
              description: "The last run on cp1 failed; see etcd_backup_failures_total for the reason and the Job's log."
  # no success for 12 hours (43200 s) + 10 minutes
  - interval: 1m
    input_series:
      - series: 'etcd_backup_last_success_timestamp_seconds{instance="cp1",job="etcd-backup"}'
        values: '0x800'
    alert_rule_test:
      - {eval_time: 12h5m, alertname: EtcdBackupTooOld, exp_alerts: []}
      - eval_time: 12h11m
        alertname: EtcdBackupTooOld
        exp_alerts:
          - exp_labels: {severity: critical, instance: cp1, job: etcd-backup}
            exp_annotations:
              summary: No successful etcd backup for more than 43200 seconds.
              description: The last successful backup reported by cp1 is 12h 11m 0s old.
  # a certificate of the control-plane bundle (kubeadm's 1-year trap)
  - interval: 1h
    input_series:
      - series: 'etcd_backup_certificate_expiry_timestamp_seconds{cert="control-plane",endpoint="",file="/etc/kubernetes/pki/apiserver.crt",instance="cp1",job="etcd-backup"}'
        values: '864000x10'
    alert_rule_test:
      - eval_time: 1h
        alertname: EtcdCertificateExpiresSoon
        exp_alerts:
          - exp_labels: {severity: warning, cert: control-plane, file: /etc/kubernetes/pki/apiserver.crt, instance: cp1, job: etcd-backup}
            exp_annotations:
              summary: An etcd certificate expires in less than 30 days.
              description: "The control-plane certificate /etc/kubernetes/pki/apiserver.crt expires in 9d 23h 0m 0s. On kubeadm: kubeadm certs check-expiration; kubeadm certs renew all."
  # certificates: 20 days left warns, under 7 days is critical
  - interval: 1h
    input_series:
      - series: 'etcd_backup_certificate_expiry_timestamp_seconds{cert="server",endpoint="https://10.0.0.1:2379",instance="cp1",job="etcd-backup"}'
        values: '1728000x400'
      - series: 'etcd_backup_certificate_expiry_timestamp_seconds{cert="client",endpoint="",instance="cp1",job="etcd-backup"}'
        values: '31536000x400'
    alert_rule_test:
      - eval_time: 1h
        alertname: EtcdCertificateExpiresSoon
        exp_alerts:
          - exp_labels: {severity: warning, cert: server, endpoint: "https://10.0.0.1:2379", instance: cp1, job: etcd-backup}
            exp_annotations:
              summary: An etcd certificate expires in less than 30 days.
              description: "The server certificate of https://10.0.0.1:2379 expires in 19d 23h 0m 0s. On kubeadm: kubeadm certs check-expiration; kubeadm certs renew all."
      - {eval_time: 1h, alertname: EtcdCertificateExpiresCritical, exp_alerts: []}
      - eval_time: 14d
        alertname: EtcdCertificateExpiresCritical
        exp_alerts:
          - exp_labels: {severity: critical, cert: server, endpoint: "https://10.0.0.1:2379", instance: cp1, job: etcd-backup}
            exp_annotations:
              summary: An etcd certificate expires in less than 7 days.
              description: The server certificate of https://10.0.0.1:2379 expires in 6d 0h 0m 0s.
YAML
	out=$(cd "$T" && "$PROMTOOL" test rules rules-test.yaml 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then pass helm__promtool_rule_tests; else fail helm__promtool_rule_tests "exit $rc: $out"; fi
	# with the replicate Deployment: a gap and a lag alert (none without it)
	"$PY" -c 'import sys, yaml
r = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "PrometheusRule"][0]
sys.exit(any(x["alert"].startswith("EtcdBackupReplication") for x in r["spec"]["groups"][0]["rules"]))' "$T/rule-default.yaml" &&
		pass helm__no_replication_alerts_without_replicate || fail helm__no_replication_alerts_without_replicate "rendered"
	rules_of "$T/rule-rep.yaml" "$T/rrep/rules.yaml" --set replicate.enabled=true
	check helm__promtool_check_replication_rules "$PROMTOOL" check rules "$T/rrep/rules.yaml"
	cat >"$T/rrep/rules-test.yaml" <<'YAML'
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  # replicating well: no alert
  - interval: 1m
    input_series:
      - series: 'etcd_backup_replicate_gaps_total{instance="cp1",job="etcd-backup"}'
        values: '0x60'
      - series: 'etcd_backup_replicate_lag_seconds{instance="cp1",job="etcd-backup"}'
        values: '0.8x60'
    alert_rule_test:
      - {eval_time: 59m, alertname: EtcdBackupReplicationGap, exp_alerts: []}
      - {eval_time: 59m, alertname: EtcdBackupReplicationLagging, exp_alerts: []}
  # a gap at minute 10; a store that stops taking segments at minute 20
  - interval: 1m
    input_series:
      - series: 'etcd_backup_replicate_gaps_total{instance="cp1",job="etcd-backup"}'
        values: '0x10 1x50'
      - series: 'etcd_backup_replicate_lag_seconds{instance="cp1",job="etcd-backup"}'
        values: '1x20 60+60x40'
    alert_rule_test:
      - eval_time: 15m
        alertname: EtcdBackupReplicationGap
        exp_alerts:
          - exp_labels: {severity: critical, instance: cp1, job: etcd-backup}
            exp_annotations:
              summary: Continuous etcd backup lost history (a gap).
              description: "etcd compacted revisions that etcd-backup replicate on cp1 had not read: no point inside the gap can be restored. A new full backup started a new chain; find why replicate was down or behind."
      - {eval_time: 24m, alertname: EtcdBackupReplicationLagging, exp_alerts: []}
      - eval_time: 30m
        alertname: EtcdBackupReplicationLagging
        exp_alerts:
          - exp_labels: {severity: warning, instance: cp1, job: etcd-backup}
            exp_annotations:
              summary: Continuous etcd backup is more than 60 seconds behind.
              description: The oldest change etcd-backup replicate on cp1 has not committed is 10m 0s old (store slow or unreachable?).
YAML
	out=$(cd "$T/rrep" && "$PROMTOOL" test rules rules-test.yaml 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then pass helm__promtool_replication_rule_tests; else fail helm__promtool_replication_rule_tests "exit $rc: $out"; fi
	# with the drill CronJob: a failed drill pages, a missing one warns
	rules_of "$T/rule-drill.yaml" "$T/rdrill/rules.yaml" --set drill.enabled=true
	check helm__promtool_check_drill_rules "$PROMTOOL" check rules "$T/rdrill/rules.yaml"
	cat >"$T/rdrill/rules-test.yaml" <<'YAML'
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  # drills pass: quiet
  - interval: 1m
    input_series:
      - series: 'etcd_backup_drill_last_run_success{instance="n1",job="etcd-backup"}'
        values: '1x60'
      - series: 'etcd_backup_drill_last_success_timestamp_seconds{instance="n1",job="etcd-backup"}'
        values: '0+60x60'
    alert_rule_test:
      - {eval_time: 59m, alertname: EtcdBackupDrillFailed, exp_alerts: []}
      - {eval_time: 59m, alertname: EtcdBackupDrillMissing, exp_alerts: []}
  # one failed drill pages at once; none passed for 2 days warns
  - interval: 1m
    input_series:
      - series: 'etcd_backup_drill_last_run_success{instance="n1",job="etcd-backup"}'
        values: '0x3000'
      - series: 'etcd_backup_drill_last_success_timestamp_seconds{instance="n1",job="etcd-backup"}'
        values: '0x3000'
    alert_rule_test:
      - eval_time: 1h
        alertname: EtcdBackupDrillFailed
        exp_alerts:
          - exp_labels: {severity: critical, instance: n1, job: etcd-backup}
            exp_annotations:
              summary: A restore drill failed; the etcd backups cannot be trusted.
              description: "The last drill on n1 did not get a booted etcd to serve what the backup holds (see etcd_backup_drill_failures_total and the drill Job's log). Find out why before the backups are needed."
      - {eval_time: 47h, alertname: EtcdBackupDrillMissing, exp_alerts: []}
      - eval_time: 49h
        alertname: EtcdBackupDrillMissing
        exp_alerts:
          - exp_labels: {severity: warning, instance: n1, job: etcd-backup}
            exp_annotations:
              summary: No restore drill passed for more than 172800 seconds.
              description: The last passing drill reported by n1 is 2d 1h 0m 0s old.
YAML
	out=$(cd "$T/rdrill" && "$PROMTOOL" test rules rules-test.yaml 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then pass helm__promtool_drill_rule_tests; else fail helm__promtool_drill_rule_tests "exit $rc: $out"; fi
fi

# Long release names stay within the 52 characters a CronJob name may have.
"$HELM" template prod-eu-west-1-control-plane-snapshots-nightly-abcdef "$CHART" >"$T/long.yaml" 2>&1
name=$("$PY" -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "CronJob": print(d["metadata"]["name"])' "$T/long.yaml")
check helm__name_fits_cronjob bash -c '[ -n "$1" ] && [ "${#1}" -le 52 ]' _ "$name"

# NOTES.txt: helm template does not render it, so render a copy of the
# chart where the same text goes through tpl into a ConfigMap.
notes() { # helm args...
	rm -rf "$T/nchart"
	cp -r "$CHART" "$T/nchart"
	cp "$CHART/templates/NOTES.txt" "$T/nchart/notes.txt"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: |\n{{ tpl (.Files.Get "notes.txt") . | indent 4 }}\n' \
		>"$T/nchart/templates/zz-notes.yaml"
	"$HELM" template etcd-backup "$T/nchart" --namespace backup --show-only templates/zz-notes.yaml "$@" |
		"$PY" -c 'import sys, yaml; print(yaml.safe_load(sys.stdin)["data"]["notes"])'
}
n=$(notes)
expect_match helm__notes_manual_job "$n" 'kubectl -n backup create job --from=cronjob/etcd-backup "\$JOB"'
expect_match helm__notes_tagged_job "$n" '"--tag", "pre-upgrade"'
expect_match helm__notes_list "$n" '\["list", "--from", "/backups"\]'
expect_match helm__notes_hostpath_warning "$n" 'lost with it'
n=$(notes -f "$CHART/ci/s3-secret-values.yaml")
expect_match helm__notes_s3_list "$n" 'etcd-backup list --from s3://etcd --s3-endpoint https://minio.storage.svc:9000 --s3-region us-east-1'

# The NOTES list job must be valid JSON for jq: extract the jq program's
# array and parse it.
arr=$(grep -o '\["list".*\]' <<<"$n" | head -1)
check helm__notes_list_json "$PY" -c 'import json, sys; a = json.loads(sys.argv[1]); assert a[0] == "list"' "$arr"

exit $((_NFAIL > 0))
