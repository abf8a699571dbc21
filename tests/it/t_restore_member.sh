#!/usr/bin/env bash
# versions: all
# san: yes
# etcd-restore, one member: restore a populated snapshot (thousands of keys,
# overflow values, deletes, a compaction, a lease, auth users/roles), check
# the produced files independently, boot real etcd on it and compare every
# key/value/revision/version/lease and HashKV with the source at the
# snapshot revision; IDs equal etcdutl snapshot restore's with the same
# flags, and with --target-version so do the .snap and WAL bytes.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

CASE=setup
etcd_cluster src 1
SRC=${CL_URLS[0]}
populate "$SRC" 3000 || die "populate failed"
ectl "$SRC" snapshot save "$T/snap.db" >/dev/null 2>&1 || die "snapshot save failed"
REV=$(snap_rev "$T/snap.db")
ectl "$SRC" put /after/snapshot x >/dev/null # must not appear in the restore

PP=$(free_port)
PEER=http://127.0.0.1:$PP
IC="r1=$PEER"
flags=(--name r1 --initial-cluster "$IC" --initial-cluster-token rtok --initial-advertise-peer-urls "$PEER")

CASE=restore
out=$("$RESTORE" --from "$T/snap.db" "${flags[@]}" --data-dir "$T/r1" 2>&1)
check restore_exit test -d "$T/r1/member"
expect_match restore_reports_hash "$out" 'sha256 verified'
check restore_no_temp_left bash -c "! ls -a '$T' | grep -q restore-"
eutl snapshot restore "$T/snap.db" "${flags[@]}" --data-dir "$T/ref" >/dev/null 2>&1 || die "etcdctl restore failed"
expect_eq ids_equal_etcdutl "$($CHECK --ids "$T/r1/member/wal")" "$($CHECK --ids "$T/ref/member/wal")"
SNAPF=member/snap/0000000000000001-0000000000000001.snap
WALF=member/wal/0000000000000000-0000000000000000.wal
if version_ge "$EB_ETCD_VERSION" 3.6; then
	# a 3.6+ snapshot names its version: the default output is that
	# version's etcdutl's, byte for byte
	check default_is_snapshot_version_snap_identical cmp -s "$T/r1/$SNAPF" "$T/ref/$SNAPF"
	check default_is_snapshot_version_wal_identical cmp -s "$T/r1/$WALF" "$T/ref/$WALF"
	expect_match default_reports_target "$out" "for etcd $EB_ETCD_VERSION \(snapshot storage version $EB_ETCD_VERSION.0\)"
else
	expect_eq wal_records_identical_but_confstate "$($CHECK --wal-cmp "$T/r1/member/wal" "$T/ref/member/wal" 2>&1)" same
	expect_match default_reports_any "$out" "for etcd 3.4 to 3.7"
fi
# --target-version: that version's etcdutl's .snap and whole WAL segment
"$RESTORE" --from "$T/snap.db" "${flags[@]}" --target-version "$EB_ETCD_VERSION" --data-dir "$T/rt" >/dev/null 2>&1
check target_snap_file_identical_to_etcdutl cmp -s "$T/rt/$SNAPF" "$T/ref/$SNAPF"
check target_wal_segment_identical_to_etcdutl cmp -s "$T/rt/$WALF" "$T/ref/$WALF"
chk=$($CHECK "$T/r1" --members 1 2>&1)
expect_match independent_file_checks "$chk" '^ok '
st=$(eutl snapshot status -w json "$T/r1/member/snap/db" 2>&1)
expect_match bbolt_check_by_etcdctl_status "$st" "\"revision\":$REV"
expect_eq db_perms "$(stat -c %a "$T/r1/member/snap/db")" 600
expect_eq wal_size "$(stat -c %s "$T/r1/member/wal/0000000000000000-0000000000000000.wal")" 64000000

CASE=boot
start_restored r1 "$T/r1" "$IC" rtok "$PEER"
wait_healthy "$R_URL" || { tail -20 "$T/r1.log"; die "restored etcd did not start"; }
pass boot_restored_member
expect_eq kv_equal_at_snapshot_rev "$(kv_at "$R_URL" | md5sum)" "$(kv_at "$SRC" "$REV" | md5sum)"
n=$(kv_at "$R_URL" | wc -l)
check kv_count_thousands test "$n" -gt 2500
expect_eq hashkv_equal "$(hashkv "$R_URL" "$REV")" "$(hashkv "$SRC" "$REV")"
ml=$(ectl "$R_URL" member list -w json)
expect_eq member_id_hex "$(python3 -c 'import json,sys; print("%x" % json.load(sys.stdin)["members"][0]["ID"])' <<<"$ml")" \
	"$($CHECK --ids "$T/ref/member/wal" | cut -d' ' -f1)"
expect_eq cluster_id_hex "$(python3 -c 'import json,sys; print("%x" % json.load(sys.stdin)["header"]["cluster_id"])' <<<"$ml")" \
	"$($CHECK --ids "$T/ref/member/wal" | cut -d' ' -f2)"
expect_match users_restored "$(ectl "$R_URL" user list)" 'alice'
expect_match role_restored "$(ectl "$R_URL" role get reader)" '/registry/'
expect_match lease_restored "$(ectl "$R_URL" lease list)" 'found 1 leases'
ectl "$R_URL" put /written/after/restore yes >/dev/null
expect_eq write_after_restore "$(ectl "$R_URL" get /written/after/restore --print-value-only)" yes
expect_eq revision_continues "$(revision "$R_URL")" $((REV + 1))
ectl "$R_URL" compact "$((REV + 1))" >/dev/null
check compact_after_restore ectl "$R_URL" defrag
stop_pid "$R_PID"

CASE=waldir
PP2=$(free_port)
PEER2=http://127.0.0.1:$PP2
"$RESTORE" --from "$T/snap.db" --name w1 --initial-cluster "w1=$PEER2" --initial-advertise-peer-urls "$PEER2" \
	--data-dir "$T/w1" --wal-dir "$T/w1wal" >/dev/null 2>&1
check waldir_layout test -f "$T/w1wal/0000000000000000-0000000000000000.wal" -a ! -e "$T/w1/member/wal"
expect_match waldir_checks "$($CHECK "$T/w1" --wal-dir "$T/w1wal" 2>&1)" '^ok '
start_restored w1 "$T/w1" "w1=$PEER2" etcd-cluster "$PEER2" --wal-dir "$T/w1wal"
wait_healthy "$R_URL" || { tail -20 "$T/w1.log"; die "etcd with --wal-dir did not start"; }
expect_eq waldir_boot_data "$(ectl "$R_URL" get txn/b --print-value-only)" 2
stop_pid "$R_PID"
exit 0
