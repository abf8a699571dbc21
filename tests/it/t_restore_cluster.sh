#!/usr/bin/env bash
# versions: all
# etcd-restore --all-members: one run writes the data dir of every member
# of a 3-member cluster from one read of the snapshot; each member's IDs
# equal etcdctl's, the three etcd processes form a cluster, serve the
# source's data and HashKV, and accept writes.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

CASE=setup
etcd_cluster src 1
SRC=${CL_URLS[0]}
populate "$SRC" 1500 || die "populate failed"
ectl "$SRC" snapshot save "$T/snap.db" >/dev/null 2>&1 || die "snapshot save failed"
REV=$(snap_rev "$T/snap.db")

IC="" PEERS=()
for n in n1 n2 n3; do
	p=http://127.0.0.1:$(free_port)
	PEERS+=("$p")
	IC+="${IC:+,}$n=$p"
done

CASE=restore
out=$("$RESTORE" --from "$T/snap.db" --all-members "$T/out" --initial-cluster "$IC" --initial-cluster-token tok3 2>&1)
check all_members_exit test -d "$T/out/n3/member"
expect_eq all_members_dirs "$(ls "$T/out" | tr '\n' ' ')" "n1 n2 n3 "
i=0
for n in n1 n2 n3; do
	eutl snapshot restore "$T/snap.db" --name $n --initial-cluster "$IC" --initial-cluster-token tok3 \
		--initial-advertise-peer-urls "${PEERS[$i]}" --data-dir "$T/ref-$n" >/dev/null 2>&1 || die "etcdctl restore $n failed"
	expect_eq "ids_equal_etcdctl_$n" "$($CHECK --ids "$T/out/$n/member/wal")" "$($CHECK --ids "$T/ref-$n/member/wal")"
	expect_eq "wal_records_equal_etcdctl_$n" "$($CHECK --wal-cmp "$T/out/$n/member/wal" "$T/ref-$n/member/wal" 2>&1)" same
	expect_match "independent_checks_$n" "$($CHECK "$T/out/$n" --members 3 2>&1)" '^ok '
	# byte for byte up to 3.5; etcdutl 3.6+ create the members in Go map
	# order, so only their v2 indexes may differ
	if version_ge "$EB_ETCD_VERSION" 3.6; then
		expect_eq "snap_equal_$n" "$($CHECK --snap-cmp "$T/out/$n/member/snap/0000000000000001-0000000000000003.snap" \
			"$T/ref-$n/member/snap/0000000000000001-0000000000000003.snap" 2>&1)" same
	else
		check "snap_identical_$n" cmp -s "$T/out/$n/member/snap/0000000000000001-0000000000000003.snap" \
			"$T/ref-$n/member/snap/0000000000000001-0000000000000003.snap"
	fi
	i=$((i + 1))
done
check same_db_for_all cmp -s "$T/out/n1/member/snap/db" "$T/out/n3/member/snap/db"

CASE=boot
URLS=()
i=0
for n in n1 n2 n3; do
	start_restored $n "$T/out/$n" "$IC" tok3 "${PEERS[$i]}"
	URLS+=("$R_URL")
	i=$((i + 1))
done
wait_healthy "${URLS[@]}" || { tail -20 "$T"/out/*.log; die "restored cluster did not start"; }
pass cluster_forms
expect_eq three_members_started "$(ectl "${URLS[0]}" member list | grep -c ', started, ')" 3
want=$(kv_at "$SRC" "$REV" | md5sum)
wanth=$(hashkv "$SRC" "$REV")
for i in 0 1 2; do
	expect_eq "kv_equal_n$((i + 1))" "$(kv_at "${URLS[$i]}" | md5sum)" "$want"
	expect_eq "hashkv_equal_n$((i + 1))" "$(hashkv "${URLS[$i]}" "$REV")" "$wanth"
done
ectl "${URLS[0]}" put /after/restore ok >/dev/null
sleep 0.5
expect_eq write_replicates "$(ectl "${URLS[2]}" get /after/restore --print-value-only --consistency=s)" ok
exit 0
