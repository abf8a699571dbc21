#!/usr/bin/env bash
# The S3 store against a real, strict S3 server (Ceph RGW on loopback),
# driven through tests/tools/s3tool: single PUT and streaming multipart
# uploads read back with the aws CLI, awkward keys, listing with
# continuation, delete, failures that must leave nothing behind (no object,
# no pending multipart upload), wrong and unknown keys, abort of stale
# incomplete uploads, compat switches, virtual-hosted addressing.
# san: yes
# tsan: yes
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/rgw.sh"
[ -x "$S3TOOL" ] || die "no $S3TOOL (make first)"
RGW_TLS=1 rgw_start || die "RGW did not start (see $T/rgw/log)"
B=bk-store
s3cli s3 mb "s3://$B" >/dev/null || die "make bucket"
U="s3://$B/cluster-a"
MiB=1048576

# ---- single PUT
CASE=small
echo "hello etcd" >"$T/small"
out=$(s3t put "$U" small.txt <"$T/small" 2>&1)
expect_eq small-put-single "$out" "parts 0"
s3cli s3 cp "s3://$B/cluster-a/small.txt" "$T/small.back" >/dev/null 2>&1
check small-readback-aws cmp "$T/small" "$T/small.back"
s3t get "$U" small.txt >"$T/small.get"
check small-get cmp "$T/small" "$T/small.get"

# ---- streaming multipart: 3 full parts + tail, 5 MiB parts
head -c $((15 * MiB + 12345)) /dev/urandom >"$T/big"
out=$(EB_S3_PART_SIZE=$((5 * MiB)) s3t put "$U" big.bin <"$T/big" 2>&1)
expect_eq multipart-4-parts "$out" "parts 4"
etag=$(s3cli s3api head-object --bucket "$B" --key cluster-a/big.bin --query ETag --output text)
expect_match multipart-etag-says-4-parts "$etag" '-4"?$'
s3cli s3 cp "s3://$B/cluster-a/big.bin" "$T/big.back" >/dev/null 2>&1
check multipart-readback-aws cmp "$T/big" "$T/big.back"
s3t get "$U" big.bin >"$T/big.get"
check multipart-get cmp "$T/big" "$T/big.get"

# exactly two parts: no empty trailing part
head -c $((10 * MiB)) /dev/urandom >"$T/two"
out=$(EB_S3_PART_SIZE=$((5 * MiB)) s3t put "$U" two.bin <"$T/two" 2>&1)
expect_eq multipart-exact-2-parts "$out" "parts 2"
s3t get "$U" two.bin | cmp - "$T/two" && pass multipart-exact-readback || fail multipart-exact-readback differs

# part size doubling (every 2000 parts; every 2 here): 5,5,10,10,2 MiB
head -c $((32 * MiB)) /dev/urandom >"$T/grow"
out=$(EB_S3_PART_SIZE=$((5 * MiB)) EB_S3_PART_DOUBLE_EVERY=2 s3t put "s3://$B/growth" grow.bin <"$T/grow" 2>&1)
expect_eq multipart-doubling-5-parts "$out" "parts 5"
# (RGW ignores HEAD ?partNumber, so the sizes show in the count: 5 MiB
# parts without doubling would make 7; and the ETag carries the count)
etag=$(s3cli s3api head-object --bucket "$B" --key growth/grow.bin --query ETag --output text)
expect_match multipart-doubling-etag-says-5-parts "$etag" '-5"?$'
s3t get "s3://$B/growth" grow.bin | cmp - "$T/grow" && pass multipart-doubling-readback || fail multipart-doubling-readback differs

# empty object
out=$(s3t put "$U" empty.bin </dev/null 2>&1)
expect_eq empty-put "$out" "parts 0"
expect_eq empty-size "$(s3cli s3api head-object --bucket "$B" --key cluster-a/empty.bin --query ContentLength --output text)" 0

# ---- awkward keys: spaces, + = unicode, reserved characters
for k in "with space.bin" "a+b=c.bin" "ünïcödé-€-日本.bin" "odd!*'()[];:@&\$,%.bin"; do
	printf 'data for %s\n' "$k" >"$T/k"
	if s3t put "$U" "$k" <"$T/k" >/dev/null 2>&1 &&
		s3cli s3api get-object --bucket "$B" --key "cluster-a/$k" "$T/k.back" >/dev/null 2>&1 &&
		cmp -s "$T/k" "$T/k.back"; then
		pass "key '$k'"
	else
		fail "key '$k'" "put or aws read-back failed"
	fi
done
list=$(s3t list "$U" | sed -E "s/ [0-9]+ [0-9]+$//" | sort)
expect_match list-has-unicode "$list" '^ünïcödé-€-日本.bin$'
expect_match list-has-space "$list" '^with space.bin$'

# ---- listing: prefix isolation and continuation pages
echo x | s3t putbytes "s3://$B/cluster-ab" other.bin
echo x | s3t putbytes "s3://$B" top.bin
echo x | s3t putbytes "s3://$B/cluster-a/nested" x.bin
n_all=$(s3t list "$U" | wc -l)
expect_eq list-count "$n_all" 8
expect_eq list-prefix-isolation "$(s3t list "$U" | grep -c -e other.bin -e top.bin -e x.bin)" 0
expect_eq list-nested-store-apart "$(s3t list "$U/nested")" "x.bin 2 $(s3t list "$U/nested" | cut -d' ' -f3)"
n_paged=$(EB_S3_LIST_MAX_KEYS=2 s3t list "$U" | wc -l)
expect_eq list-continuation "$n_paged" "$n_all"
expect_eq list-size "$(s3t list "$U" | awk '$1=="big.bin"{print $2}')" $((15 * MiB + 12345))
mt=$(s3t list "$U" | awk '$1=="big.bin"{print $3}')
now=$(date +%s)
[ "$mt" -gt $((now - 600)) ] && [ "$mt" -le $((now + 60)) ] && pass list-mtime || fail list-mtime "mtime $mt, now $now"

# ---- put_bytes, delete
printf '{"manifest":1}' | s3t putbytes "$U" m.json
expect_eq putbytes-get "$(s3t get "$U" m.json)" '{"manifest":1}'
check delete s3t del "$U" m.json
expect_eq delete-gone "$(s3t list "$U" | grep -c m.json)" 0
out=$(s3t get "$U" m.json 2>&1); rc=$?
[ $rc -ne 0 ] && pass get-missing-fails || fail get-missing-fails "exit 0"
expect_match get-missing-message "$out" 'notfound: .*NoSuchKey'

# ---- failures leave nothing behind
out=$(EB_S3_PART_SIZE=$((5 * MiB)) s3t put "$U" failed.bin --fail-after $((12 * MiB)) <"$T/big" 2>&1); rc=$?
[ $rc -ne 0 ] && pass failed-stream-exits-nonzero || fail failed-stream-exits-nonzero "exit 0"
expect_eq failed-stream-no-object "$(object_count "$B" cluster-a/failed.bin)" 0
expect_eq failed-stream-no-pending-upload "$(pending_uploads "$B")" 0
EB_S3_PART_SIZE=$((5 * MiB)) s3t put "$U" unfinished.bin --no-finish <"$T/big" >/dev/null 2>&1
expect_eq unfinished-no-object "$(object_count "$B" cluster-a/unfinished.bin)" 0
expect_eq unfinished-no-pending-upload "$(pending_uploads "$B")" 0

# ---- wrong secret, unknown key: clear error, non-zero exit, nothing left
out=$(AWS_SECRET_ACCESS_KEY=wrong-secret-0123456789 EB_S3_PART_SIZE=$((5 * MiB)) s3t put "$U" wrong.bin <"$T/big" 2>&1); rc=$?
[ $rc -ne 0 ] && pass wrong-secret-exit || fail wrong-secret-exit "exit 0"
expect_match wrong-secret-message "$out" 'auth: S3 CreateMultipartUpload .*403 SignatureDoesNotMatch: the secret key is wrong for access key TESTACCESSKEY0000001'
[[ "$out" != *wrong-secret-0123456789* ]] && pass wrong-secret-not-printed || fail wrong-secret-not-printed "secret in output"
out=$(AWS_SECRET_ACCESS_KEY=wrong-secret-0123456789 s3t put "$U" wrong-small.bin <"$T/small" 2>&1)
expect_match wrong-secret-small-message "$out" 'PutObject .*SignatureDoesNotMatch'
out=$(AWS_ACCESS_KEY_ID=NOSUCHKEY0000000000X EB_S3_PART_SIZE=$((5 * MiB)) s3t put "$U" unknown.bin <"$T/big" 2>&1); rc=$?
[ $rc -ne 0 ] && pass unknown-key-exit || fail unknown-key-exit "exit 0"
expect_match unknown-key-message "$out" 'InvalidAccessKeyId: the server does not know access key NOSUCHKEY0000000000X'
expect_eq bad-keys-no-object "$(s3t list "$U" | grep -c -e wrong -e unknown)" 0
expect_eq bad-keys-no-pending-upload "$(pending_uploads "$B")" 0
out=$(s3t list "s3://no-such-bucket-x/p" 2>&1)
expect_match missing-bucket-message "$out" 'bucket no-such-bucket-x does not exist'

# ---- abort of stale incomplete uploads (only under the prefix)
s3cli s3api create-multipart-upload --bucket "$B" --key cluster-a/stale1 >/dev/null
s3cli s3api create-multipart-upload --bucket "$B" --key "cluster-a/stale 2+ü" >/dev/null
s3cli s3api create-multipart-upload --bucket "$B" --key cluster-b/other >/dev/null
expect_eq incomplete-count "$(s3t count-incomplete "$U")" 2
expect_eq abort-incomplete-young-kept "$(s3t abort-incomplete "$U" 3600)" 0
sleep 2
expect_eq abort-incomplete-old-aborted "$(s3t abort-incomplete "$U" 1)" 2
expect_eq abort-incomplete-other-prefix-kept "$(pending_uploads "$B")" 1

# ---- compat switches and addressing
out=$(EB_S3_PART_SIZE=$((5 * MiB)) s3t --compat md5 put "$U" md5.bin <"$T/big" 2>&1)
expect_eq compat-md5-multipart "$out" "parts 4"
s3t get "$U" md5.bin | cmp -s - "$T/big" && pass compat-md5-readback || fail compat-md5-readback differs
out=$(s3t --compat unsigned-payload put "$U" unsigned.bin <"$T/small" 2>&1)
expect_eq compat-unsigned-payload "$out" "parts 0"
out=$(s3t --compat bogus list "$U" 2>&1)
expect_match compat-unknown-refused "$out" "unknown switch 'bogus'"
# virtual-hosted style: bucket.localhost (rgw_dns_name=localhost)
out=$("$S3TOOL" --endpoint "http://localhost:$RGW_PORT" --path-style 0 list "$U" 2>&1)
expect_match virtual-hosted-list "$out" '^big.bin '
# ---- HTTPS: verified against --s3-ca-file / AWS_CA_BUNDLE, else refused
out=$("$S3TOOL" --endpoint "$S3_TLS_ENDPOINT" --ca-file "$RGW_CA" list "$U" 2>&1)
expect_match https-ca-file "$out" '^big.bin '
out=$(AWS_CA_BUNDLE=$RGW_CA "$S3TOOL" --endpoint "$S3_TLS_ENDPOINT" list "$U" 2>&1)
expect_match https-aws-ca-bundle "$out" '^big.bin '
out=$(AWS_CA_BUNDLE=$RGW_CA EB_S3_PART_SIZE=$((5 * MiB)) "$S3TOOL" --endpoint "$S3_TLS_ENDPOINT" put "$U" tls.bin <"$T/big" 2>&1)
expect_eq https-multipart "$out" "parts 4"
t0=$SECONDS
out=$("$S3TOOL" --endpoint "$S3_TLS_ENDPOINT" list "$U" 2>&1); rc=$?
[ $rc -ne 0 ] && pass https-untrusted-fails || fail https-untrusted-fails "exit 0"
expect_match https-untrusted-message "$out" 'invalid: .*not trusted: pass --s3-ca-file or set AWS_CA_BUNDLE'
[ $((SECONDS - t0)) -lt 3 ] && pass https-untrusted-not-retried || fail https-untrusted-not-retried "took $((SECONDS - t0))s"
out=$(s3t --ca-file /nonexistent/ca.pem list "$U" 2>&1)
expect_match ca-file-missing "$out" 'CA file /nonexistent/ca.pem cannot be read'
exit 0
