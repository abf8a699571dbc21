#!/usr/bin/env bash
# The runbooks' commands (docs/pre-upgrade.md, docs/disaster-recovery.md).
# Every ```bash block runs unchanged here; only the values of each
# runbook's step 0 are replaced by the test's (folders under $T, three etcd
# 3.7 members with client-cert auth, a real kube-apiserver on them, a local
# store).  ```sh blocks need a real node (kubeadm, crictl, systemctl, a
# kubelet) and are only syntax-checked.
#
#  always:  blocks parse (bash -n); the manifest steps of the recovery
#           (park the static pods, repoint kubeadm's etcd manifest, start)
#           on a copy of a kubeadm etcd manifest;
#  when the binaries have the subcommands: every etcd-backup/etcd-restore
#           flag used appears in their --help, and both runbooks run end to
#           end: health and certificate checks, the snapshot before an
#           "upgrade" (by hand and as a Job of the chart's CronJob),
#           objects and keys written after it, a three-member restore from
#           that snapshot, etcd and the apiserver started from the
#           repointed manifests, the objects and resourceVersions checked
#           through the apiserver.
EB_ETCD_VERSION=${EB_ETCD_VERSION:-3.7}
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/kube_common.sh"
RB=$TOP/tests/it/runbook_blocks.py
PRE=$TOP/docs/pre-upgrade.md
DR=$TOP/docs/disaster-recovery.md

# ---- every block parses -------------------------------------------------
for doc in "$PRE" "$DR"; do
	d=$(basename "$doc" .md)
	n=$(python3 "$RB" count "$doc" bash)
	check "runbook__${d}_has_bash_blocks" [ "$n" -ge 5 ]
	bad=""
	for lang in bash sh; do
		for i in $(seq 0 $(($(python3 "$RB" count "$doc" $lang) - 1))); do
			python3 "$RB" get "$doc" $lang "$i" | bash -n 2>"$T/syntax.err" || bad+=" $lang#$i($(head -1 "$T/syntax.err"))"
		done
	done
	if [ -z "$bad" ]; then pass "runbook__${d}_syntax"; else fail "runbook__${d}_syntax" "$bad"; fi
done

# run_block DOC TEXT [VAR=VALUE...]: runs the first ```bash block of DOC
# containing TEXT, in $T/work, after the test's values (vars.sh) and the
# state left by earlier blocks (state.sh: exported ID).
mkdir -p "$T/work"
: >"$T/state.sh"
run_block() {
	local doc=$1 text=$2; shift 2
	local blk
	blk=$(python3 "$RB" find "$doc" bash "$text") || { echo "no block with '$text' in $doc" >&2; return 1; }
	(
		cd "$T/work" || exit 1
		export PATH="$EB_BIN:$PATH"   # the binaries under test
		for kv in "$@"; do export "${kv?}"; done
		# shellcheck disable=SC1091
		. "$T/vars.sh"
		. "$T/state.sh"
		set -euo pipefail
		eval "$blk"
		[ -n "${ID:-}" ] && echo "export ID=$ID" >"$T/state.sh"
		true
	)
}

# ---- the manifest steps of the recovery, on kubeadm's manifest -----------
node_layout() { # DIR OLD_DATA: a node's manifests folder, kubeadm style
	mkdir -p "$1/manifests"
	sed "s#/var/lib/etcd\$#$2#" "$TOP/tests/fixtures/kubeadm-etcd.yaml" >"$1/manifests/etcd.yaml"
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n' >"$1/manifests/kube-apiserver.yaml"
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-scheduler\n' >"$1/manifests/kube-scheduler.yaml"
}
N=$T/node-x
node_layout "$N" /var/lib/etcd
cat >"$T/vars.sh" <<VARS
export MANIFESTS=$N/manifests PARKED=$N/parked OLD_DATA=/var/lib/etcd NEW_DATA=/var/lib/etcd-restored
VARS
check runbook__dr_park_static_pods run_block "$DR" 'mv "$MANIFESTS/kube-apiserver.yaml"'
check runbook__dr_parked bash -c '[ -f "$1/parked/etcd.yaml" ] && [ -f "$1/parked/kube-apiserver.yaml" ] &&
	[ ! -e "$1/manifests/etcd.yaml" ] && [ -f "$1/manifests/kube-scheduler.yaml" ]' _ "$N"
out=$(run_block "$DR" 'sed -i' 2>&1)
expect_eq runbook__dr_repoint_three_lines "$(grep -c etcd-restored <<<"$out")" 3
check runbook__dr_repoint_manifest python3 - "$N/parked/etcd.yaml" "$N/parked/etcd.yaml.before-restore" <<'PY'
import sys, yaml
new, old = (yaml.safe_load(open(p)) for p in sys.argv[1:3])
c = new["spec"]["containers"][0]
assert "--data-dir=/var/lib/etcd-restored" in c["command"], c["command"]
assert {"mountPath": "/var/lib/etcd-restored", "name": "etcd-data"} in c["volumeMounts"], c["volumeMounts"]
vols = {v["name"]: v for v in new["spec"]["volumes"]}
assert vols["etcd-data"]["hostPath"]["path"] == "/var/lib/etcd-restored", vols
assert vols["etcd-certs"]["hostPath"]["path"] == "/etc/kubernetes/pki/etcd", vols
# nothing else changed
oc = old["spec"]["containers"][0]
assert [a for a in c["command"] if "data-dir" not in a] == [a for a in oc["command"] if "data-dir" not in a]
PY
check runbook__dr_start_etcd run_block "$DR" 'mv "$PARKED/etcd.yaml" "$MANIFESTS/"'
check runbook__dr_start_apiserver run_block "$DR" 'mv "$PARKED/kube-apiserver.yaml" "$MANIFESTS/"'
check runbook__dr_back_in_place bash -c '[ -f "$1/manifests/etcd.yaml" ] && [ -f "$1/manifests/kube-apiserver.yaml" ]' _ "$N"

# ---- flags against the binaries' help ------------------------------------
capable=1
"$BACKUP" snapshot --help 2>&1 | grep -q -- '--endpoints' || capable=0
"$RESTORE" --help 2>&1 | grep -q -- '--initial-cluster-token' || capable=0
if [ $capable = 0 ]; then
	fail runbook__binaries "$BACKUP / $RESTORE --help do not list the runbooks' flags"
	exit 1
fi
k=0
while read -r prog sub flags; do
	[ -n "$prog" ] || continue
	k=$((k + 1))
	if [ "$prog" = etcd-backup ]; then help=$("$BACKUP" "$sub" --help 2>&1); else help=$("$RESTORE" --help 2>&1); fi
	missing=""
	for f in $flags; do grep -q -- "$f\b" <<<"$help" || missing+=" $f"; done
	name="runbook__flags_${prog}_${sub}_$k"
	if [ -z "$missing" ]; then pass "$name"; else fail "$name" "not in --help:$missing"; fi
done < <( (python3 "$RB" invocations "$PRE"; python3 "$RB" invocations "$DR") | sort -u)

# ---- end to end, on a control plane ---------------------------------------
# Three etcd members with client-cert TLS and a real kube-apiserver on them,
# laid out as kubeadm does: $PKI=.../pki/etcd, the apiserver's etcd client
# certificate in $PKI/.., certificates that live 400 days.
kube_setup
make_certs "$T/certs" 400
KPKI=$T/kpki
PKI=$KPKI/etcd
mkdir -p "$PKI"
cp "$T/certs/ca.crt" "$PKI/ca.crt"
cp "$T/certs/server.crt" "$PKI/server.crt"
cp "$T/certs/server.crt" "$PKI/peer.crt"
cp "$T/certs/client.crt" "$PKI/healthcheck-client.crt"
cp "$T/certs/client.key" "$PKI/healthcheck-client.key"
cp "$T/certs/client.crt" "$KPKI/apiserver-etcd-client.crt"
cp "$T/certs/client.key" "$KPKI/apiserver-etcd-client.key"
ETCD_TLS_DIR=$T/certs
etcd_cluster cp 3
APISERVER_ETCD=(--etcd-cafile "$PKI/ca.crt" --etcd-certfile "$KPKI/apiserver-etcd-client.crt"
	--etcd-keyfile "$KPKI/apiserver-etcd-client.key")
apiserver_start "$CL_ENDPOINTS" "${APISERVER_ETCD[@]}" || die "kube-apiserver did not start on the TLS cluster"
pass runbook__apiserver_on_tls_etcd
controllers_start || die "kube-controller-manager did not start"
# continuous backup beside the snapshots, as the chart's replicate Deployment
"$BACKUP" replicate --endpoints "$CL_ENDPOINTS" --cacert "$PKI/ca.crt" --cert "$PKI/healthcheck-client.crt" \
	--key "$PKI/healthcheck-client.key" --to "$T/store" --segment-interval 1s >"$T/replicate.log" 2>&1 &
REP_PID=$!
track_pid "$REP_PID"
# what the cluster holds before the upgrade: objects, and raw keys
kubectl create namespace demo >/dev/null
kubectl -n demo create configmap app-config --from-literal=mode=blue >/dev/null
kubectl -n demo create secret generic db-pass --from-literal=password=before >/dev/null
kubectl -n demo create deployment web --image=registry.invalid/web:1 --replicas=3 >/dev/null
put_keys "${CL_URLS[0]}" before- 20 || die "put failed"
only_before() { dump_kv "$1" | awk '$1 ~ /^before-/ { print $1, $2 }'; }
before=$(only_before "${CL_URLS[0]}")

cat >"$T/vars.sh" <<VARS
export PKI=$PKI ENDPOINTS=$CL_ENDPOINTS STORE=$T/store TAG=pre-upgrade-v1.35.0 KUBECONFIG=$KUBECONFIG
VARS
check runbook__pre_status run_block "$PRE" 'etcd-backup status'
out=$(run_block "$PRE" 'openssl x509 -checkend' 2>&1)
expect_eq runbook__pre_cert_lifetimes "$?:$(grep -c '^ok ' <<<"$out")" "0:5"
# the same check on a node whose health-check certificate has 10 days left
mkdir -p "$T/kpki-short/etcd"
cp "$PKI"/* "$T/kpki-short/etcd/"; cp "$KPKI"/*.crt "$T/kpki-short/"
openssl x509 -req -in "$T/certs/client.csr" -CA "$T/certs/ca.crt" -CAkey "$T/certs/ca.key" -CAcreateserial \
	-out "$T/kpki-short/etcd/healthcheck-client.crt" -days 10 >/dev/null 2>&1
cp "$T/vars.sh" "$T/vars.keep"
echo "export PKI=$T/kpki-short/etcd" >>"$T/vars.sh"
out=$(run_block "$PRE" 'openssl x509 -checkend' 2>&1); rc=$?
cp "$T/vars.keep" "$T/vars.sh"
expect_eq runbook__pre_cert_lifetime_short_fails "$rc $(grep -c '^RENEW .*healthcheck-client.crt$' <<<"$out")" "1 1"
out=$(run_block "$PRE" "readyz?verbose" 2>&1)
expect_match runbook__pre_apiserver_ready "$out" '\[\+\]etcd ok'
expect_match runbook__pre_apiserver_ready_passed "$out" 'readyz check passed'
check runbook__pre_snapshot run_block "$PRE" '--tag "$TAG"'
check runbook__pre_id run_block "$PRE" 'ID=$(python3'
. "$T/state.sh"
check runbook__pre_id_set [ -n "${ID:-}" ]
check runbook__pre_verify run_block "$PRE" 'etcd-backup verify'
out=$(run_block "$PRE" 'grep -- "$TAG"')
expect_match runbook__pre_list_finds_tag "$out" "^$ID .*pre-upgrade-v1.35.0"
check runbook__pre_get run_block "$PRE" 'etcd-backup get'
check runbook__pre_get_file [ -s "$T/work/pre-upgrade-v1.35.0.db" ]
snap_id=$ID

# 2b: the same snapshot as a Job of the chart's CronJob (release and
# namespace etcd-backup, Pod Security level privileged as its README says).
# The Job controller makes its pod; no kubelet runs it here (t_image.sh
# runs the image).
HELM=$("$TOP/.ci/get-helm.sh" 2>"$T/get-helm.log") || die "no helm: $(tail -1 "$T/get-helm.log")"
kubectl create namespace etcd-backup >/dev/null
kubectl label namespace etcd-backup pod-security.kubernetes.io/enforce=privileged >/dev/null
out=$("$HELM" install etcd-backup "$TOP/helm/etcd-backup" --namespace etcd-backup 2>&1) || fail runbook__pre_helm_install "$out"
check runbook__pre_cronjob_job run_block "$PRE" 'create job --from=cronjob/$CJ'
job=$(kubectl -n etcd-backup get jobs -o json)
expect_eq runbook__pre_cronjob_job_one "$(jq '.items | length' <<<"$job")" 1
expect_match runbook__pre_cronjob_job_name "$(jq -r '.items[0].metadata.name' <<<"$job")" '^etcd-pre-upgrade-[0-9]+$'
cj=$(kubectl -n etcd-backup get cronjob etcd-backup -o json)
expect_eq runbook__pre_cronjob_job_args "$(jq -c '.items[0].spec.template.spec.containers[0].args' <<<"$job")" \
	"$(jq -c '.spec.jobTemplate.spec.template.spec.containers[0].args + ["--tag", "pre-upgrade-v1.35.0"]' <<<"$cj")"
jobname=$(jq -r '.items[0].metadata.name' <<<"$job")
for _ in $(seq 60); do
	pod=$(kubectl -n etcd-backup get pods -l "batch.kubernetes.io/job-name=$jobname" -o json | jq -c '.items[0] // empty')
	[ -n "$pod" ] && break
	sleep 0.5
done
expect_eq runbook__pre_cronjob_job_pod_args "$(jq -c '.spec.containers[0].args | .[-2:]' <<<"${pod:-null}")" '["--tag","pre-upgrade-v1.35.0"]'
expect_eq runbook__pre_cronjob_job_volumes "$(jq -c '.items[0].spec.template.spec.volumes' <<<"$job")" \
	"$(jq -c '.spec.jobTemplate.spec.template.spec.volumes' <<<"$cj")"

# The "upgrade" writes more, then a newer scheduled snapshot exists: the
# restore must take the pre-upgrade one by its ID, not the latest.
kubectl -n demo create configmap only-after --from-literal=x=1 >/dev/null
kubectl -n demo patch configmap app-config -p '{"data":{"mode":"green"}}' >/dev/null
put_keys "${CL_URLS[0]}" after- 5
# then the bad change, just after POINT: the Deployment and the ConfigMap
# deleted; replicate has recorded it all when it is stopped
sleep 1.1
POINT=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 1.1
kubectl -n demo delete deployment web >/dev/null
kubectl -n demo delete configmap app-config >/dev/null
BAD_REV=$(revision "${CL_URLS[0]}")
for _ in $(seq 100); do
	ls "$T/store" | grep -q "\.seg\.[0-9]*-\([0-9]*\)\.segment\.json$" &&
		[ "$(ls "$T/store" | sed -n 's/.*\.seg\.[0-9]*-\([0-9]*\)\.segment\.json$/\1/p' | sort -n | tail -1)" -ge "$BAD_REV" ] && break
	sleep 0.2
done
kill -TERM "$REP_PID"; wait "$REP_PID"
check runbook__replicate_recorded_bad_change [ "$(ls "$T/store" | sed -n 's/.*\.seg\.[0-9]*-\([0-9]*\)\.segment\.json$/\1/p' | sort -n | tail -1)" -ge "$BAD_REV" ]
MAX_RV=$(list_rv)
"$BACKUP" snapshot --endpoints "$CL_ENDPOINTS" --cacert "$PKI/ca.crt" --cert "$PKI/healthcheck-client.crt" \
	--key "$PKI/healthcheck-client.key" --to "$T/store" >/dev/null 2>&1 || die "second snapshot failed"

# The recovery: every node parks its static pods, restores, repoints,
# starts.  The test is the kubelet: a parked manifest stops its process,
# one put back starts it (one apiserver stands for the three).
initial=""
for i in 0 1 2; do initial+="${initial:+,}${CL_NAMES[$i]}=${CL_PEERS[$i]}"; done
for i in 0 1 2; do node_layout "$T/node$i" "${CL_DIRS[$i]}/data"; done
# kubelet_etcd I DATADIR: what the kubelet does with node I's etcd manifest
kubelet_etcd() {
	etcd --name "${CL_NAMES[$1]}" --data-dir "$2" \
		--listen-client-urls "${CL_URLS[$1]}" --advertise-client-urls "${CL_URLS[$1]}" \
		--listen-peer-urls "${CL_PEERS[$1]}" --initial-advertise-peer-urls "${CL_PEERS[$1]}" \
		--initial-cluster "$initial" --initial-cluster-token etcd-restore-test --initial-cluster-state new \
		--cert-file "$T/certs/server.crt" --key-file "$T/certs/server.key" \
		--trusted-ca-file "$T/certs/ca.crt" --client-cert-auth >"$2.log" 2>&1 &
	CL_PIDS[$1]=$!
	track_pid $!
}
dr_vars() { # i
	cat >"$T/vars.sh" <<VARS
export PKI=$PKI MANIFESTS=$T/node$1/manifests PARKED=$T/node$1/parked STORE=$T/store
export NAME=${CL_NAMES[$1]} PEER_URL=${CL_PEERS[$1]} INITIAL_CLUSTER=$initial ENDPOINTS=$CL_ENDPOINTS
export OLD_DATA=${CL_DIRS[$1]}/data NEW_DATA=$T/node$1/etcd-restored TOKEN=etcd-restore-test KUBECONFIG=$KUBECONFIG
VARS
}
dr_vars 0
check runbook__dr_list run_block "$DR" 'etcd-backup list --from "$STORE"'
check runbook__dr_pick_and_verify run_block "$DR" 'export ID=$('
echo "export ID=$snap_id" >"$T/state.sh"   # the runbook says: pick the pre-upgrade one
for i in 0 1 2; do
	dr_vars $i
	run_block "$DR" 'mv "$MANIFESTS/kube-apiserver.yaml"' || fail runbook__dr_park "node $i"
	apiserver_stop
	stop_pid "${CL_PIDS[$i]}"
done
for i in 0 1 2; do
	dr_vars $i
	check "runbook__dr_restore_$i" run_block "$DR" 'etcd-restore --from'
	run_block "$DR" 'sed -i' >/dev/null || fail runbook__dr_repoint "node $i"
	run_block "$DR" 'mv "$PARKED/etcd.yaml" "$MANIFESTS/"' || fail runbook__dr_unpark "node $i"
done
for i in 0 1 2; do
	dd=$(python3 -c 'import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["spec"]["containers"][0]["command"]
print([a for a in c if a.startswith("--data-dir=")][0].split("=", 1)[1])' "$T/node$i/manifests/etcd.yaml")
	expect_eq "runbook__dr_manifest_points_new_$i" "$dd" "$T/node$i/etcd-restored"
	kubelet_etcd "$i" "$dd"
done
etcd_wait_all
dr_vars 0
check runbook__dr_status run_block "$DR" 'etcd-backup status'
for i in 0 1 2; do
	dr_vars $i
	run_block "$DR" 'mv "$PARKED/kube-apiserver.yaml" "$MANIFESTS/"' || fail runbook__dr_apiserver_unpark "node $i"
done
check runbook__dr_apiserver_manifests_back bash -c 'for i in 0 1 2; do [ -f "$1/node$i/manifests/kube-apiserver.yaml" ] || exit 1; done' _ "$T"
apiserver_start "$CL_ENDPOINTS" "${APISERVER_ETCD[@]}" || die "kube-apiserver did not start on the restored cluster"
out=$(run_block "$DR" "readyz?verbose" 2>&1)
expect_match runbook__dr_apiserver_ready "$out" 'readyz check passed'
out=$(run_block "$DR" "sys.exit(rv <= 1000000000)" 2>&1)
expect_match runbook__dr_rv_check_passes "$out" '^resourceVersion 10000[0-9]{5}$'
# what came back: the pre-upgrade state, with resourceVersions above any served
expect_eq runbook__dr_configmap_value "$(kubectl -n demo get configmap app-config -o jsonpath='{.data.mode}')" blue
expect_eq runbook__dr_secret_value "$(kubectl -n demo get secret db-pass -o jsonpath='{.data.password}' | base64 -d)" before
expect_eq runbook__dr_deployment "$(kubectl -n demo get deployment web -o jsonpath='{.spec.replicas}')" 3
out=$(kubectl -n demo get configmap only-after 2>&1); rc=$?
expect_eq runbook__dr_later_object_gone "$rc $(grep -c NotFound <<<"$out")" "1 1"
check runbook__dr_rv_above_served [ "$(list_rv)" -gt "$MAX_RV" ]
after=$(only_before "${CL_URLS[1]}")
expect_eq runbook__dr_data_is_pre_upgrade "$after" "$before"
check runbook__dr_no_after_keys [ -z "$(dump_kv "${CL_URLS[2]}" | awk '$1 ~ /^after-/')" ]
rev=$(revision "${CL_URLS[2]}")
check runbook__dr_revision_bumped [ "$rev" -gt 1000000000 ]
check runbook__dr_post_restore_snapshot run_block "$DR" '--tag post-restore'
check runbook__dr_old_data_untouched [ -d "${CL_DIRS[0]}/data/member" ]

# ---- 3b: the same recovery to just before the bad change -----------------
# (the cluster restored above is parked again: every node restores POINT)
apiserver_stop
for i in 0 1 2; do stop_pid "${CL_PIDS[$i]}"; done
for i in 0 1 2; do
	dr_vars $i
	sed -i "s#^export OLD_DATA=.* NEW_DATA=[^ ]*#export OLD_DATA=$T/node$i/etcd-restored NEW_DATA=$T/node$i/etcd-pitr#" "$T/vars.sh"
	echo "export POINT=$POINT" >>"$T/vars.sh"
	out=$(run_block "$DR" '--to-time "$POINT"' 2>&1) || fail "runbook__dr_pitr_restore_$i" "$(tail -3 <<<"$out")"
	expect_match "runbook__dr_pitr_point_$i" "$out" "point in time: revision [0-9]+"
	kubelet_etcd "$i" "$T/node$i/etcd-pitr"
done
etcd_wait_all
apiserver_start "$CL_ENDPOINTS" "${APISERVER_ETCD[@]}" || die "kube-apiserver did not start on the point-in-time cluster"
# what the cluster held just before the bad change: the upgrade's writes, and
# what the bad change deleted
expect_eq runbook__dr_pitr_configmap_after_upgrade "$(kubectl -n demo get configmap app-config -o jsonpath='{.data.mode}')" green
expect_eq runbook__dr_pitr_deployment_back "$(kubectl -n demo get deployment web -o jsonpath='{.spec.replicas}')" 3
expect_eq runbook__dr_pitr_later_object_kept "$(kubectl -n demo get configmap only-after -o jsonpath='{.data.x}')" 1
check runbook__dr_pitr_rv_above_served [ "$(list_rv)" -gt "$MAX_RV" ]
exit $((_NFAIL > 0))
