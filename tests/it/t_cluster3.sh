#!/usr/bin/env bash
# versions: all
# Three members: status shows every member and agreeing hashes; the snapshot
# comes from a follower unless --member says otherwise; a stopped member is
# reported by name with a non-zero exit, and backups still work.
. "$(dirname "$0")/../lib.sh"

etcd_cluster m 3
put_keys "${CL_URLS[0]}" k/ 30

CASE=status
out=$("$BACKUP" status --endpoints "$CL_ENDPOINTS" -o json 2>"$T/st.err")
expect_eq "status of a healthy cluster exits 0" "$?" 0
expect_eq "status lists three reachable members" "$(jq '[.endpoints[] | select(.reachable)] | length' <<<"$out")" 3
expect_eq "exactly one leader" "$(jq '[.endpoints[] | select(.is_leader)] | length' <<<"$out")" 1
expect_eq "hashes agree" "$(jq -r .hashes_agree <<<"$out")" true
expect_eq "all HashKV values equal" "$(jq '[.endpoints[].hashkv] | unique | length' <<<"$out")" 1
LEADER=$(jq -r '.endpoints[] | select(.is_leader) | .member_id' <<<"$out")
LEADER_EP=$(jq -r '.endpoints[] | select(.is_leader) | .endpoint' <<<"$out")
# every version's own Status fields: 3.6+ report the storage version, the
# quota and the downgrade state; before, those stay out
if version_ge "$EB_ETCD_VERSION" 3.6; then
	# a new cluster's members raise their storage version on their own,
	# seconds after the cluster version settles (measured: 3.7 members
	# still said 3.5.0 right after start): wait for it, up to 30 s
	for _ in $(seq 60); do
		[ "$(jq -r '.endpoints[0].storage_version' <<<"$out")" = "$EB_ETCD_VERSION.0" ] && break
		sleep 0.5
		out=$("$BACKUP" status --endpoints "$CL_ENDPOINTS" -o json 2>"$T/st.err")
	done
	expect_eq "status storage version (3.6+)" "$(jq -r '.endpoints[0].storage_version' <<<"$out")" "$EB_ETCD_VERSION.0"
	check "status db quota (3.6+)" test "$(jq -r '.endpoints[0].db_size_quota' <<<"$out")" -gt 0
	expect_eq "status downgrade off (3.6+)" "$(jq -r '.endpoints[0].downgrade.enabled' <<<"$out")" false
else
	expect_eq "status has no storage version before 3.6" "$(jq -r '.endpoints[0].storage_version // "none"' <<<"$out")" none
fi
expect_match "status version is this etcd's" "$(jq -r '.endpoints[0].version' <<<"$out")" "^$EB_ETCD_VERSION\\."
table=$("$BACKUP" status --endpoints "$CL_ENDPOINTS")
if version_ge "$EB_ETCD_VERSION" 3.6; then
	expect_match "status table shows db size / quota (3.6+)" "$table" "KiB / [0-9.]+ GiB"
fi
expect_match "table says all members agree" "$table" "all members agree"

CASE=member-choice
"$BACKUP" snapshot --endpoints "$CL_ENDPOINTS" --to "$T/store" -o json >"$T/a.json" 2>/dev/null
expect_eq "snapshot from the cluster exits 0" "$?" 0
check "auto picks a follower, not the leader" test "$(jq -r .member_id "$T/a.json")" != "$LEADER"
sleep 1.1
"$BACKUP" snapshot --endpoints "$CL_ENDPOINTS" --to "$T/store" --member leader -o json >"$T/b.json" 2>/dev/null
expect_eq "--member leader picks the leader" "$(jq -r .member_id "$T/b.json")" "$LEADER"
sleep 1.1
"$BACKUP" snapshot --endpoints "$CL_ENDPOINTS" --to "$T/store" --member "${CL_URLS[2]}" -o json >"$T/c.json" 2>/dev/null
expect_eq "--member URL picks that endpoint" "$(jq -r .endpoint "$T/c.json")" "${CL_URLS[2]}"
"$BACKUP" snapshot --endpoints "$CL_ENDPOINTS" --to "$T/store" --member http://127.0.0.1:1 2>"$T/d.err"
expect_eq "--member not in --endpoints is a usage error" "$?" 2

CASE=member-down
# stop a follower
for i in 0 1 2; do [ "${CL_URLS[$i]}" != "$LEADER_EP" ] && { DOWN=$i; break; }; done
stop_pid "${CL_PIDS[$DOWN]}"
"$BACKUP" status --endpoints "$CL_ENDPOINTS" >"$T/s.out" 2>"$T/s.err"
expect_eq "status with a stopped member exits 3 (unreachable)" "$?" 3
expect_match "status names the stopped member" "$(cat "$T/s.err")" "member ${CL_URLS[$DOWN]} is unreachable"
t0=$SECONDS
sleep 1.1
"$BACKUP" snapshot --endpoints "$CL_ENDPOINTS" --to "$T/store" -o json >"$T/e.json" 2>/dev/null
expect_eq "snapshot still succeeds from a live member" "$?" 0
check "it did not use the stopped member" test "$(jq -r .endpoint "$T/e.json")" != "${CL_URLS[$DOWN]}"
check "no hang: finished within 15 s" test $((SECONDS - t0)) -lt 15
expect_eq "four backups listed" "$("$BACKUP" list --from "$T/store" -o json | jq length)" 4

CASE=mixed
THREE=$CL_ENDPOINTS
etcd_cluster other 1
OTHER=${CL_URLS[0]}
"$BACKUP" status --endpoints "$THREE,$OTHER" >/dev/null 2>"$T/mx.err"
rc=$?
expect_eq "status of endpoints from two clusters exits 7" "$rc" 7
expect_match "says the endpoints belong to different clusters" "$(cat "$T/mx.err")" "different clusters"
"$BACKUP" snapshot --endpoints "$THREE,$OTHER" --to "$T/mstore" 2>/dev/null
check "snapshot refuses endpoints of two clusters" test $? -ne 0
check "and writes nothing" test ! -e "$T/mstore"
