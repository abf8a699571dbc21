#!/usr/bin/env bash
# versions: all
# san: yes
# Continuous backup and point-in-time restore, on a real etcd:
#  - `etcd-backup replicate` takes a full backup, then segments; writes in
#    phases (puts, overwrites, deletes, a prefix delete, a multi-operation
#    txn, a key on a short lease); restores to revisions at a segment
#    boundary and inside one, and to a time: etcd booted on each serves
#    exactly `etcdctl get --rev R` of the source (key, value, create and mod
#    revision, version, lease) and the same HashKV at R; the restore checks
#    HashKV against the live one itself at segment ends; the leased key
#    expires after the restore;
#  - SIGTERM: exit 0, the open segment committed; kill -9 mid-segment, then
#    a restart: no gap, no revision twice;
#  - a compaction while replicate was down: a gap, a new full backup; a
#    restore into the gap is refused naming the covered ranges, nothing
#    written; after the gap it works;
#  - points no chain covers are refused; --bump-revision works with a point.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/restore_common.sh"
APIDS=()

etcd_cluster src 1
EP=${CL_URLS[0]}
S=$T/store
put_keys "$EP" base- 30 || die "put failed"

rep_start() { # extra flags
	"$BACKUP" replicate --endpoints "$EP" --to "$S" --segment-interval "${SEGINT:-1s}" "$@" >>"$T/rep.log" 2>&1 &
	REP=$!
	track_pid "$REP"
}
wait_for() { # what command...: up to WAIT_S (20) s
	local what=$1; shift
	for _ in $(seq $((${WAIT_S:-20} * 10))); do "$@" && return 0; sleep 0.1; done
	echo "timed out waiting for $what" >&2
	return 1
}
has_full() { ls "$S"/*.manifest.json >/dev/null 2>&1; }
segs() { ls "$S" 2>/dev/null | sed -n 's/.*\.seg\.\([0-9]*\)-\([0-9]*\)\.segment\.json$/\1 \2/p' | sort -n; }
last_seg_end() { segs | tail -1 | awk '{ print $2 }'; }
rev_now() { revision "$EP"; }

CASE=replicate
rep_start --metrics-file "$T/rep.prom"
wait_for "the full backup" has_full || die "no full backup: $(tail -5 "$T/rep.log")"
FULL_REV=$(python3 -c 'import json,sys,glob; print(json.load(open(glob.glob(sys.argv[1]+"/*.manifest.json")[0]))["revision"])' "$S")
# a second instance on the same store waits for the lock, writes nothing
"$BACKUP" replicate --endpoints "$EP" --to "$S" --segment-interval 1s >"$T/rep2.log" 2>&1 &
REP2=$!
track_pid "$REP2"
check lock_second_instance_waits wait_for "the second instance to wait" grep -q "another etcd-backup replicate writes to" "$T/rep2.log"
# #18.3: the lock is the store, however it is spelled (DIR/, file://DIR, a link)
ln -s "$S" "$T/store-link"
i=0
for spelled in "$S/" "file://$S" "$T/store-link"; do
	i=$((i + 1))
	"$BACKUP" replicate --endpoints "$EP" --to "$spelled" --segment-interval 1s >"$T/rep3-$i.log" 2>&1 &
	p=$!; track_pid "$p"
	check "lock_same_store_spelled_${i}_waits" wait_for "the instance on $spelled to wait" grep -q "another etcd-backup replicate writes to" "$T/rep3-$i.log"
	kill -TERM "$p"; wait "$p"
done
check lock_help_says_lock bash -c '"$1" replicate --help | grep -q "a lock in etcd"' _ "$BACKUP"
# phase 1: puts; phase 2: overwrites, deletes, a prefix delete; phase 3: txn, lease
for i in $(seq 0 19); do ectl "$EP" put "/registry/pods/p$i" "spec-$i" >/dev/null; done
R1=$(rev_now)
sleep 1.5
T_MID=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
R_AT_T=$(rev_now)
sleep 1.5
for i in $(seq 0 9); do ectl "$EP" put "/registry/pods/p$i" "spec-$i-v2" >/dev/null; done
ectl "$EP" del /registry/pods/p19 >/dev/null
ectl "$EP" del --prefix base-1 >/dev/null
R2=$(rev_now)
ectl "$EP" txn >/dev/null <<'TXN'

put /txn/a 1
put /txn/b 2
del /registry/pods/p18


TXN
LEASE=$(ectl "$EP" lease grant 12 | awk '{ print $2 }')
ectl "$EP" put /leased/k v --lease "$LEASE" >/dev/null
R3=$(rev_now)
for i in $(seq 0 4); do ectl "$EP" put "/late/$i" x >/dev/null; done
R4=$(rev_now)
wait_for "a segment ending at $R4" bash -c '[ "$(ls "$1" | grep -c "\.seg\.[0-9]*-$2\.segment\.json$")" = 1 ]' _ "$S" "$R4" ||
	fail replicate_segments "no segment ends at $R4: $(segs | tr '\n' ' ')"
kill -TERM "$REP"; wait "$REP"; rc=$?
expect_eq replicate_sigterm_exit_0 "$rc" 0
# the waiting instance takes over once the lock is released; stopped, it
# leaves the chain as it was
check lock_standby_takes_over wait_for "the standby to take the lock" grep -q "holding the lock" "$T/rep2.log"
kill -TERM "$REP2"; wait "$REP2"; rc=$?
expect_eq lock_standby_sigterm_exit_0 "$rc" 0
expect_eq lock_standby_no_second_full "$(ls "$S"/*.manifest.json | wc -l)" 1
contiguous() { # FULL LAST: the segments run from FULL+1 to LAST, no gap, no revision twice
	segs >"$T/segs"
	python3 - "$1" "$2" "$T/segs" <<'PY'
import sys
full, last = int(sys.argv[1]), int(sys.argv[2])
prev = full
for line in open(sys.argv[3]).read().split("\n"):
    if not line: continue
    f, l = map(int, line.split())
    assert f == prev + 1, ("gap or duplicate", f, prev)
    prev = l
assert prev == last, (prev, last)
PY
}
# the chain runs on past R4: the lock key's own changes (released by the
# first instance, taken by the standby) are etcd changes too
LAST=$(last_seg_end)
check replicate_chain_reaches_r4 [ "${LAST:-0}" -ge "$R4" ]
check replicate_chain_contiguous contiguous "$FULL_REV" "$LAST"
# the textfile after the stop: down, nothing behind, the figures of the run
prom=$(cat "$T/rep.prom" 2>/dev/null)
expect_match metrics_up_0_after_stop "$prom" '^etcd_backup_replicate_up 0$'
expect_match metrics_lag_0 "$prom" '^etcd_backup_replicate_lag_revisions 0$'
expect_match metrics_last_revision "$prom" "^etcd_backup_replicate_last_revision ($R4|$((R4 + 1)))$"
expect_match metrics_segments "$prom" '^etcd_backup_replicate_segments_total [1-9][0-9]*$'
expect_match metrics_gaps_0 "$prom" '^etcd_backup_replicate_gaps_total 0$'
# node_exporter runs as another user: the textfile is 0644, as snapshot's
expect_eq metrics_file_mode_0644 "$(stat -c %a "$T/rep.prom")" 644
PROMTOOL=$("$TOP/.ci/get-promtool.sh" 2>"$T/get-promtool.log") || PROMTOOL=
if [ -n "$PROMTOOL" ]; then
	check metrics_promtool_lint bash -c '"$1" check metrics <"$2"' _ "$PROMTOOL" "$T/rep.prom"
else
	fail metrics_promtool_lint "no promtool: $(tail -1 "$T/get-promtool.log")"
fi
# a revision strictly inside a segment exists among the ones we restore
inside=$(segs | awk -v r="$R2" '$1 < r && r < $2 { print "yes" }')
[ -n "$inside" ] || R2=$(segs | awk '$2 > $1 { print $1 + 1; exit }')

CASE=restore
for R in "$R1" "$R2" "$R3" "$R4"; do
	if ! restore_at "r$R" --to-revision "$R"; then fail "pitr_restore_$R" "etcd-restore failed"; continue; fi
	expect_eq "pitr_keys_equal_source_at_$R" "$(kv_at "$R_URL")" "$(kv_at "$EP" "$R")"
	expect_eq "pitr_revision_$R" "$(revision "$R_URL")" "$R"
	expect_eq "pitr_hashkv_equal_source_at_$R" "$(hashkv "$R_URL" "$R")" "$(hashkv "$EP" "$R")"
	if grep -q "\.seg\.[0-9]*-$R\.segment\.json" <<<"$(ls "$S")"; then
		expect_match "pitr_restore_checked_hashkv_$R" "$(cat "$T/r$R.restore")" "HashKV at revision $R: [0-9]+, equal to the cluster's"
	fi
	[ "$R" = "$R3" ] && R3_URL=$R_URL || stop_pid "$R_PID"
done
# the leased key: there at R3, then gone when its lease expires in the restored cluster
expect_eq pitr_leased_key_present "$(ectl "$R3_URL" get /leased/k --print-value-only)" v
expect_match pitr_lease_restored "$(ectl "$R3_URL" lease list)" "$LEASE"
check pitr_leased_key_expires wait_for "the leased key to expire" bash -c \
	'[ -z "$(etcdctl --endpoints "$1" get /leased/k --print-value-only 2>/dev/null)" ]' _ "$R3_URL"
# to a time: the revision the source was at then
if restore_at rtime --to-time "$T_MID"; then
	expect_eq pitr_to_time_revision "$(revision "$R_URL")" "$R_AT_T"
	expect_eq pitr_to_time_keys "$(kv_at "$R_URL")" "$(kv_at "$EP" "$R_AT_T")"
	stop_pid "$R_PID"
else
	fail pitr_to_time "etcd-restore --to-time $T_MID failed"
fi
# --to-latest, bumped and marked compacted (the Kubernetes recovery)
if restore_at rbump --to-latest --bump-revision 1000000 --mark-compacted; then
	expect_eq pitr_latest_bumped_revision "$(revision "$R_URL")" $((LAST + 1000000))
	expect_eq pitr_latest_keys "$(kv_at "$R_URL" | cut -d' ' -f1,2)" "$(kv_at "$EP" "$LAST" | cut -d' ' -f1,2)"
	stop_pid "$R_PID"
else
	fail pitr_latest_bump "etcd-restore --to-latest --bump-revision failed"
fi
# points no chain covers: refused, nothing written
out=$("$RESTORE" --from "$S" --to-revision $((FULL_REV - 1)) --data-dir "$T/nope1" 2>&1); rc=$?
expect_eq pitr_before_full_refused "$rc $([ -e "$T/nope1" ] && echo written)" "8 "
expect_match pitr_before_full_names_ranges "$out" "revisions $FULL_REV-$LAST .*nearest: $FULL_REV \\(after\\)"
out=$("$RESTORE" --from "$S" --to-revision $((LAST + 100)) --data-dir "$T/nope2" 2>&1); rc=$?
expect_eq pitr_after_last_refused "$rc $([ -e "$T/nope2" ] && echo written)" "8 "
out=$("$RESTORE" --from "$S" --to-time 2099-01-01T00:00:00Z --data-dir "$T/nope6" 2>&1); rc=$?
expect_eq pitr_time_after_last_refused "$rc $([ -e "$T/nope6" ] && echo written)" "8 "
expect_match pitr_time_after_last_says "$out" "cover that time"
out=$("$RESTORE" --from "$S" --to-time 2001-01-01T00:00:00+02:00 --data-dir "$T/nope7" 2>&1); rc=$?
expect_eq pitr_time_before_first_refused "$rc $([ -e "$T/nope7" ] && echo written)" "8 "
check_fails pitr_bad_time_refused "$RESTORE" --from "$S" --to-time "yesterday" --data-dir "$T/nope8"
# #18.7: no zone, or a date that does not exist: a usage error showing the form
for bad in "2026-12-07T01:51:59" "2026-02-30T10:00:00Z" "2026-04-31T10:00:00+02:00"; do
	out=$("$RESTORE" --from "$S" --to-time "$bad" --data-dir "$T/nope9" 2>&1); rc=$?
	expect_eq "pitr_time_strict_${bad:0:10}_exit_2" "$rc $([ -e "$T/nope9" ] && echo written)" "2 "
	expect_match "pitr_time_strict_${bad:0:10}_shows_form" "$out" "with its zone.*like 2026-12-01T13:36:53Z"
done
check_fails pitr_backup_and_point_refused "$RESTORE" --from "$S" --backup latest --to-latest --data-dir "$T/nope3"

CASE=verify
out=$("$BACKUP" verify --from "$S" 2>&1); rc=$?
expect_eq verify_chain_ok "$rc" 0
expect_match verify_chain_row "$out" "\+chain OK \([0-9]+ segments, revisions $FULL_REV-$LAST\)"
expect_match list_shows_chain "$("$BACKUP" list --from "$S")" "\+ chain: [0-9]+ segments, revisions $FULL_REV-$LAST, until 20"
# one byte of a segment's data flipped: verify and restore refuse it, nothing written
SEG1=$(ls "$S" | grep '\.seg\..*\.zst$' | head -1)
cp "$S/$SEG1" "$T/seg.keep"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$S/$SEG1"
out=$("$BACKUP" verify --from "$S" 2>&1); rc=$?
expect_eq verify_damaged_segment_exit_5 "$rc" 5
expect_match verify_damaged_segment_named "$out" "chain FAILED: segment $SEG1"
out=$("$RESTORE" --from "$S" --to-latest --data-dir "$T/nope5" 2>&1); rc=$?
expect_eq restore_damaged_segment_refused "$rc $([ -e "$T/nope5" ] && echo written)" "5 "
cp "$T/seg.keep" "$S/$SEG1"
# #18.4 (on a copy of the store): a segment's object replaced by a later
# segment's bytes, its manifest's digests and sizes fixed up to match: the
# segment's own header says other revisions, so restore refuses it (exit 5)
F=$T/forged; rm -rf "$F"; cp -r "$S" "$F"
mapfile -t SEGMS < <(ls "$F" | grep '\.segment\.json$' | sort -t. -k3 -n)
if [ "${#SEGMS[@]}" -ge 3 ]; then
	A_M=$F/${SEGMS[0]} B_M=$F/${SEGMS[1]}
	cp "$F/$(jq -r .object "$B_M")" "$F/$(jq -r .object "$A_M")"
	jq --slurpfile b "$B_M" '.plain_sha256 = $b[0].plain_sha256 | .stored_sha256 = $b[0].stored_sha256 |
		.plain_size = $b[0].plain_size | .stored_size = $b[0].stored_size' "$A_M" >"$T/m" && cp "$T/m" "$A_M"
	out=$("$RESTORE" --from "$F" --to-latest --data-dir "$T/nope10" 2>&1); rc=$?
	expect_eq swapped_segment_restore_exit_5 "$rc $([ -e "$T/nope10" ] && echo written)" "5 "
	expect_match swapped_segment_named "$out" "holds revisions .* its manifest says"
	out=$("$BACKUP" verify --from "$F" 2>&1); rc=$?
	expect_eq swapped_segment_verify_exit_5 "$rc" 5
	# a segment manifest missing in the middle: --to-latest says so and refuses
	rm -rf "$F"; cp -r "$S" "$F"
	HOLE_AT=$(jq -r .prev_revision "$F/${SEGMS[1]}")
	rm "$F/${SEGMS[1]}"
	out=$("$RESTORE" --from "$F" --to-latest --data-dir "$T/nope11" 2>&1); rc=$?
	expect_eq hole_latest_exit_5 "$rc $([ -e "$T/nope11" ] && echo written)" "5 "
	expect_match hole_latest_says "$out" "broken after revision $HOLE_AT: .*missing.*beyond the hole"
	out=$("$RESTORE" --from "$F" --data-dir "$T/nope11" 2>&1); rc=$?
	expect_eq hole_store_alone_exit_5 "$rc" 5
	out=$("$RESTORE" --from "$F" --to-revision "$((HOLE_AT + 2))" --data-dir "$T/nope11" 2>&1); rc=$?
	expect_eq hole_past_it_exit_5 "$rc" 5
	out=$("$BACKUP" verify --from "$F" 2>&1); rc=$?
	expect_eq hole_verify_exit_5 "$rc" 5
	check hole_before_it_restores "$RESTORE" --from "$F" --to-revision "$HOLE_AT" --data-dir "$T/hole-ok"
else
	fail forged_segments_setup "fewer than 3 segments: ${SEGMS[*]}"
fi

CASE=kill9
# kill -9 mid-segment (a long interval: the open segment is lost), restart:
# the new instance waits until the dead one's lock lease ends
SEGINT=30s rep_start
wait_for "the lock" grep -q "holding the lock.*" "$T/rep.log"
for i in $(seq 0 9); do ectl "$EP" put "/k9/$i" a >/dev/null; done
sleep 1
kill -KILL "$REP"; wait "$REP" 2>/dev/null
check kill9_nothing_half_written bash -c '! ls "$1" | grep -q "^\." && [ -z "$(ls "$1" | grep -v "\.json$\|\.zst$")" ]' _ "$S"
: >"$T/rep.log"
rep_start
check kill9_restart_waits_for_dead_lock wait_for "the dead instance's lock" grep -q "another etcd-backup replicate" "$T/rep.log"
WAIT_S=30 check kill9_restart_takes_lock wait_for "the lock" grep -q "holding the lock" "$T/rep.log"
for i in $(seq 0 9); do ectl "$EP" put "/k9/$i" b >/dev/null; done
K9=$(rev_now)
wait_for "a segment ending at $K9" bash -c '[ "$(ls "$1" | grep -c "\.seg\.[0-9]*-$2\.segment\.json$")" = 1 ]' _ "$S" "$K9" ||
	fail kill9_resumed "no segment ends at $K9: $(tail -5 "$T/rep.log")"
kill -TERM "$REP"; wait "$REP"
expect_eq kill9_one_full_only "$(ls "$S"/*.manifest.json | wc -l)" 1
K9_LAST=$(last_seg_end)
check kill9_chain_reaches "[" "${K9_LAST:-0}" -ge "$K9" "]"
check kill9_no_gap_no_duplicate contiguous "$FULL_REV" "$K9_LAST"
if restore_at rk9 --to-revision "$K9"; then
	expect_eq kill9_restore_equal "$(kv_at "$R_URL")" "$(kv_at "$EP" "$K9")"
	stop_pid "$R_PID"
else
	fail kill9_restore "etcd-restore failed"
fi

CASE=gap
# replicate is down; etcd writes and compacts the history it never read
for i in $(seq 0 9); do ectl "$EP" put "/gap/$i" g >/dev/null; done
G_IN=$(rev_now)
for i in $(seq 0 4); do ectl "$EP" put "/gap/$i" h >/dev/null; done
ectl "$EP" compact "$(rev_now)" --physical >/dev/null
rep_start
wait_for "a second full backup" bash -c '[ "$(ls "$1"/*.manifest.json | wc -l)" = 2 ]' _ "$S" ||
	fail gap_new_full "no new full backup: $(tail -3 "$T/rep.log")"
for i in $(seq 0 4); do ectl "$EP" put "/after/$i" z >/dev/null; done
G_AFTER=$(rev_now)
wait_for "a segment ending at $G_AFTER" bash -c '[ "$(ls "$1" | grep -c "\.seg\.[0-9]*-$2\.segment\.json$")" = 1 ]' _ "$S" "$G_AFTER" ||
	fail gap_segments "no segment ends at $G_AFTER"
kill -TERM "$REP"; wait "$REP"
expect_match gap_logged "$(cat "$T/rep.log")" "GAP: etcd compacted revisions up to"
out=$("$RESTORE" --from "$S" --to-revision "$G_IN" --data-dir "$T/nope4" 2>&1); rc=$?
expect_eq gap_restore_refused "$rc $([ -e "$T/nope4" ] && echo written)" "8 "
expect_match gap_refusal_names_ranges "$out" "covered: revisions $FULL_REV-$K9_LAST .*; revisions [0-9]+-[0-9]+ .*; nearest: $K9_LAST \\(before\\) [0-9]+ \\(after\\)"
if restore_at rgap --to-revision "$G_AFTER"; then
	expect_eq gap_restore_after_equal "$(kv_at "$R_URL")" "$(kv_at "$EP" "$G_AFTER")"
	expect_eq gap_restore_after_hashkv "$(hashkv "$R_URL" "$G_AFTER")" "$(hashkv "$EP" "$G_AFTER")"
	stop_pid "$R_PID"
else
	fail gap_restore_after "etcd-restore failed"
fi
CASE=full_interval
# a new full every --full-interval: the old chain goes on up to the new
# full's revision, the new chain starts there: every revision stays covered
NFULL=$(ls "$S"/*.manifest.json | wc -l)
rep_start --full-interval 2s
wait_for "the lock" grep -q "holding the lock" "$T/rep.log"
for i in $(seq 0 39); do ectl "$EP" put "/fi/$i" "v$i" >/dev/null; sleep 0.1; done
FI_LAST=$(rev_now)
wait_for "a segment ending at $FI_LAST" bash -c '[ "$(ls "$1" | grep -c "\.seg\.[0-9]*-$2\.segment\.json$")" = 1 ]' _ "$S" "$FI_LAST" ||
	fail full_interval_segments "no segment ends at $FI_LAST"
kill -TERM "$REP"; wait "$REP"
check full_interval_new_fulls [ "$(ls "$S"/*.manifest.json | wc -l)" -ge $((NFULL + 1)) ]
# every revision from the gap's full on is in some chain: restore each tenth
bad=""
for R in $(seq "$G_AFTER" 7 "$FI_LAST") "$FI_LAST"; do
	out=$("$RESTORE" --from "$S" --to-revision "$R" --data-dir "$T/fi-$R" 2>&1) || bad+=" $R"
	rm -rf "$T/fi-$R"
done
expect_eq full_interval_every_revision_covered "$bad" ""
# --all-members from a point: three members boot and agree with the source
i=0; ic=""; for n in pa pb pc; do PP[$i]=http://127.0.0.1:$(free_port); ic+="${ic:+,}$n=${PP[$i]}"; i=$((i + 1)); done
MID=$(( (G_AFTER + FI_LAST) / 2 ))
if "$RESTORE" --from "$S" --to-revision "$MID" --all-members "$T/all" --initial-cluster "$ic" \
	--initial-cluster-token pall >"$T/all.out" 2>&1; then
	i=0; urls=()
	for n in pa pb pc; do
		cport=$(free_port); urls+=("http://127.0.0.1:$cport")
		etcd --name "$n" --data-dir "$T/all/$n" --listen-client-urls "${urls[$i]}" --advertise-client-urls "${urls[$i]}" \
			--listen-peer-urls "${PP[$i]}" --initial-advertise-peer-urls "${PP[$i]}" \
			--initial-cluster "$ic" --initial-cluster-token pall >"$T/all-$n.log" 2>&1 &
		track_pid $!; APIDS+=($!)
		i=$((i + 1))
	done
	wait_healthy "${urls[@]}" || fail all_members_boot "the three members did not start"
	expect_eq all_members_keys_at_point "$(kv_at "${urls[2]}")" "$(kv_at "$EP" "$MID")"
	expect_eq all_members_hashkv_agree "$(hashkv "${urls[0]}" "$MID") $(hashkv "${urls[1]}" "$MID")" \
		"$(hashkv "$EP" "$MID") $(hashkv "$EP" "$MID")"
	for p in "${APIDS[@]}"; do stop_pid "$p"; done
else
	fail all_members_point "$(tail -3 "$T/all.out")"
fi
# a store alone means --to-latest
out=$("$RESTORE" --from "$S" --data-dir "$T/default-latest" 2>&1); rc=$?
expect_eq store_alone_is_latest "$rc" 0
expect_match store_alone_reports_point "$out" "point in time: revision [0-9]+"
expect_match restore_says_what_segments_do_not_carry "$out" "not carried by segments: auth changes"

log_from() { tail -n +"$1" "$T/rep.log"; }
CASE=leases
# #18.8: leases revoked after the full backup stay revoked: a restore at R
# holds exactly the leases that keys name at R (the source's, while it runs)
n0=$(($(wc -l <"$T/rep.log") + 1))
rep_start
wait_for "the lock" bash -c 'tail -n +"$1" "$2" | grep -q "holding the lock"' _ "$n0" "$T/rep.log"
LIDS=()
for i in $(seq 0 19); do
	l=$(ectl "$EP" lease grant 600 | awk '{ print $2 }'); LIDS+=("$l")
	ectl "$EP" put "/lease/k$i" v --lease "$l" >/dev/null
done
for i in $(seq 0 2 19); do ectl "$EP" lease revoke "${LIDS[$i]}" >/dev/null; done
leases_of() { ectl "$1" lease list | sed -n 's/^\([0-9a-f]\{16\}\)$/\1/p; s/^\s*\([0-9a-f]\{16\}\)\s*$/\1/p' | sort -u | tr '\n' ' '; }
SRC_LEASES=$(leases_of "$EP")
RL=$(rev_now)
wait_for "a segment reaching $RL" bash -c '[ "$(ls "$1" | sed -n "s/.*\.seg\.[0-9]*-\([0-9]*\)\.segment\.json$/\1/p" | sort -n | tail -1)" -ge "$2" ]' _ "$S" "$RL" ||
	fail leases_segment "no segment reaches $RL"
kill -TERM "$REP"; wait "$REP"
check leases_source_has_them [ "$(wc -w <<<"$SRC_LEASES")" -ge 10 ]
if restore_at rlease --to-revision "$RL"; then
	expect_eq leases_only_named_ones "$(leases_of "$R_URL")" "$SRC_LEASES"
	expect_match leases_dropped_said "$(cat "$T/rlease.restore")" "leases: [0-9]+ that no key names at revision $RL"
	expect_eq leases_keys_at_point "$(ectl "$R_URL" get /lease/ --prefix --keys-only --rev "$RL" | grep -c '^/lease/')" 10
	stop_pid "$R_PID"
else
	fail leases_restore "etcd-restore --to-revision $RL failed"
fi

CASE=full_edge
# #18.5: writes race a --full-interval full (its snapshot may hold revisions
# past its manifest's).  A timestamped writer is the ground truth: each put
# logs the time before it, its revision and the time after it.
"$TOP/build/rel/tools/eb_load" "$EP" 120 100000 edge/ >/dev/null || fail full_edge_load "eb_load failed"
n0=$(($(wc -l <"$T/rep.log") + 1))
rep_start --full-interval 2s
wait_for "the lock" bash -c 'tail -n +"$1" "$2" | grep -q "holding the lock"' _ "$n0" "$T/rep.log"
python3 - "$EP" "$T/edge.times" <<'PY'
import json, subprocess, sys, threading, time
ep, lines, lock = sys.argv[1], [], threading.Lock()
end = time.time() + 7
def writer(w):
    i = 0
    while time.time() < end:
        t0 = time.time()
        r = subprocess.run(["etcdctl", "--endpoints", ep, "put", "/edge/w%d-%d" % (w, i % 20), "v%d" % i, "-w", "json"],
                           capture_output=True, text=True)
        t1 = time.time()
        if r.returncode == 0:
            with lock:
                lines.append((t0, json.loads(r.stdout)["header"]["revision"], t1))
        i += 1
ts = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
for t in ts: t.start()
for t in ts: t.join()
with open(sys.argv[2], "w") as out:
    for t0, rev, t1 in sorted(lines, key=lambda x: x[1]):
        out.write("%.3f %d %.3f\n" % (t0, rev, t1))
PY
EDGE_LAST=$(rev_now)
wait_for "a segment ending at $EDGE_LAST" bash -c '[ "$(ls "$1" | sed -n "s/.*\.seg\.[0-9]*-\([0-9]*\)\.segment\.json$/\1/p" | sort -n | tail -1)" -ge "$2" ]' _ "$S" "$EDGE_LAST" ||
	fail full_edge_segments "no segment reaches $EDGE_LAST"
kill -TERM "$REP"; wait "$REP"
mapfile -t EDGE_FULLS < <(log_from "$n0" | sed -n 's/.*full backup \([^ ]*\) at revision.*/\1/p' | head -2)
check full_edge_fulls_taken [ "${#EDGE_FULLS[@]}" -ge 1 ]
for id in "${EDGE_FULLS[@]}"; do
	F=$(jq -r .revision "$S/$id.manifest.json")
	# what the snapshot really holds, by etcd's own tool
	zstd -dcq "$S/$id.snapshot.db.zst" >"$T/edge.db" && B=$(snap_rev "$T/edge.db") || B=$F
	rm -f "$T/edge.db"
	# its own revision, and every revision its snapshot may or may not hold
	bad=""
	for R in $(seq "$F" "$B" | head -40); do
		"$RESTORE" --from "$S" --to-revision "$R" --data-dir "$T/edge-$R" >"$T/edge.out" 2>&1 || bad+=" $R"
		rm -rf "$T/edge-$R"
	done
	expect_eq "full_edge_${F}_revisions_${F}_to_${B}_restorable" "$bad" ""
	# --to-time in the second the full was created: the revision received by then
	TS=$(jq -r .created "$S/$id.manifest.json"); TSN=$(date -u -d "$TS" +%s)
	if out=$("$RESTORE" --from "$S" --to-time "$TS" --data-dir "$T/edge-t" 2>&1); then
		RT=$(sed -n 's/^point in time: revision \([0-9]*\) .*/\1/p' <<<"$out")
		# no revision whose put began after the time; none missing that was
		# acknowledged a second before it
		FIRST_AFTER=$(awk -v t="$TSN" '$1 > t && (m == "" || $2 < m) { m = $2 } END { print m }' "$T/edge.times")
		DONE_BEFORE=$(awk -v t="$TSN" '$3 <= t - 1 { r = $2 } END { print r + 0 }' "$T/edge.times")
		check "full_edge_${F}_to_time_nothing_later" bash -c '[ -n "$1" ] && { [ -z "$2" ] || [ "$1" -lt "$2" ]; }' _ "$RT" "$FIRST_AFTER"
		check "full_edge_${F}_to_time_nothing_missing" [ "${RT:-0}" -ge "$DONE_BEFORE" ]
	else
		fail "full_edge_${F}_to_time" "$(tail -2 <<<"$out")"
	fi
	rm -rf "$T/edge-t"
done

CASE=prune
# Retention removes a full backup only together with its chain, and never
# the full whose chain replicate continues.  The race that made this flaky
# (#18.6), made certain: --full-interval takes a new full F right after a
# segment, with no write since, so the old chain reaches F's revision and F
# has no segment yet.  F is the live chain (replicate switched to it); a
# newer plain snapshot (the CronJob's) with keep-last 1 must not make prune
# delete it, nor make a restart continue the plain snapshot.
log_from() { tail -n +"$1" "$T/rep.log"; }
n0=$(($(wc -l <"$T/rep.log") + 1))
rep_start --full-interval 2s
wait_for "the lock" bash -c 'tail -n +"$1" "$2" | grep -q "holding the lock"' _ "$n0" "$T/rep.log"
ectl "$EP" put /tie/a 1 >/dev/null
TIE_R=$(rev_now)
wait_for "a segment ending at $TIE_R" bash -c '[ "$(ls "$1" | grep -c "\.seg\.[0-9]*-$2\.segment\.json$")" = 1 ]' _ "$S" "$TIE_R" ||
	fail prune_tie_segment "no segment ends at $TIE_R"
WAIT_S=10 wait_for "a full backup at $TIE_R" bash -c 'tail -n +"$1" "$2" | grep -q "full backup .* at revision $3 "' \
	_ "$n0" "$T/rep.log" "$TIE_R" || fail prune_tie_full "no full backup at $TIE_R: $(log_from "$n0" | tail -3)"
kill -TERM "$REP"; wait "$REP"
LIVE_ID=$(log_from "$n0" | sed -n 's/.*full backup \([^ ]*\) at revision.*/\1/p' | tail -1)
OLD_ID=$(python3 -c 'import json,sys,glob; print(min((json.load(open(f))["revision"], json.load(open(f))["id"]) for f in glob.glob(sys.argv[1]+"/*.manifest.json"))[1])' "$S")
expect_eq prune_tie_live_has_no_segment "$(ls "$S" | grep -c "^$LIVE_ID.*\.segment\.json$")" 0
ectl "$EP" put /plain x >/dev/null
PLAIN_ID=$("$BACKUP" snapshot --endpoints "$EP" --to "$S" --no-progress 2>/dev/null | sed -n 's/^backup \([^ ]*\) .*/\1/p')
[ -n "$PLAIN_ID" ] || fail prune_plain_snapshot "snapshot failed"
out=$("$BACKUP" prune --from "$S" --keep-last 1 2>&1); rc=$?
expect_eq prune_keep_last_1 "$rc" 0
expect_eq prune_old_chain_gone "$(ls "$S" | grep -c "^$OLD_ID")" 0
expect_match prune_live_chain_kept_said "$out" "keeping $LIVE_ID: its chain"
check prune_live_chain_kept [ -f "$S/$LIVE_ID.manifest.json" ]
expect_eq prune_fulls_left "$(ls "$S"/*.manifest.json | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "$S/$LIVE_ID.manifest.json" "$S/$PLAIN_ID.manifest.json" | sort | tr '\n' ' ')"
# a restart continues F, not the newer plain snapshot
n0=$(($(wc -l <"$T/rep.log") + 1))
rep_start
check prune_restart_resumes_live wait_for "the resume" bash -c 'tail -n +"$1" "$2" | grep -q "resuming the chain of full backup $3 "' \
	_ "$n0" "$T/rep.log" "$LIVE_ID"
ectl "$EP" put /after-prune/k v >/dev/null
AP=$(rev_now)
wait_for "a segment of $LIVE_ID ending at $AP" bash -c '[ "$(ls "$1" | grep -c "^$3\.seg\.[0-9]*-$2\.segment\.json$")" = 1 ]' _ "$S" "$AP" "$LIVE_ID" ||
	fail prune_live_chain_continued "no segment of $LIVE_ID ends at $AP: $(log_from "$n0" | tail -3)"
kill -TERM "$REP"; wait "$REP"
if restore_at rpruned --to-latest; then
	RL=$(last_seg_end)
	expect_match prune_latest_is_the_chain_end "$(cat "$T/rpruned.restore")" "point in time: revision $RL"
	expect_eq prune_latest_still_restores "$(kv_at "$R_URL" "$RL")" "$(kv_at "$EP" "$RL")"
	stop_pid "$R_PID"
else
	fail prune_latest_still_restores "etcd-restore --to-latest failed after prune"
fi

CASE=resume_furthest
# #18.1: a CronJob snapshot Y newer than replicate's full, then the chain
# goes on past Y; replicate stops, changes go on, etcd compacts past Y (not
# past the chain).  The restart must continue the chain that reaches
# furthest: no GAP, and the revisions written while it was down are restorable.
n0=$(($(wc -l <"$T/rep.log") + 1))
rep_start
wait_for "the resume" bash -c 'tail -n +"$1" "$2" | grep -q "resuming the chain"' _ "$n0" "$T/rep.log"
for i in $(seq 0 4); do ectl "$EP" put "/rf/a$i" "$i" >/dev/null; done
Y_ID=$("$BACKUP" snapshot --endpoints "$EP" --to "$S" --no-progress 2>/dev/null | sed -n 's/^backup \([^ ]*\) .*/\1/p')
Y_REV=$(jq -r .revision "$S/$Y_ID.manifest.json")
for i in $(seq 0 4); do ectl "$EP" put "/rf/b$i" "$i" >/dev/null; done
Q=$(rev_now)
wait_for "a segment ending at $Q" bash -c '[ "$(ls "$1" | grep -c "\.seg\.[0-9]*-$2\.segment\.json$")" = 1 ]' _ "$S" "$Q" ||
	fail resume_furthest_segment "no segment ends at $Q"
kill -TERM "$REP"; wait "$REP"
for i in $(seq 0 4); do ectl "$EP" put "/rf/down$i" "$i" >/dev/null; done
DOWN=$(rev_now)
ectl "$EP" compact $((Y_REV + 2)) >/dev/null
n0=$(($(wc -l <"$T/rep.log") + 1))
rep_start
wait_for "a segment ending at or after $DOWN" bash -c '[ "$(ls "$1" | sed -n "s/.*\.seg\.[0-9]*-\([0-9]*\)\.segment\.json$/\1/p" | sort -n | tail -1)" -ge "$2" ]' _ "$S" "$DOWN" ||
	fail resume_furthest_caught_up "no segment reaches $DOWN: $(log_from "$n0" | tail -3)"
kill -TERM "$REP"; wait "$REP"
check_fails resume_furthest_no_gap bash -c 'tail -n +"$1" "$2" | grep -q "GAP:"' _ "$n0" "$T/rep.log"
check_fails resume_furthest_not_the_plain_snapshot bash -c 'tail -n +"$1" "$2" | grep -q "resuming the chain of full backup $3 "' _ "$n0" "$T/rep.log" "$Y_ID"
RD=$((DOWN - 2))
if restore_at rdown --to-revision "$RD"; then
	expect_eq resume_furthest_down_revisions_restorable "$(kv_at "$R_URL" "$RD")" "$(kv_at "$EP" "$RD")"
	stop_pid "$R_PID"
else
	fail resume_furthest_down_revisions_restorable "etcd-restore --to-revision $RD failed"
fi
CASE=backlog
# #18.2: a backlog is caught up in bounded memory: etcd sends it as
# fragments, segments are cut at --segment-max-bytes inside a message (at a
# revision boundary), and the lock stays alive while it is worked through
BL0=$(last_seg_end)
"$TOP/build/rel/tools/eb_load" "$EP" 60 1000000 backlog/ >/dev/null || fail backlog_load "eb_load failed"
BL1=$(rev_now)
n0=$(($(wc -l <"$T/rep.log") + 1))
rep_start --segment-max-bytes 1M
peak=0
for _ in $(seq 600); do
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$REP/status" 2>/dev/null); [ -n "$hwm" ] && peak=$hwm
	[ "$(last_seg_end)" -ge "$BL1" ] 2>/dev/null && break
	sleep 0.1
done
kill -TERM "$REP"; wait "$REP"; rc=$?
expect_eq backlog_stop_exit_0 "$rc" 0
check backlog_caught_up [ "$(last_seg_end)" -ge "$BL1" ]
if [ "${EB_FLAVOUR:-rel}" = rel ]; then
	check backlog_peak_rss_under_64MiB test "$peak" -gt 0 -a "$peak" -le 65536
else
	echo "SKIP backlog_peak_rss_under_64MiB: the $EB_FLAVOUR build's shadow memory and quarantine inflate RSS; the rel run checks it"
fi
echo "backlog: peak RSS ${peak} KiB for $(( (BL1 - BL0) )) revisions of 1 MB"
big=$(for m in "$S"/*.segment.json; do jq -r '"\(.first_revision) \(.plain_size)"' "$m"; done |
	awk -v f="$BL0" '$1 > f && $2 > 2700000 { n++ } END { print n + 0 }')
expect_eq backlog_segments_bounded "$big" 0
check_fails backlog_no_lost_lock bash -c 'tail -n +"$1" "$2" | grep -q "lost the lock"' _ "$n0" "$T/rep.log"
if restore_at rbacklog --to-revision "$BL1"; then
	expect_eq backlog_restore_equal "$(ectl "$R_URL" get backlog/ --prefix -w json --rev "$BL1" | jq -c '[.kvs[] | [.key, (.value | length), .mod_revision]]')" \
		"$(ectl "$EP" get backlog/ --prefix -w json --rev "$BL1" | jq -c '[.kvs[] | [.key, (.value | length), .mod_revision]]')"
	stop_pid "$R_PID"
else
	fail backlog_restore "etcd-restore --to-revision $BL1 failed"
fi
exit $((_NFAIL > 0))
