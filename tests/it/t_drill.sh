#!/usr/bin/env bash
# versions: all
# san: yes
# etcd-backup drill: a backup restored into a temp dir and booted on the
# real etcd of the version under test serves the backup's revision, key
# count and the HashKV recorded from the cluster; a point of a continuous
# backup too; a backup whose keyspace was altered under fixed-up digests
# (every sha256 and size in the manifest recomputed, as someone who can
# write to the bucket but holds no signing key could) fails with exit 7
# and says why; metrics record the outcome; nothing is left behind.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

etcd_cluster src 1
U=${CL_URLS[0]}
S=$T/store
W=$T/work
mkdir -p "$W"
prom() { awk -v n="$1" '$1 == n { print $2 }' "$T/drill.prom"; }
nothing_left() { # name
	expect_eq "$1_tmp_empty" "$(ls -A "$W")" ""
	expect_eq "$1_no_etcd_left" "$(pgrep -f "$W/etcd-backup-drill" | wc -l)" 0
}

CASE=drill
populate "$U" 300 || die "populate failed"
"$BACKUP" snapshot --to "$S" --endpoints "$U" >"$T/snap.log" 2>&1 || die "snapshot: $(tail -3 "$T/snap.log")"
REV=$(revision "$U")
count_at() { ectl "$U" get "" --prefix ${1:+--rev "$1"} -w json | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("kvs", [])))'; }
NKEYS=$(count_at)
out=$("$BACKUP" drill --from "$S" --tmp-dir "$W" --metrics-file "$T/drill.prom" 2>&1); rc=$?
expect_eq drill_passes "$rc" 0
expect_match drill_says_what "$out" "drill passed: backup .* at revision $REV .* revision $REV, $NKEYS keys, HashKV [0-9]+ equal to the cluster's, recorded in the manifest"
expect_eq metrics_success "$(prom etcd_backup_drill_last_run_success)" 1
expect_eq metrics_keys "$(prom etcd_backup_drill_keys)" "$NKEYS"
expect_eq metrics_revision "$(prom etcd_backup_drill_snapshot_revision)" "$REV"
check metrics_restore_time [ -n "$(prom etcd_backup_drill_restore_seconds)" ]
PROMTOOL=$("$TOP/.ci/get-promtool.sh" 2>"$T/get-promtool.log") || die "promtool: $(tail -2 "$T/get-promtool.log")"
check metrics_promtool "$PROMTOOL" check metrics <"$T/drill.prom"
OK_TS=$(prom etcd_backup_drill_last_success_timestamp_seconds)
nothing_left drill
# two drills at once (a CronJob's and an operator's by hand) on one store
# and one temp folder: each boots its own etcd on its own ports and dir
"$BACKUP" drill --from "$S" --tmp-dir "$W" >"$T/d1.out" 2>&1 & d1=$!
"$BACKUP" drill --from "$S" --tmp-dir "$W" >"$T/d2.out" 2>&1 & d2=$!
wait "$d1"; r1=$?; wait "$d2"; r2=$?
expect_eq two_drills_at_once_pass "$r1 $r2" "0 0"
expect_eq two_drills_both_checked "$(cat "$T/d1.out" "$T/d2.out" | grep -c "drill passed: .* revision $REV, $NKEYS keys")" 2
nothing_left two_drills
# a snapshot file, as etcdctl saves it (HashKV computed from it)
ectl "$U" snapshot save "$T/plain.db" >/dev/null 2>&1 || die "etcdctl snapshot save"
out=$("$BACKUP" drill --from "$T/plain.db" --tmp-dir "$W" 2>&1); rc=$?
expect_eq drill_file_passes "$rc $(grep -c 'computed from the backup' <<<"$out")" "0 1"

CASE=tampered
# the keyspace altered (one value byte), every digest fixed up
ID=$("$BACKUP" list --from "$S" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
cp -r "$S" "$T/bad"
python3 - "$T/bad/$ID.manifest.json" <<'PY' || die "tamper"
import hashlib, json, os, subprocess, sys
mp = sys.argv[1]; m = json.load(open(mp)); d = os.path.dirname(mp)
obj = os.path.join(d, m["object"])
snap = subprocess.run(["zstd", "-dqc", obj], check=True, capture_output=True).stdout
# every copy (stale ones stay in free pages): "spec-7-" -> "spec-6-", the
# same size, so the structure stays sound
db = snap[:-32]
assert db.count(b"spec-7-") >= 1
db = db.replace(b"spec-7-", b"spec-6-"); sha = hashlib.sha256(db).digest()
snap = db + sha
stored = subprocess.run(["zstd", "-qc"], input=snap, check=True, capture_output=True).stdout
open(obj, "wb").write(stored)
m.update(db_sha256=sha.hex(), snapshot_sha256=hashlib.sha256(snap).hexdigest(),
         stored_size=len(stored), stored_sha256=hashlib.sha256(stored).hexdigest())
json.dump(m, open(mp, "w"))
PY
check tampered_still_verifies "$BACKUP" verify --from "$T/bad" --backup "$ID"
out=$("$BACKUP" drill --from "$T/bad" --tmp-dir "$W" --metrics-file "$T/drill.prom" 2>&1); rc=$?
expect_eq tampered_drill_exit_7 "$rc" 7
expect_match tampered_drill_says_why "$out" "DRILL FAILED for backup $ID.*restored keyspace differs from the cluster's.*HashKV"
expect_eq tampered_metrics_failed "$(prom etcd_backup_drill_last_run_success)" 0
expect_eq tampered_metrics_reason "$(awk '/drill_failures_total\{reason="unhealthy"\}/ { print $2 }' "$T/drill.prom")" 1
expect_eq tampered_metrics_keeps_last_success "$(prom etcd_backup_drill_last_success_timestamp_seconds)" "$OK_TS"
nothing_left tampered

CASE=refused
out=$("$BACKUP" drill --from "$S" --tmp-dir "$W" --etcd-binary /nonexistent/etcd 2>&1); rc=$?
expect_eq no_etcd_binary_exit_2 "$rc" 2
expect_match no_etcd_binary_says "$out" "no etcd to boot.*--etcd-binary"
# etcd that cannot run the data (a binary that exits at once)
printf '#!/bin/sh\necho "member drill: cannot start: simulated" >&2\nexit 3\n' >"$T/bad-etcd"
chmod +x "$T/bad-etcd"
out=$("$BACKUP" drill --from "$S" --tmp-dir "$W" --etcd-binary "$T/bad-etcd" 2>&1); rc=$?
expect_eq etcd_exits_drill_exit_3 "$rc" 3
expect_match etcd_exits_names_its_log "$out" "etcd exited \(status 3\).*simulated"
nothing_left refused

CASE=killed
# a drill killed -9 while etcd runs: etcd dies with it (no process left
# holding the ports and the data), and the next drill removes the temp dir
# it left (its owner is dead); a live drill's dir is never touched
printf '#!/bin/sh\necho $$ >"%s/fake.pid"\nexec sleep 300\n' "$T" >"$T/slow-etcd"
chmod +x "$T/slow-etcd"
rm -f "$T/fake.pid"
"$BACKUP" drill --from "$S" --tmp-dir "$W" --etcd-binary "$T/slow-etcd" >"$T/killed.log" 2>&1 &
DP=$!
track_pid "$DP"
for _ in $(seq 100); do [ -s "$T/fake.pid" ] && break; sleep 0.1; done
FP=$(cat "$T/fake.pid" 2>/dev/null)
check killed_etcd_was_running [ -n "$FP" ] && kill -0 "$FP" 2>/dev/null
kill -9 "$DP"; wait "$DP" 2>/dev/null
for _ in $(seq 50); do kill -0 "$FP" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$FP" 2>/dev/null; then fail killed_etcd_dies_with_drill "pid $FP lives"; kill -9 "$FP"; else pass killed_etcd_dies_with_drill; fi
left=$(ls -d "$W"/etcd-backup-drill.* 2>/dev/null | wc -l)
check killed_leaves_its_dir [ "$left" = 1 ]
mkdir "$W/etcd-backup-drill.live" && echo $$ >"$W/etcd-backup-drill.live/owner.pid"
out=$("$BACKUP" drill --from "$S" --tmp-dir "$W" 2>&1); rc=$?
expect_eq after_kill_drill_passes "$rc" 0
check after_kill_dead_dir_removed [ "$(ls -d "$W"/etcd-backup-drill.* 2>/dev/null)" = "$W/etcd-backup-drill.live" ]
rm -rf "$W/etcd-backup-drill.live"
nothing_left killed

CASE=phases
# the chart's pod: --phase restore (init container), etcd started on its
# own (the sidecar: here a process on the fixed ports of a network
# namespace of its own), --phase check (the main container)
# pod_drill STORE: the three containers' work in a network namespace, in $T/pw
pod_drill() {
	rm -rf "$T/pw"; mkdir -p "$T/pw"
	unshare --net bash -c '
		ip link set lo up
		"$1" drill --phase restore --work "$2" --from "$3" || exit 1
		etcd --name drill --data-dir "$2/data" --listen-client-urls http://127.0.0.1:2379 \
			--advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
			--initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster drill=http://127.0.0.1:2380 \
			>"$2/etcd.log" 2>&1 &
		e=$!
		"$1" drill --phase check --work "$2" --metrics-file "$2/m.prom"; rc=$?
		kill $e; wait $e
		exit $rc' _ "$BACKUP" "$T/pw" "$1"
}
if unshare --net true 2>/dev/null; then
	out=$(pod_drill "$S" 2>&1); rc=$?
	expect_eq phases_pass "$rc" 0
	expect_match phases_check_says "$out" "drill passed: backup .* revision $REV, $NKEYS keys, HashKV [0-9]+ equal to the cluster's"
	expect_eq phases_metrics_success "$(awk '$1 == "etcd_backup_drill_last_run_success" { print $2 }' "$T/pw/m.prom")" 1
	check phases_expectation_file jq -e ".revision == $REV and .keys == $NKEYS" "$T/pw/drill.json"
	# the tampered backup fails in the check half too
	out=$(pod_drill "$T/bad" 2>&1); rc=$?
	expect_eq phases_tampered_exit_7 "$rc" 7
	out=$("$BACKUP" drill --phase check --work "$T/nowhere" 2>&1); rc=$?
	expect_match phases_check_without_restore_says "$out" "drill.json"
else
	fail phases "unshare --net is not available (the test runs as root)"
fi

CASE=point
S2=$T/store2
"$BACKUP" replicate --endpoints "$U" --to "$S2" --segment-interval 300ms >"$T/rep.log" 2>&1 &
REP=$!
track_pid "$REP"
for _ in $(seq 100); do ls "$S2"/*.manifest.json >/dev/null 2>&1 && break; sleep 0.1; done
put_keys "$U" after- 40 || die "put"
R=$(revision "$U")
put_keys "$U" later- 10 || die "put"
END=$(revision "$U")
for _ in $(seq 100); do
	last=$(ls "$S2" | sed -n 's/.*\.seg\.[0-9]*-\([0-9]*\)\.segment\.json$/\1/p' | sort -n | tail -1)
	[ "${last:-0}" -ge "$END" ] && break; sleep 0.2
done
stop_pid "$REP"
N=$(count_at "$R")
out=$("$BACKUP" drill --from "$S2" --at-revision "$R" --tmp-dir "$W" 2>&1); rc=$?
expect_eq point_drill_passes "$rc" 0
expect_match point_drill_serves_point "$out" "at revision $R .*revision $R, $N keys"
nothing_left point
exit 0
