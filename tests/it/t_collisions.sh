#!/usr/bin/env bash
# Two backups can never replace each other.  Two snapshots started at the
# same moment against the same cluster (same second, same revision) get
# distinct IDs and both exist afterwards, on a local store and on S3; and
# the stores themselves refuse to overwrite: a second write of a name that
# exists fails (exit non-zero, "exists"), keeps the first's bytes and
# leaves no temp file or pending multipart upload.
# tsan: yes
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/rgw.sh"
rgw_start || die "RGW did not start"
B=bk-coll
s3cli s3 mb "s3://$B" >/dev/null || die "make bucket"
MiB=1048576
export EB_S3_PART_SIZE=$((5 * MiB))
S3T=$TOP/build/rel/tools/s3tool

etcd_cluster s 1
EP=${CL_URLS[0]}
"$TOP/build/rel/tools/eb_load" "$EP" 10 100000 blob/ || die "load failed"

# twin STORE [flags]: two snapshots at once; sets IDS (sorted, one a line)
twin() {
	local st=$1 a b ra rb; shift
	"$BACKUP" snapshot --endpoints "$EP" --to "$st" --no-progress "$@" >"$T/a.out" 2>"$T/a.err" & a=$!
	"$BACKUP" snapshot --endpoints "$EP" --to "$st" --no-progress "$@" >"$T/b.out" 2>"$T/b.err" & b=$!
	wait $a; ra=$?; wait $b; rb=$?
	TWIN_RC="$ra $rb"
	IDS=$(cat "$T/a.out" "$T/b.out" | sed -n 's/^backup \([^ ]*\) .*/\1/p' | sort)
}

CASE=local
twin "$T/store"
expect_eq local__both_exit_0 "$TWIN_RC" "0 0"
expect_eq local__two_distinct_ids "$(sort -u <<<"$IDS" | wc -l)" 2
expect_eq local__same_second_same_revision "$(cut -d- -f1,2 <<<"$IDS" | sort -u | wc -l)" 1
expect_eq local__both_listed "$("$BACKUP" list --from "$T/store" -o json | jq length)" 2
check local__both_verify "$BACKUP" verify --from "$T/store" --backup all
expect_eq local__no_temp_files "$(ls -A "$T/store" | grep -c '^\.')" 0

CASE=s3
U=s3://$B/twins
twin "$U" --s3-endpoint "$S3_ENDPOINT"
expect_eq s3__both_exit_0 "$TWIN_RC" "0 0"
expect_eq s3__two_distinct_ids "$(sort -u <<<"$IDS" | wc -l)" 2
expect_eq s3__four_objects "$(object_count "$B" twins/)" 4
check s3__both_verify "$BACKUP" verify --from "$U" --s3-endpoint "$S3_ENDPOINT" --backup all

CASE=no_overwrite
U=s3://$B/nover
F=(--endpoint "$S3_ENDPOINT")
head -c 1000 /dev/urandom >"$T/small1"; head -c 1000 /dev/urandom >"$T/small2"
head -c $((6 * MiB)) /dev/urandom >"$T/big1"; head -c $((6 * MiB)) /dev/urandom >"$T/big2"
for kind in putbytes:small put:small put:big; do
	cmd=${kind%%:*} f=${kind#*:}
	name=obj-$cmd-$f
	"$S3T" "${F[@]}" "$cmd" "$U" "$name" <"$T/${f}1" 2>"$T/w1.err" || fail "s3_${cmd}_${f}__first" "$(cat "$T/w1.err")"
	if "$S3T" "${F[@]}" "$cmd" "$U" "$name" <"$T/${f}2" 2>"$T/w2.err"; then
		fail "s3_${cmd}_${f}__second_refused" "the second write of $name succeeded"
	else
		expect_match "s3_${cmd}_${f}__says_exists" "$(cat "$T/w2.err")" "exists"
	fi
	s3cli s3 cp "$U/$name" "$T/back" >/dev/null 2>&1
	check "s3_${cmd}_${f}__first_bytes_kept" cmp -s "$T/back" "$T/${f}1"
done
expect_eq s3__no_pending_upload "$(pending_uploads "$B")" 0
[ "$_NFAIL" -eq 0 ]
