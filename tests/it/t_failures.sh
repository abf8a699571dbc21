#!/usr/bin/env bash
# Failure paths: a NOSPACE alarm, etcd killed in the middle of a large
# snapshot, a frozen member, bad flags, unreachable endpoints.  Each gives a
# clear error and a non-zero exit, never hangs, and leaves nothing in the
# store.
# san: yes
. "$(dirname "$0")/../lib.sh"

no_files() { [ ! -e "$1" ] || [ -z "$(ls -A "$1")" ]; }

CASE=flags
"$BACKUP" snapshot --bogus 2>"$T/f1"; expect_eq "unknown flag exits 2" "$?" 2
expect_match "unknown flag is named" "$(cat "$T/f1")" "unknown flag --bogus"
"$BACKUP" snapshot --to "$T/s" --compression-level 50 2>"$T/f2"; expect_eq "bad level exits 2" "$?" 2
expect_match "bad level message gives the range" "$(cat "$T/f2")" "1\.\.19"
"$BACKUP" snapshot --to "" 2>"$T/f3"; expect_eq "empty --to exits 2" "$?" 2
"$BACKUP" list --from "ftp://x/y" 2>"$T/f4"; expect_eq "unknown store scheme exits 2" "$?" 2
"$BACKUP" list --backup x --from "$T/s" 2>"$T/f5"; expect_eq "flag of another command exits 2" "$?" 2
expect_match "says the flag does not apply" "$(cat "$T/f5")" "does not apply"
"$BACKUP" snapshot --to "$T/s" --command-timeout soon 2>/dev/null; expect_eq "bad duration exits 2" "$?" 2
"$BACKUP" frobnicate 2>/dev/null; expect_eq "unknown command exits 2" "$?" 2
check "--help works for every command" bash -c "for c in snapshot status list get verify prune; do '$BACKUP' \$c --help >/dev/null || exit 1; done"
check "no store was created by bad flags" no_files "$T/s"

CASE=unreachable
P1=$(free_port)
t0=$SECONDS
"$BACKUP" snapshot --endpoints "http://127.0.0.1:$P1" --to "$T/s" 2>"$T/u1"
expect_eq "unreachable endpoint exits 3" "$?" 3
expect_match "unreachable message names the endpoint and the cause" "$(cat "$T/u1")" "127.0.0.1:$P1.*Connection refused"
"$BACKUP" status --endpoints "http://127.0.0.1:$P1" >/dev/null 2>&1
expect_eq "status of an unreachable endpoint exits 3" "$?" 3
check "unreachable fails fast" test $((SECONDS - t0)) -lt 10
check "nothing written for an unreachable endpoint" no_files "$T/s"

CASE=kill-midstream
etcd_cluster k 1 --quota-backend-bytes 8589934592
EP=${CL_URLS[0]}
"$TOP/build/rel/tools/eb_load" "$EP" 400 1000000 big/ || die "load failed"
( "$BACKUP" snapshot --endpoints "$EP" --to "$T/kstore" --compression-level 9 >"$T/k.out" 2>"$T/k.err"; echo $? >"$T/k.rc" ) &
BGPID=$!
# wait until the backup is writing (its hidden temp file grows), then kill etcd
for _ in $(seq 200); do
	f=$(ls -A "$T/kstore" 2>/dev/null | head -1)
	[ -n "$f" ] && [ "$(stat -c %s "$T/kstore/$f" 2>/dev/null || echo 0)" -gt 1000000 ] && break
	sleep 0.05
done
kill -9 "${CL_PIDS[0]}"
wait "$BGPID"
rc=$(cat "$T/k.rc")
check "etcd killed mid-snapshot: non-zero exit" test "$rc" -ne 0
expect_eq "killed mid-snapshot exits 3 (unavailable)" "$rc" 3
expect_match "message says the stream broke" "$(cat "$T/k.err")" "snapshot \(after [0-9]+ bytes\) failed"
check "killed mid-snapshot: store holds nothing (no object, manifest or temp file)" no_files "$T/kstore"

CASE=frozen
etcd_cluster f 1 --quota-backend-bytes 8589934592
EP=${CL_URLS[0]}
"$TOP/build/rel/tools/eb_load" "$EP" 300 1000000 big/ || die "load failed"
( "$BACKUP" snapshot --endpoints "$EP" --to "$T/fstore" --snapshot-idle-timeout 3s --compression-level 9 >"$T/z.out" 2>"$T/z.err"; echo $? >"$T/z.rc" ) &
BGPID=$!
for _ in $(seq 200); do
	f=$(ls -A "$T/fstore" 2>/dev/null | head -1)
	[ -n "$f" ] && [ "$(stat -c %s "$T/fstore/$f" 2>/dev/null || echo 0)" -gt 1000000 ] && break
	sleep 0.05
done
t0=$SECONDS
kill -STOP "${CL_PIDS[0]}"
wait "$BGPID"
kill -CONT "${CL_PIDS[0]}"
rc=$(cat "$T/z.rc")
check "frozen member: gives up within 20 s" test $((SECONDS - t0)) -lt 20
check "frozen member: non-zero exit" test "$rc" -ne 0
expect_match "frozen member: message says it stalled" "$(cat "$T/z.err")" "stalled|keepalive|timed out|Deadline"
check "frozen member: store holds nothing" no_files "$T/fstore"

CASE=nospace
etcd_cluster q 1 --quota-backend-bytes 3000000
EP=${CL_URLS[0]}
"$TOP/build/rel/tools/eb_load" "$EP" 100 500000 fill/ 2>/dev/null
ectl "$EP" alarm list | grep -q NOSPACE || die "NOSPACE alarm was not raised"
"$BACKUP" status --endpoints "$EP" >"$T/q.out" 2>"$T/q.err"
expect_eq "status with a NOSPACE alarm exits 7" "$?" 7
expect_match "status table shows NOSPACE" "$(cat "$T/q.out")" "NOSPACE"
expect_match "status message says what to do" "$(cat "$T/q.err")" "alarm NOSPACE is raised on member .*defragment"
"$BACKUP" status --endpoints "$EP" -o json >"$T/q.json" 2>/dev/null
expect_eq "status json: healthy false" "$(jq -r .healthy "$T/q.json")" false
expect_eq "status json: alarm NOSPACE" "$(jq -r '.alarms[0].alarm' "$T/q.json")" NOSPACE
"$BACKUP" snapshot --endpoints "$EP" --to "$T/qstore" >/dev/null 2>"$T/q2.err"
expect_eq "a NOSPACE member is still backed up when it is the only one" "$?" 0
expect_match "with a warning" "$(cat "$T/q2.err")" "WARN.*NOSPACE"
