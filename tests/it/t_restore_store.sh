#!/usr/bin/env bash
# versions: all
# etcd-restore --from STORE --backup ID|latest: restore straight from a
# local backup store (zstd object verified while it streams), boot etcd on
# it and compare with the source; a damaged stored object or an unknown id
# fails cleanly and leaves nothing behind.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

CASE=setup
etcd_cluster src 1
SRC=${CL_URLS[0]}
populate "$SRC" 800 || die "populate failed"
"$BACKUP" snapshot --to "$T/store" --endpoints "$SRC" >"$T/snap.log" 2>&1 || die "etcd-backup snapshot failed: $(tail -3 "$T/snap.log")"
REV=$(revision "$SRC")
ectl "$SRC" put /after/backup x >/dev/null

CASE=restore
P=http://127.0.0.1:$(free_port)
flags=(--name s1 --initial-cluster "s1=$P" --initial-advertise-peer-urls "$P")
out=$("$RESTORE" --from "$T/store" --backup latest "${flags[@]}" --data-dir "$T/s1" 2>&1)
expect_match restore_from_store "$out" '^backup .* from '
expect_match store_restore_checks "$($CHECK "$T/s1" --members 1 2>&1)" '^ok '
check no_staged_copy_left test ! -e "$T/s1/.snapshot.db"
start_restored s1 "$T/s1" "s1=$P" etcd-cluster "$P"
wait_healthy "$R_URL" || { tail -20 "$T/s1.log"; die "etcd on store restore did not start"; }
expect_eq store_kv_equal "$(kv_at "$R_URL" | md5sum)" "$(kv_at "$SRC" "$REV" | md5sum)"
expect_eq store_hashkv_equal "$(hashkv "$R_URL" "$REV")" "$(hashkv "$SRC" "$REV")"
stop_pid "$R_PID"

ID=$(basename "$(ls "$T/store"/*.manifest.json | head -1)" .manifest.json)
out=$("$RESTORE" --from "$T/store" --backup "$ID" --all-members "$T/all" --initial-cluster "a=$P,b=http://127.0.0.1:1" 2>&1)
check store_by_id_all_members test -f "$T/all/b/member/snap/db" -a ! -e "$T/all/.snapshot.db"

CASE=progress
# a person waiting sees bytes, percent, rate and ETA (forced here: stderr
# is not a terminal in a test), the last line at 100%; with JSON logs,
# progress events whose total is the snapshot's size; nothing by default
snapsize=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshot_size"])' "$(ls "$T/store"/*.manifest.json | head -1)")
"$RESTORE" --progress --from "$T/store" "${flags[@]}" --data-dir "$T/p1" >/dev/null 2>"$T/prog.err"
last=$(tr '\r' '\n' <"$T/prog.err" | grep -v '^ *$' | tail -1)
expect_match restore_progress_last_line "$last" '^restore  .* / .*  100%  .*/s'
expect_match restore_progress_has_eta "$(tr '\r' '\n' <"$T/prog.err")" 'ETA [0-9]+:[0-9]{2}'
"$RESTORE" --from "$T/store" "${flags[@]}" --data-dir "$T/p2" >/dev/null 2>"$T/noprog.err"
check restore_no_progress_off_tty [ ! -s "$T/noprog.err" ]
"$BACKUP" get --from "$T/store" --backup latest --output "$T/g.db" --log-format json 2>"$T/get.json" || die "get"
expect_match get_progress_json "$(grep '"event":"progress"' "$T/get.json" | tail -1)" "\"msg\":\"done\".*\"bytes\":\"$snapsize\",\"total\":\"$snapsize\",\"percent\":\"100.0\""
"$BACKUP" get --from "$T/store" --backup latest --output "$T/g2.db" --log-format json --no-progress 2>"$T/get2.json" || die "get"
check get_no_progress_flag bash -c "! grep -q '\"event\":\"progress\"' '$T/get2.json'"
"$BACKUP" snapshot --to "$T/store2" --endpoints "$SRC" --progress >/dev/null 2>"$T/snapprog.err" || die "snapshot"
# etcd-restore --log-format json: progress events (totals = the snapshot's
# size), then one "done" event with what was restored; a refusal is one
# "failed" event naming the exit status; stdout keeps its text summary
"$RESTORE" --from "$T/store" "${flags[@]}" --data-dir "$T/p3" --log-format json >"$T/rj.out" 2>"$T/rj.json" || die "restore --log-format json"
expect_match restore_json_progress "$(grep '"event":"progress"' "$T/rj.json" | tail -1)" "\"msg\":\"done\".*\"bytes\":\"$snapsize\",\"total\":\"$snapsize\""
expect_match restore_json_done "$(grep '"msg":"done"' "$T/rj.json" | grep '"event":"restore"')" "\"revision\":\"$REV\".*\"sha256_verified\":\"true\",\"data_dir\":\"$T/p3\""
check restore_json_all_json python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/rj.json"
expect_match restore_json_stdout_text "$(cat "$T/rj.out")" "^restored .* revision $REV"
"$RESTORE" --from "$T/store" "${flags[@]}" --data-dir "$T/p3" --log-format json >/dev/null 2>"$T/rj2.json"; rc=$?
expect_eq restore_json_refusal_exit "$rc" 6
expect_match restore_json_failed "$(cat "$T/rj2.json")" '^\{.*"level":"error","event":"restore","msg":"failed","error":"exists",.*"exit_code":"6"\}$'
expect_match snapshot_progress_100 "$(tr '\r' '\n' <"$T/snapprog.err")" '^snapshot  .*100%'

CASE=bad
out=$("$RESTORE" --from "$T/store" --backup nope "${flags[@]}" --data-dir "$T/x" 2>&1); rc=$?
expect_eq unknown_backup_exit "$rc" 8
check unknown_backup_left_nothing bash -c "! ls -a '$T' | grep -q -e '^x$' -e restore-"
obj=$(ls "$T/store" | grep -v manifest | head -1)
python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(2000); b=f.read(1); f.seek(2000); f.write(bytes([b[0]^1]))' "$T/store/$obj"
out=$("$RESTORE" --from "$T/store" --backup latest "${flags[@]}" --data-dir "$T/x" 2>&1); rc=$?
expect_eq damaged_object_exit "$rc" 5
expect_match damaged_object_msg "$out" 'sha256|mismatch|corrupt'
check damaged_object_left_nothing bash -c "! ls -a '$T' | grep -q -e '^x$' -e restore-"
exit 0
