#!/usr/bin/env bash
# The upgrade path: a snapshot of etcd 3.N, restored by etcd-restore, boots
# on etcd 3.(N+1) with the same data (a failed control-plane upgrade rolled
# forward): 3.4 -> 3.5, 3.5 -> 3.6, 3.6 -> 3.7, for every pair whose two
# versions are in EB_ETCD_VERSIONS.  Keys, values, create/mod revisions,
# versions and leases are compared at the snapshot's revision, HashKV where
# both versions hash alike (3.5+), and the new member accepts writes.  The
# same restore with --target-version 3.(N+1) boots too; the reverse (3.(N+1)
# data for 3.N) is refused where the snapshot names its storage version.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/restore_common.sh"

versions=${EB_ETCD_VERSIONS:-"3.4 3.5 3.6 3.7"}
BASE_PATH=$PATH
bin_of() { # MINOR -> dir of etcd, etcdctl (etcdutl from 3.5)
	if [ "$1" = 3.4 ]; then dirname "$(command -v etcd)"; return; fi
	local o; o=$("$TOP/tests/etcd-versions.sh" "$1" 2>"$T/ev.err") || return 1
	echo "${o#* }"
}
in_list() { grep -qw -- "$1" <<<"$versions"; }

pairs=0
for pair in 3.4:3.5 3.5:3.6 3.6:3.7; do
	from=${pair%%:*} to=${pair#*:}
	in_list "$from" && in_list "$to" || continue
	pairs=$((pairs + 1))
	CASE="$from-to-$to"
	fb=$(bin_of "$from") || die "etcd $from is not available: $(tail -2 "$T/ev.err")"
	tb=$(bin_of "$to") || die "etcd $to is not available: $(tail -2 "$T/ev.err")"
	PATH="$fb:$BASE_PATH"
	etcd_cluster "u${from/./}" 1
	SRC=${CL_URLS[0]}
	populate "$SRC" 400 || die "populate on $from failed"
	out=$("$BACKUP" snapshot --endpoints "$SRC" --to "$T/store-$from" --no-progress 2>"$T/e") || die "snapshot of $from failed: $(cat "$T/e")"
	ID=$(sed -n 's/^backup \([^ ]*\) .*/\1/p' <<<"$out")
	REV=$(jq -r .revision "$T/store-$from/$ID.manifest.json")
	want=$(kv_at "$SRC" "$REV" | md5sum)
	wanth=$(hashkv "$SRC" "$REV")
	stop_pid "${CL_PIDS[0]}"
	for mode in default target; do
		extra=(); [ $mode = target ] && extra=(--target-version "$to")
		P=http://127.0.0.1:$(free_port)
		d=$T/up-$from-$to-$mode
		"$RESTORE" --from "$T/store-$from" --backup "$ID" --name m1 --initial-cluster "m1=$P" \
			--initial-advertise-peer-urls "$P" --data-dir "$d" "${extra[@]}" >"$T/r.out" 2>&1
		expect_eq "${from}_to_${to}__${mode}_restore_exits_0" "$?" 0
		PATH="$tb:$BASE_PATH"
		start_restored m1 "$d" "m1=$P" etcd-cluster "$P"
		if ! wait_healthy "$R_URL"; then
			fail "${from}_to_${to}__${mode}_boots" "etcd $to did not start: $(tail -3 "$d.log")"
			stop_pid "$R_PID"; PATH="$fb:$BASE_PATH"; continue
		fi
		expect_match "${from}_to_${to}__${mode}_runs_new_version" "$(ectl "$R_URL" endpoint status -w json | jq -r '.[0].Status.version')" "^$to\\."
		expect_eq "${from}_to_${to}__${mode}_same_data" "$(kv_at "$R_URL" "$REV" | md5sum)" "$want"
		if [ "$from" != 3.4 ]; then
			expect_eq "${from}_to_${to}__${mode}_same_hashkv" "$(hashkv "$R_URL" "$REV")" "$wanth"
		fi
		ectl "$R_URL" put /after/upgrade ok >/dev/null
		expect_eq "${from}_to_${to}__${mode}_writes" "$(ectl "$R_URL" get /after/upgrade --print-value-only)" ok
		stop_pid "$R_PID"
		PATH="$fb:$BASE_PATH"
	done
	# the other way round: data of the newer version for the older one
	if version_ge "$to" 3.6; then
		PATH="$tb:$BASE_PATH"
		etcd_cluster "n${to/./}" 1
		out=$("$BACKUP" snapshot --endpoints "${CL_URLS[0]}" --to "$T/store-$to" --no-progress 2>"$T/e") || die "snapshot of $to failed"
		stop_pid "${CL_PIDS[0]}"
		P=http://127.0.0.1:$(free_port)
		mkdir -p "$T/down-$to"
		"$RESTORE" --from "$T/store-$to" --backup latest --name m1 --initial-cluster "m1=$P" \
			--initial-advertise-peer-urls "$P" --data-dir "$T/down-$to/m1" --target-version "$from" >"$T/r.out" 2>&1
		expect_eq "${to}_for_${from}__refused" "$?" 2
		expect_match "${to}_for_${from}__says_why" "$(cat "$T/r.out")" "refuses data written by a newer version"
		expect_eq "${to}_for_${from}__nothing_written" "$(ls -A "$T/down-$to")" ""
	fi
	PATH=$BASE_PATH
done
[ $pairs -gt 0 ] || fail upgrade__pairs "EB_ETCD_VERSIONS ($versions) holds no consecutive pair"
[ "$_NFAIL" -eq 0 ]
