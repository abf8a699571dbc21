#!/usr/bin/env bash
# etcd-restore onto a filesystem without room: refused before the first
# byte is written (exit 6, a message that says how much is needed and how
# much is free), nothing left behind, for the data dir and for --wal-dir.
# With room, the same restore succeeds and etcd boots on it (etcd itself
# preallocates a second 64 MB WAL segment when it starts: a restore that
# leaves less room than that would not boot).  The small
# filesystems are tmpfs mounts (root), which also refuse fallocate past
# their size as a full disk does.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

CASE=setup
etcd_cluster src 1
SRC=${CL_URLS[0]}
populate "$SRC" 300 || die "populate failed"
ectl "$SRC" snapshot save "$T/snap.db" >/dev/null 2>&1 || die "snapshot save failed"
small_fs "$T/small" 100 || die "cannot mount a tmpfs at $T/small (the test runs as root)"
small_fs "$T/wal" 20 || die "cannot mount a tmpfs at $T/wal"
small_fs "$T/roomy" 150 || die "cannot mount a tmpfs at $T/roomy"
small_fs "$T/own-disk" 150 || die "cannot mount a tmpfs at $T/own-disk"
small_fs "$T/own-small" 60 || die "cannot mount a tmpfs at $T/own-small"

CASE=data
"$RESTORE" --from "$T/snap.db" --data-dir "$T/small/m.etcd" >"$T/o1" 2>"$T/e1"
expect_eq space__data_dir_full_exits_6 "$?" 6
expect_match space__says_needed_and_free "$(cat "$T/e1")" "needs about [0-9]+ MiB.*[0-9]+ MiB are free"
expect_eq space__data_dir_nothing_left "$(ls -A "$T/small")" ""

CASE=wal
"$RESTORE" --from "$T/snap.db" --data-dir "$T/d2.etcd" --wal-dir "$T/wal/w" >"$T/o2" 2>"$T/e2"
expect_eq space__wal_dir_full_exits_6 "$?" 6
expect_match space__names_wal_dir "$(cat "$T/e2")" "wal-dir $T/wal/w"
expect_eq space__wal_nothing_left "$(ls -A "$T/wal")" ""
check_fails space__data_dir_not_created test -e "$T/d2.etcd"

CASE=roomy
PEER=http://127.0.0.1:$(free_port)
"$RESTORE" --from "$T/snap.db" --data-dir "$T/roomy/m.etcd" --name r1 --initial-cluster "r1=$PEER" \
	--initial-advertise-peer-urls "$PEER" >"$T/o3" 2>"$T/e3"
expect_eq space__with_room_succeeds "$?" 0
expect_eq space__wal_preallocated "$(du -B1 "$T/roomy/m.etcd/member/wal/0000000000000000-0000000000000000.wal" | cut -f1)" 64000000
start_restored r1 "$T/roomy/m.etcd" "r1=$PEER" etcd-cluster "$PEER"
wait_answers "$R_URL" "$R_PID" && pass space__restored_boots || fail space__restored_boots "$(tail -3 "$T/roomy/m.etcd.log")"

# The data dir is a mount point of its own (etcd on its own disk, as etcd's
# hardware guide advises), empty: the restore stages inside it, so the
# bytes land on that disk and nothing is written beside it; a rename could
# neither cross to it nor replace a mount point.
CASE=mount_point
"$RESTORE" --from "$T/snap.db" --data-dir "$T/own-small" >"$T/o4" 2>"$T/e4"
expect_eq space__mount_point_too_small_exits_6 "$?" 6
expect_match space__mount_point_measured_itself "$(cat "$T/e4")" "own-small.* [0-9]+ MiB are free"
expect_eq space__mount_point_left_empty "$(ls -A "$T/own-small")" ""
PEER=http://127.0.0.1:$(free_port)
: >"$T/o5"; : >"$T/e5"
before=$(ls -A "$T")
"$RESTORE" --from "$T/snap.db" --data-dir "$T/own-disk" --name r2 --initial-cluster "r2=$PEER" \
	--initial-advertise-peer-urls "$PEER" >"$T/o5" 2>"$T/e5"
expect_eq space__mount_point_restore_succeeds "$? $(ls -A "$T/own-disk")" "0 member"
expect_eq space__mount_point_nothing_beside "$(ls -A "$T")" "$before"
check space__mount_point_bytes_on_its_disk test "$(df -B1 --output=used "$T/own-disk" | tail -1)" -gt 64000000
start_restored r2 "$T/own-disk" "r2=$PEER" etcd-cluster "$PEER"
wait_answers "$R_URL" "$R_PID" && pass space__mount_point_boots || fail space__mount_point_boots "$(tail -3 "$T/own-disk.log")"
[ "$_NFAIL" -eq 0 ]
