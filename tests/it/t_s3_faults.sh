#!/usr/bin/env bash
# Retries: the S3 store goes through a fault-injecting TCP proxy
# (tests/tools/faultproxy.py) in front of RGW.  503 SlowDown answers,
# connections reset at once, uploads cut mid-part and downloads cut mid-body
# are retried (downloads resume with Range, also from a server that ignores
# Range) and the data arrives intact; a
# CompleteMultipartUpload answered "200 OK" with an error body is retried;
# a server that stays down gives a clean, bounded failure; auth errors are
# not retried.
# san: yes
# tsan: yes
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/rgw.sh"
[ -x "$S3TOOL" ] || die "no $S3TOOL (make first)"
rgw_start || die "RGW did not start"
B=bk-faults
s3cli s3 mb "s3://$B" >/dev/null || die "make bucket"
MiB=1048576
faultproxy_start pass || die "faultproxy did not start"
P="http://127.0.0.1:$PP"
U="s3://$B/c1"
pt() { EB_S3_PART_SIZE=$((5 * MiB)) "$S3TOOL" --endpoint "$P" "$@"; }
head -c $((12 * MiB + 777)) /dev/urandom >"$T/data"

CASE=503; echo "case 503 at $SECONDS" >&2
echo "503 4" >"$CTL"
out=$(pt put "$U" slowdown.bin <"$T/data" 2>&1)
expect_eq 503-retried-upload-succeeds "$out" "parts 3"
expect_eq 503-all-faults-used "$(cat "$CTL")" pass
s3t get "$U" slowdown.bin | cmp -s - "$T/data" && pass 503-data-intact || fail 503-data-intact differs

CASE=reset; echo "case reset at $SECONDS" >&2
echo "reset 3" >"$CTL"
out=$(pt put "$U" reset.bin <"$T/data" 2>&1)
expect_eq reset-retried-upload-succeeds "$out" "parts 3"
s3t get "$U" reset.bin | cmp -s - "$T/data" && pass reset-data-intact || fail reset-data-intact differs

CASE=drop; echo "case drop at $SECONDS" >&2
n0=$(grep -c 'cut connection' "$T/proxy.log")
echo "drop 3 2000000" >"$CTL"
out=$(pt put "$U" dropped.bin <"$T/data" 2>&1)
expect_eq drop-mid-part-upload-succeeds "$out" "parts 3"
n1=$(grep -c 'cut connection' "$T/proxy.log")
[ "$n1" -gt "$n0" ] && pass drop-really-cut || fail drop-really-cut "no connection was cut"
s3t get "$U" dropped.bin | cmp -s - "$T/data" && pass drop-data-intact || fail drop-data-intact differs
expect_eq drop-no-pending-upload "$(pending_uploads "$B")" 0

CASE=cutresp; echo "case cutresp at $SECONDS" >&2
n0=$(grep -c 'cut connection' "$T/proxy.log")
echo "cutresp 2 3000000" >"$CTL"
pt get "$U" dropped.bin >"$T/got" 2>"$T/get.err"
cmp -s "$T/got" "$T/data" && pass get-resumed-after-cut || fail get-resumed-after-cut "$(cat "$T/get.err")"
n1=$(grep -c 'cut connection' "$T/proxy.log")
[ "$n1" -gt "$n0" ] && pass get-really-cut || fail get-really-cut "no connection was cut"

CASE=complete200; echo "case complete200 at $SECONDS" >&2
# S3 may answer CompleteMultipartUpload with 200 and an <Error> body: that
# is a failure (retried: InternalError), never a stored object
echo "complete200 1" >"$CTL"
out=$(pt put "$U" c200.bin <"$T/data" 2>&1)
expect_eq complete200-retried-upload-succeeds "$out" "parts 3"
expect_eq complete200-fault-used "$(cat "$CTL")" pass
s3t get "$U" c200.bin | cmp -s - "$T/data" && pass complete200-data-intact || fail complete200-data-intact differs
echo "complete200 50" >"$CTL"
out=$(EB_S3_MAX_ATTEMPTS=3 pt put "$U" c200-never.bin <"$T/data" 2>&1); rc=$?
echo pass >"$CTL"
[ $rc -ne 0 ] && pass complete200-persistent-fails || fail complete200-persistent-fails "exit 0: $out"
expect_match complete200-persistent-message "$out" 'S3 CompleteMultipartUpload s3://'"$B"'/c1/c200-never.bin: 200 InternalError.*gave up after 3 attempts'
expect_eq complete200-persistent-no-object "$(object_count "$B" c1/c200-never.bin)" 0
expect_eq complete200-persistent-upload-aborted "$(pending_uploads "$B")" 0

CASE=range-ignored; echo "case range-ignored at $SECONDS" >&2
# the resumed GET reaches a server that ignores Range (the proxy drops the
# header and signs again): a full 200 answer whose first bytes were
# already delivered must be skipped, not written twice
echo "cutresp 1 3000000; norange 1" >"$CTL"
pt get "$U" dropped.bin >"$T/got2" 2>"$T/get2.err"
cmp -s "$T/got2" "$T/data" && pass get-resumed-when-range-ignored || fail get-resumed-when-range-ignored "$(cat "$T/get2.err")"
expect_eq range-ignored-faults-used "$(cat "$CTL")" pass
expect_match range-ignored-really-ignored "$(cat "$T/proxy.log")" "faultproxy: norange"
expect_eq range-ignored-proxy-no-error "$(grep -c Traceback "$T/proxy.log")" 0

CASE=list-503; echo "case list-503 at $SECONDS" >&2
echo "503 2" >"$CTL"
expect_eq list-retried "$(pt list "$U" | wc -l)" 4

CASE=auth-not-retried; echo "case auth-not-retried at $SECONDS" >&2
echo pass >"$CTL"
t0=$EPOCHREALTIME
out=$(AWS_SECRET_ACCESS_KEY=nope pt put "$U" auth.bin <"$T/data" 2>&1); rc=$?
t1=$EPOCHREALTIME
[ $rc -ne 0 ] && pass auth-error-fails || fail auth-error-fails "exit 0"
awk -v a="$t0" -v b="$t1" 'BEGIN{exit !(b-a < 2)}' && pass auth-error-not-retried || fail auth-error-not-retried "took $t0..$t1"
expect_match auth-error-message "$out" 'SignatureDoesNotMatch'

CASE=persistent-503; echo "case persistent-503 at $SECONDS" >&2
echo "503 100" >"$CTL"
t0=$SECONDS
out=$(EB_S3_MAX_ATTEMPTS=3 pt put "$U" never.bin <"$T/data" 2>&1); rc=$?
[ $rc -ne 0 ] && pass persistent-503-fails || fail persistent-503-fails "exit 0"
expect_match persistent-503-message "$out" 'unavailable: S3 CreateMultipartUpload .*503 SlowDown.*gave up after 3 attempts'
[ $((SECONDS - t0)) -lt 30 ] && pass persistent-503-bounded || fail persistent-503-bounded "took $((SECONDS - t0))s"
echo pass >"$CTL"

CASE=agent-logs-retries; echo "case agent retries at $SECONDS" >&2
# the agent itself through the proxy: a retried request is logged (WARN)
# and the command still succeeds
echo "503 2" >"$CTL"
"$BACKUP" list --from "$U" --s3-endpoint "$P" >"$T/al.out" 2>"$T/al.err"
expect_eq agent-list-through-503s-succeeds "$?" 0
expect_match agent-logs-each-retry "$(cat "$T/al.err")" "WARN store .*503.*retrying \(attempt 2 of"
echo pass >"$CTL"
expect_eq persistent-503-no-object "$(object_count "$B" c1/never.bin)" 0

CASE=server-gone; echo "case server-gone at $SECONDS" >&2
rgw_stop_gw
t0=$SECONDS
out=$(EB_S3_MAX_ATTEMPTS=4 "$S3TOOL" --endpoint "$S3_ENDPOINT" put "$U" gone.bin <"$T/data" 2>&1); rc=$?
[ $rc -ne 0 ] && pass server-gone-fails || fail server-gone-fails "exit 0"
expect_match server-gone-message "$out" "unavailable: S3 (PutObject|CreateMultipartUpload) s3://$B/c1/gone.bin at http://127.0.0.1:$RGW_PORT: .*(onnect|refused).*gave up after 4 attempts"
[ $((SECONDS - t0)) -lt 30 ] && pass server-gone-bounded || fail server-gone-bounded "took $((SECONDS - t0))s"
exit 0
