#!/usr/bin/env bash
# versions: all
# etcd-restore --bump-revision/--mark-compacted (etcdutl 3.5.10+ semantics)
# and --clear-alarms, against real etcd: the source has a NOSPACE alarm.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

CASE=setup
etcd_cluster src 1 --quota-backend-bytes 400000
SRC=${CL_URLS[0]}
ectl "$SRC" put /k/a 1 >/dev/null; ectl "$SRC" put /k/b 2 >/dev/null; ectl "$SRC" put /k/a 3 >/dev/null
for i in $(seq 1 40); do
	head -c 30000 /dev/urandom | base64 -w0 | ectl "$SRC" put "/fill/$i" >/dev/null 2>&1 || break
done
expect_match source_has_nospace_alarm "$(ectl "$SRC" alarm list)" 'NOSPACE'
ectl "$SRC" snapshot save "$T/snap.db" >/dev/null 2>&1 || die "snapshot save failed"
REV=$(snap_rev "$T/snap.db")
BUMP=1000000

CASE=bump
P=http://127.0.0.1:$(free_port)
out=$("$RESTORE" --from "$T/snap.db" --name b1 --initial-cluster "b1=$P" --initial-advertise-peer-urls "$P" \
	--data-dir "$T/b1" --bump-revision $BUMP --mark-compacted --clear-alarms 2>&1)
expect_match bump_reports_revision "$out" "revision $((REV + BUMP))"
expect_match bump_files_check "$($CHECK "$T/b1" --members 1 2>&1)" '^ok '
start_restored b1 "$T/b1" "b1=$P" etcd-cluster "$P"
wait_healthy "$R_URL" || { tail -20 "$T/b1.log"; die "bumped restore did not start"; }
expect_eq bumped_revision "$(revision "$R_URL")" $((REV + BUMP))
expect_match old_revision_compacted "$(ectl "$R_URL" get /k/a --rev "$REV" 2>&1)" 'compacted'
expect_eq bump_keeps_values "$(kv_at "$R_URL" | cut -d' ' -f1-5 | md5sum)" "$(kv_at "$SRC" "$REV" | cut -d' ' -f1-5 | md5sum)"
expect_eq alarms_cleared "$(ectl "$R_URL" alarm list)" ""
ectl "$R_URL" put /k/new v >/dev/null 2>&1
expect_eq write_after_bump "$(ectl "$R_URL" get /k/new -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])')" $((REV + BUMP + 1))
stop_pid "$R_PID"

CASE=alarms_kept
P=http://127.0.0.1:$(free_port)
"$RESTORE" --from "$T/snap.db" --name a1 --initial-cluster "a1=$P" --initial-advertise-peer-urls "$P" --data-dir "$T/a1" >/dev/null 2>&1
start_restored a1 "$T/a1" "a1=$P" etcd-cluster "$P"
# 3.5+ report a member with an active alarm as unhealthy: wait for it to
# answer instead
wait_answers "$R_URL" "$R_PID" || { tail -20 "$T/a1.log"; die "restore did not start"; }
expect_match alarm_carried_without_flag "$(ectl "$R_URL" alarm list)" 'NOSPACE'
check_fails writes_blocked_by_old_alarm ectl "$R_URL" put /k/new v
expect_eq no_bump_revision "$(revision "$R_URL")" "$REV"
stop_pid "$R_PID"
exit 0
