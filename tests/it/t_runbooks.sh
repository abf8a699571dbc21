#!/usr/bin/env bash
# The runbooks' commands (docs/pre-upgrade.md, docs/disaster-recovery.md).
# Every ```bash block runs unchanged here; only the values of each
# runbook's step 0 are replaced by the test's (folders under $T, a real
# etcd with client-cert auth, a local store).  ```sh blocks need a real
# node or cluster (kubectl, kubeadm, crictl, systemctl) and are only
# syntax-checked.
#
#  always:  blocks parse (bash -n); the manifest steps of the recovery
#           (park the static pods, repoint kubeadm's etcd manifest, start)
#           on a copy of a kubeadm etcd manifest;
#  when the binaries have the subcommands: every etcd-backup/etcd-restore
#           flag used appears in their --help, and both runbooks run end to
#           end: snapshot before an "upgrade", writes after it, a three-member
#           restore from that snapshot, etcd started from the repointed
#           manifests, data checked.
. "$(dirname "$0")/../lib.sh"
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

# ---- end to end: pre-upgrade snapshot, then a three-member restore --------
make_certs "$T/certs"
PKI=$T/pki
mkdir -p "$PKI"
cp "$T/certs/ca.crt" "$PKI/ca.crt"
cp "$T/certs/client.crt" "$PKI/healthcheck-client.crt"
cp "$T/certs/client.key" "$PKI/healthcheck-client.key"
ETCD_TLS_DIR=$T/certs
etcd_cluster cp 3
put_keys "${CL_URLS[0]}" before- 20 || die "put failed"
before=$(dump_kv "${CL_URLS[0]}")

cat >"$T/vars.sh" <<VARS
export PKI=$PKI ENDPOINTS=$CL_ENDPOINTS STORE=$T/store TAG=pre-upgrade-v1.31.4
VARS
check runbook__pre_status run_block "$PRE" 'etcd-backup status'
check runbook__pre_snapshot run_block "$PRE" '--tag "$TAG"'
check runbook__pre_id run_block "$PRE" 'ID=$(python3'
. "$T/state.sh"
check runbook__pre_id_set [ -n "${ID:-}" ]
check runbook__pre_verify run_block "$PRE" 'etcd-backup verify'
out=$(run_block "$PRE" 'grep -- "$TAG"')
expect_match runbook__pre_list_finds_tag "$out" "pre-upgrade-v1.31.4"
check runbook__pre_get run_block "$PRE" 'etcd-backup get'
check runbook__pre_get_file [ -s "$T/work/pre-upgrade-v1.31.4.db" ]
snap_id=$ID

# The "upgrade" writes more, then a newer scheduled snapshot exists: the
# restore must take the pre-upgrade one by its ID, not the latest.
put_keys "${CL_URLS[0]}" after- 5
"$BACKUP" snapshot --endpoints "$CL_ENDPOINTS" --cacert "$PKI/ca.crt" --cert "$PKI/healthcheck-client.crt" \
	--key "$PKI/healthcheck-client.key" --to "$T/store" >/dev/null 2>&1 || die "second snapshot failed"

# The recovery: every node parks its static pods, restores, repoints, starts.
initial=""
for i in 0 1 2; do initial+="${initial:+,}${CL_NAMES[$i]}=${CL_PEERS[$i]}"; done
for i in 0 1 2; do node_layout "$T/node$i" "${CL_DIRS[$i]}/data"; done
dr_vars() { # i
	cat >"$T/vars.sh" <<VARS
export PKI=$PKI MANIFESTS=$T/node$1/manifests PARKED=$T/node$1/parked STORE=$T/store
export NAME=${CL_NAMES[$1]} PEER_URL=${CL_PEERS[$1]} INITIAL_CLUSTER=$initial ENDPOINTS=$CL_ENDPOINTS
export OLD_DATA=${CL_DIRS[$1]}/data NEW_DATA=$T/node$1/etcd-restored TOKEN=etcd-restore-test
VARS
}
dr_vars 0
check runbook__dr_list run_block "$DR" 'etcd-backup list --from "$STORE"'
check runbook__dr_pick_and_verify run_block "$DR" 'export ID=$('
echo "export ID=$snap_id" >"$T/state.sh"   # the runbook says: pick the pre-upgrade one
for i in 0 1 2; do
	dr_vars $i
	run_block "$DR" 'mv "$MANIFESTS/kube-apiserver.yaml"' || fail runbook__dr_park "node $i"
	stop_pid "${CL_PIDS[$i]}"     # what the kubelet does once the manifest is gone
done
for i in 0 1 2; do
	dr_vars $i
	check "runbook__dr_restore_$i" run_block "$DR" 'etcd-restore --from'
	run_block "$DR" 'sed -i' >/dev/null || fail runbook__dr_repoint "node $i"
	run_block "$DR" 'mv "$PARKED/etcd.yaml" "$MANIFESTS/"' || fail runbook__dr_unpark "node $i"
done
# The "kubelet" starts etcd from each repointed manifest.
for i in 0 1 2; do
	dd=$(python3 -c 'import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["spec"]["containers"][0]["command"]
print([a for a in c if a.startswith("--data-dir=")][0].split("=", 1)[1])' "$T/node$i/manifests/etcd.yaml")
	expect_eq "runbook__dr_manifest_points_new_$i" "$dd" "$T/node$i/etcd-restored"
	etcd --name "${CL_NAMES[$i]}" --data-dir "$dd" \
		--listen-client-urls "${CL_URLS[$i]}" --advertise-client-urls "${CL_URLS[$i]}" \
		--listen-peer-urls "${CL_PEERS[$i]}" --initial-advertise-peer-urls "${CL_PEERS[$i]}" \
		--initial-cluster "$initial" --initial-cluster-token etcd-restore-test --initial-cluster-state new \
		--cert-file "$T/certs/server.crt" --key-file "$T/certs/server.key" \
		--trusted-ca-file "$T/certs/ca.crt" --client-cert-auth >"$T/node$i/etcd.log" 2>&1 &
	CL_PIDS[$i]=$!
	track_pid $!
done
etcd_wait_all
dr_vars 0
check runbook__dr_status run_block "$DR" 'etcd-backup status'
check runbook__dr_apiserver_back run_block "$DR" 'mv "$PARKED/kube-apiserver.yaml" "$MANIFESTS/"'
after=$(dump_kv "${CL_URLS[1]}" | awk '{ print $1, $2 }')
expect_eq runbook__dr_data_is_pre_upgrade "$after" "$(awk '{ print $1, $2 }' <<<"$before")"
rev=$(revision "${CL_URLS[2]}")
check runbook__dr_revision_bumped [ "$rev" -gt 1000000000 ]
check runbook__dr_post_restore_snapshot run_block "$DR" '--tag post-restore'
check runbook__dr_old_data_untouched [ -d "${CL_DIRS[0]}/data/member" ]
exit $((_NFAIL > 0))
